"""The settings schema: typed reads with defaults, migration, damaged files (no Qt)."""

from __future__ import annotations

from vocoder_studio.engine.settings import KEYS, MAX_RECENT, SCHEMA_VERSION, coerce, damage, encode, migrate


def test_typed_reads_fall_back_to_the_default() -> None:
    assert coerce(KEYS["audio/blocksize"], "1024") == 1024
    assert coerce(KEYS["audio/blocksize"], "many") == 512
    assert coerce(KEYS["audio/blocksize"], None) == 512
    assert coerce(KEYS["vocoder/params"], '{"griffin-lim": {"iterations": 8}}') == {"griffin-lim": {"iterations": 8}}
    assert coerce(KEYS["vocoder/params"], "[1, 2") == {}
    assert coerce(KEYS["vocoder/params"], "[1, 2]") == {}  # JSON, but not an object
    assert coerce(KEYS["recent_files"], "/a.wav") == ["/a.wav"]
    assert coerce(KEYS["window/state"], "text") == b""
    assert coerce(KEYS["vocoder/device"], ["a", "b"]) == "auto"


def test_json_values_round_trip() -> None:
    key = KEYS["vocoder/params"]
    value = {"hifigan": {"mel_match": 1}, "griffin-lim": {"iterations": 32, "momentum": 0.99}}
    assert coerce(key, encode(key, value)) == value


def test_version_1_settings_migrate() -> None:
    v1 = {"recent_files": [f"/f{i}.wav" for i in range(15)], "last_folder": "/music"}
    out = migrate(v1, 1)
    assert out["recent_files"] == [f"/f{i}.wav" for i in range(MAX_RECENT)] and out["last_folder"] == "/music"
    assert migrate({"recent_files": "/one.wav"}, 1)["recent_files"] == ["/one.wav"]
    assert migrate(v1, SCHEMA_VERSION) == v1 and migrate(v1, SCHEMA_VERSION + 5) == v1


def test_damage_is_found() -> None:
    assert damage(b"[General]\nschema=2\nrecent_files=/a.wav, /b.wav\n; note\n\n") is None
    assert damage(b"\x00\xff\xfe garbage") is not None
    assert damage(b"[General]\nschema=2\x01\n") is not None
    assert "line 3" in (damage(b"[General]\nschema=2\nthis is not a setting\n") or "")

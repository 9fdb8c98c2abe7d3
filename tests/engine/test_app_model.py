"""The application model without Qt: documents, current / active, vocoder choice, transport state, clipboard and
messages, each announced by its event."""

from __future__ import annotations

import numpy as np

from vocoder_studio.audio.mel import DEFAULT_CONFIG
from vocoder_studio.document import Document, Region
from vocoder_studio.engine.app_model import AppModel, Clip
from vocoder_studio.engine.events import Event
from vocoder_studio.vocoders.choice import VocoderChoice


def _doc(frames: int = 40) -> Document:
    return Document(np.full((DEFAULT_CONFIG.n_mels, frames), -5.0, np.float32))


def test_an_event_calls_each_callback_once_in_order_until_disconnected() -> None:
    event: Event[int] = Event()
    calls: list[tuple[str, int]] = []
    first, second = (lambda v: calls.append(("a", v))), (lambda v: calls.append(("b", v)))
    event.connect(first)
    event.connect(second)
    event.connect(first)
    event.emit(1)
    event.disconnect(first)
    event.emit(2)
    assert calls == [("a", 1), ("b", 1), ("b", 2)]


def test_documents_are_added_edited_and_removed_with_events() -> None:
    model = AppModel(interactive=False)
    seen: list[tuple[str, object]] = []
    model.events.added.connect(lambda doc, path: seen.append(("added", doc)))
    model.events.edited.connect(lambda doc: seen.append(("edited", doc)))
    model.events.removed.connect(lambda doc: seen.append(("removed", doc)))
    model.events.current.connect(lambda doc: seen.append(("current", doc)))
    doc, other = _doc(), _doc()
    model.add(doc)
    model.add(doc)  # already open: nothing happens
    model.add(other)
    model.current = model.active = doc
    assert model.documents == [doc, other] and model.document(other.uid) is other
    doc.write(Region(0, 10, 0, 10), np.zeros((10, 10), np.float32))
    model.remove(doc)
    assert model.documents == [other] and model.current is None and model.active is None
    doc.write(Region(0, 10, 0, 10), np.ones((10, 10), np.float32))  # closed: no longer relayed
    assert seen == [("added", doc), ("added", other), ("current", doc), ("edited", doc), ("removed", doc),
                    ("current", None)]


def test_the_vocoder_choice_keeps_each_vocoders_parameters() -> None:
    model = AppModel()
    choices: list[VocoderChoice] = []
    model.events.vocoder.connect(choices.append)
    model.set_vocoder(VocoderChoice.make("hifigan", "cpu"), {"griffin-lim": {"iterations": 8}, "hifigan": {}})
    assert choices == [VocoderChoice.make("hifigan", "cpu")]
    assert model.choice_for("griffin-lim") == VocoderChoice.make("griffin-lim", "cpu", iterations=8)
    assert model.choice_for("melgan") == VocoderChoice.make("melgan", "cpu")


def test_transport_clipboard_and_messages_announce_themselves() -> None:
    model = AppModel()
    seen: list[object] = []
    model.events.playing.connect(seen.append)
    model.events.commands.connect(lambda: seen.append("commands"))
    model.events.status.connect(seen.append)
    model.events.error.connect(lambda m: seen.append(("error", m)))
    model.playing = True
    model.playing = True  # no change, no event
    model.clipboard = Clip(np.zeros((3, 4), np.float32), 2)
    model.say("saved")
    model.fail("x.wav: not audio")
    assert seen == [True, "commands", "saved", ("error", "x.wav: not audio")]
    assert model.clipboard is not None and model.clipboard.band0 == 2

"""The parameter schema: parsing, range checks and the messages users see."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from vocoder_studio.vocoders.params import Parameter, ParameterError, parse_assignments, resolve

ITERATIONS = Parameter("iterations", "int", 32, "iterations", min=1, max=1000)
MOMENTUM = Parameter("momentum", "float", 0.99, "momentum", min=0.0, max=0.999)
PRECISION = Parameter("precision", "choice", "float32", "precision", choices=("float32", "bfloat16"))
FLAG = Parameter("flag", "bool", False, "a switch")
SCHEMA = (ITERATIONS, MOMENTUM, PRECISION, FLAG)


def test_parse_good_values() -> None:
    assert ITERATIONS.parse(" 8 ") == 8 and isinstance(ITERATIONS.parse("8"), int)
    assert MOMENTUM.parse("0.5") == 0.5
    assert PRECISION.parse("bfloat16") == "bfloat16"
    assert FLAG.parse("on") is True and FLAG.parse("False") is False


@pytest.mark.parametrize(("param", "text", "message"), [
    (ITERATIONS, "-3", r"iterations must be an integer in \[1, 1000\], got -3"),
    (ITERATIONS, "0", r"iterations must be an integer in \[1, 1000\], got 0"),
    (ITERATIONS, "2.5", "iterations must be an integer"),
    (ITERATIONS, "many", "got 'many'"),
    (MOMENTUM, "1.5", r"momentum must be a number in \[0, 0.999\]"),
    (MOMENTUM, "nan", "momentum must be a number"),
    (PRECISION, "float16", "precision must be one of float32, bfloat16, got 'float16'"),
    (FLAG, "maybe", "flag must be true or false"),
])
def test_bad_values_name_the_parameter_and_its_range(param: Parameter, text: str, message: str) -> None:
    with pytest.raises(ParameterError, match=message):
        param.parse(text)


def test_wrong_python_types_are_refused() -> None:
    for param, value in [(ITERATIONS, "8"), (ITERATIONS, True), (MOMENTUM, "0.5"), (PRECISION, 1), (FLAG, 1)]:
        with pytest.raises(ParameterError):
            param.validate(value)
    assert ITERATIONS.validate(8.0) == 8  # a whole float is an int


def test_resolve_fills_defaults_and_refuses_unknown_names() -> None:
    assert resolve(SCHEMA, {"iterations": 4}, "gl") == {"iterations": 4, "momentum": 0.99, "precision": "float32",
                                                       "flag": False}
    with pytest.raises(ParameterError, match="gl: unknown parameter.*colour.*parameters: iterations"):
        resolve(SCHEMA, {"colour": "red"}, "gl")


def test_assignments() -> None:
    assert parse_assignments(SCHEMA, ["iterations=4", "flag=yes"], "gl") == {"iterations": 4, "flag": True}
    for bad in ["iterations", "=4", "colour=red"]:
        with pytest.raises(ParameterError, match="gl: "):
            parse_assignments(SCHEMA, [bad], "gl")


def test_json_shape_omits_absent_keys() -> None:
    assert ITERATIONS.to_json() == {"type": "int", "default": 32, "min": 1, "max": 1000, "help": "iterations"}
    assert PRECISION.to_json() == {"type": "choice", "default": "float32", "choices": ["float32", "bfloat16"],
                                   "help": "precision"}


def test_a_bad_declaration_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="invalid default"):
        Parameter("x", "int", 0, "x", min=1)
    with pytest.raises(ValueError, match="kind"):
        Parameter("x", "str", "a", "x")


@given(st.integers(-10**6, 10**6))
def test_int_parse_accepts_exactly_the_range(value: int) -> None:
    inside = 1 <= value <= 1000
    try:
        assert ITERATIONS.parse(str(value)) == value and inside
    except ParameterError:
        assert not inside


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_float_validate_accepts_exactly_the_finite_range(value: float) -> None:
    inside = math.isfinite(value) and 0.0 <= value <= 0.999
    try:
        assert MOMENTUM.validate(value) == value and inside
    except ParameterError:
        assert not inside


@given(st.text(max_size=20))
def test_any_text_is_a_value_or_a_parameter_error(text: str) -> None:
    for param in SCHEMA:
        try:
            param.parse(text)
        except ParameterError:
            pass

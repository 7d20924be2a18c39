"""Config: defaults, validation messages naming the field, JSON round trip."""

from __future__ import annotations

import json

import pytest

from gradlab.core import FIELDS, Config


def test_defaults_are_the_vanishing_scene():
    config = Config()
    assert (config.cell, config.activation, config.w_rec_scale, config.seq_len) == ("rnn", "tanh", 0.5, 100)
    assert config.iterations is None


def test_round_trip_through_json():
    config = Config(cell="lstm", truncation=20, iterations=7, dtype="float32", lr=0.5)
    assert Config.from_dict(json.loads(json.dumps(config.to_dict()))) == config


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("cell", "elman"),
        ("cell", 3),
        ("activation", "softplus"),
        ("hidden_size", 0),
        ("hidden_size", 1.5),
        ("hidden_size", True),
        ("hidden_size", "64"),
        ("seq_len", 1),
        ("seq_len", 10**6),
        ("w_rec_scale", 0.0),
        ("w_rec_scale", float("nan")),
        ("w_rec_scale", float("inf")),
        ("lr", -0.1),
        ("weight_decay", 2.0),
        ("clip", "yes"),
        ("clip_threshold", 0.0),
        ("truncation", 0),
        ("dtype", "float16"),
        ("seed", -1),
        ("iterations", 0),
        ("batch_size", None),
    ],
)
def test_bad_values_name_the_field_and_the_range(field, value):
    with pytest.raises(ValueError) as error:
        Config(**{field: value})
    message = str(error.value)
    assert message.startswith(f"{field}:")
    assert "allowed" in message


def test_integral_floats_are_accepted_as_ints():
    assert Config(hidden_size=32.0).hidden_size == 32
    assert isinstance(Config(w_rec_scale=1).w_rec_scale, float)


def test_unknown_fields_are_refused():
    with pytest.raises(ValueError, match="unknown field"):
        Config.from_dict({"cel": "rnn"})
    with pytest.raises(ValueError, match="unknown field"):
        Config().replace(colour="red")
    with pytest.raises(ValueError, match="expected an object"):
        Config.from_dict(["rnn"])


def test_frozen_and_differences():
    config = Config()
    with pytest.raises(AttributeError):
        config.cell = "lstm"  # type: ignore[misc]
    other = config.replace(cell="gru", seed=3)
    assert config.differences(other) == {"cell": ("rnn", "gru"), "seed": (0, 3)}


def test_every_field_has_a_spec():
    assert list(FIELDS) == list(Config().to_dict())


def test_runs_too_large_for_memory_are_refused_up_front():
    with pytest.raises(ValueError, match="GiB per update"):
        Config(cell="lstm", hidden_size=1024, seq_len=10000, batch_size=1024)
    assert Config(cell="lstm", hidden_size=512, seq_len=2000).update_bytes() < 3 * 2**30
    assert Config(hidden_size=256, seq_len=5000).update_bytes() < 3 * 2**30

"""Scenario files are data only: every malformed kind is refused with a message saying what is wrong."""

from __future__ import annotations

import json

import pytest

from gradlab.core import Config
from gradlab.core.scenario import MAX_BYTES, Scenario, ScenarioError, load_scenario, parse_scenario

GOOD = {"title": "Vanishing", "caption": "Look at the slope.", "config": {"cell": "rnn", "seq_len": 50}}


def test_good_scenario_round_trips(tmp_path):
    scenario = parse_scenario(json.dumps(GOOD))
    assert scenario.config == Config(seq_len=50)
    path = tmp_path / "s.json"
    path.write_text(scenario.to_json())
    assert load_scenario(path) == scenario


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", "empty"),
        ("   \n", "empty"),
        ("{not json", "not valid JSON"),
        (json.dumps(GOOD)[:-10], "not valid JSON"),
        ("[1, 2]", "expected a JSON object"),
        (json.dumps({**GOOD, "extra": 1}), "unknown field"),
        (json.dumps({"title": "t", "caption": "c"}), "missing field"),
        (json.dumps({**GOOD, "title": 5}), "title must be"),
        (json.dumps({**GOOD, "caption": ""}), "caption must be"),
        (json.dumps({**GOOD, "config": "rnn"}), "config must be an object"),
        (json.dumps({**GOOD, "config": {"cell": "transformer"}}), "cell"),
        (json.dumps({**GOOD, "config": {"seq_len": "100"}}), "seq_len"),
        (json.dumps({**GOOD, "config": {"seq_len": 10**9}}), "out of range"),
        (json.dumps({**GOOD, "config": {"w_rec_scale": 1e400}}), "Infinity"),
        ('{"title": "t", "caption": "c", "config": {"lr": NaN}}', "NaN"),
        (json.dumps({**GOOD, "config": {"secret": "__import__('os')"}}), "unknown field"),
        ("[" * 100000 + "]" * 100000, "nested too deeply"),
        (json.dumps({**GOOD, "title": "x" * 1000}), "at most"),
    ],
)
def test_malformed_scenarios_are_refused(text, expected):
    with pytest.raises(ScenarioError, match=expected):
        parse_scenario(text)


def test_huge_and_binary_files(tmp_path):
    big = tmp_path / "big.json"
    big.write_bytes(b" " * (10 * 1024 * 1024))
    with pytest.raises(ScenarioError, match="too large"):
        load_scenario(big)
    binary = tmp_path / "bin.json"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ScenarioError, match="UTF-8"):
        load_scenario(binary)
    with pytest.raises(ScenarioError, match="cannot be read"):
        load_scenario(tmp_path / "missing.json")
    with pytest.raises(ScenarioError, match="folder"):
        load_scenario(tmp_path)
    assert MAX_BYTES < 10 * 1024 * 1024


def test_scenario_is_a_value():
    scenario = parse_scenario(json.dumps(GOOD))
    assert isinstance(scenario, Scenario) and scenario.title == "Vanishing"

"""Property-based abuse of Config, scenario parsing and the CLI: a clear error or a valid value, never a crash."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gradlab.cli import main
from gradlab.core import FIELDS, Config
from gradlab.core.scenario import ScenarioError, parse_scenario

REPO = Path(__file__).resolve().parents[2]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**12), 10**12) | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=12,
)
field_values = st.dictionaries(st.sampled_from(list(FIELDS)), json_values, max_size=6)


@settings(max_examples=200, deadline=None)
@given(field_values)
def test_config_is_valid_or_names_the_field(values):
    try:
        config = Config.from_dict(values)
    except ValueError as error:
        named = str(error).split(":")[0].split(", ")
        assert named and all(name in FIELDS for name in named), str(error)
    else:
        assert Config.from_dict(config.to_dict()) == config


@settings(max_examples=300, deadline=None)
@given(
    st.dictionaries(st.sampled_from(["title", "caption", "config", "extra"]), json_values | field_values, max_size=4)
)
def test_scenario_parsing_never_crashes(document):
    text = json.dumps(document)
    try:
        scenario = parse_scenario(text)
    except ScenarioError as error:
        assert str(error).startswith("scenario:")
    else:
        assert parse_scenario(scenario.to_json()) == scenario


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200) | st.text(max_size=200))
def test_scenario_parsing_of_garbage(blob):
    with contextlib.suppress(ScenarioError):
        parse_scenario(blob)


flag = st.sampled_from(
    ["--" + name.replace("_", "-") for name in FIELDS] + ["--out", "--scenario", "--quiet", "--bogus", "-x", "run"]
)
word = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=12
) | st.sampled_from(
    ["nan", "inf", "-1", "0", "1e400", "none", "rnn", "lstm", "norm", "float16", "99999999999999999999"]
)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(flag | word, max_size=6))
def test_cli_random_arguments_exit_0_or_2_with_a_message(capsys, args):
    # Keep any run that parses cheap; the point is the parsing and the messages.
    argv = ["run", *args, "--seq-len", "3", "--hidden-size", "2", "--iterations", "1", "--quiet"]
    argv = [a for a in argv if a != "--out"]  # never write files from random input
    try:
        status = main(argv)
    except SystemExit as exit_info:  # --help / --version
        status = exit_info.code
    captured = capsys.readouterr()
    assert status in (0, 2)
    assert "Traceback" not in captured.err
    if status == 2:
        assert len(captured.err.strip().splitlines()) == 1 and captured.err.strip()


def test_cli_never_prints_a_traceback_in_a_real_process(tmp_path):
    cases = [
        ["run", "--seq-len", "0"],
        ["run", "--scenario", str(tmp_path)],
        ["run", "--out", str(tmp_path / "missing-folder" / "x.json"), "--iterations", "1", "--quiet"],
        ["--scenario", str(tmp_path / "none.json")],
    ]
    for args in cases:
        result = subprocess.run(
            [sys.executable, "-m", "gradlab", *args], capture_output=True, text=True, cwd=REPO, timeout=120
        )
        assert result.returncode == 2, (args, result.stderr)
        assert "Traceback" not in result.stderr, result.stderr
        assert len(result.stderr.strip().splitlines()) >= 1


# Special files and closed standard streams in real processes: tests/robustness/test_cli_fuzz.py.

"""Seeded fuzz of the command in real processes: special files in every file place (--scenario of
the window and of a run, --out, the settings file, GRADLAB_SHOWN_TIME_FILE) crossed with the state
of the standard streams (closed, full, a pipe whose reader has gone) and a file-size limit (a full
disk). Every example keeps the rules of ``cli_cases.judge``: it ends, with status 0, 1 or 2, no
traceback, one bounded line for an error, and the scenario or an existing --out left whole.

Derandomised: the same examples every run. 36 in the normal suite; 300 with ``-m slow``.
"""

from __future__ import annotations

import pytest
from cli_cases import SMALL, SPECIAL_KINDS, STREAMS, Case, run_case
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

SCENARIO_KINDS = [None, "scenario", "corrupt:huge-value", "corrupt:title-60-newlines", "corrupt:binary", *SPECIAL_KINDS]
OUT_KINDS = [
    None,
    "new:.csv",
    "new:.json",
    "new:.npz",
    "existing:.csv",
    "existing:.npz",
    "same-as-scenario",
    "new:.txt",
    *SPECIAL_KINDS,
]
SETTINGS_KINDS = [
    None,
    "corrupt",
    *(k for k in SPECIAL_KINDS if k not in ("long-name", "empty-name", "missing-folder")),
]
SHOWN_KINDS = [None, "new", "existing", *SPECIAL_KINDS]
# Refused before anything runs: status 2 whatever the streams and limits.
REFUSED = {k for k in SPECIAL_KINDS if k not in ("no-permission", "dangling-link")}  # root reads; a link to a new file
LIMITS: list[tuple[tuple[str, int], ...]] = [(), (), (("FSIZE", 2000),), (("FSIZE", 0),)]


@st.composite
def cases(draw: st.DrawFn) -> Case:
    command = draw(st.sampled_from(["run", "window"]))
    stream = draw(st.sampled_from(STREAMS))
    files: list[tuple[str, str]] = []
    args: list[str] = []
    scenario = draw(st.sampled_from(SCENARIO_KINDS))
    if scenario is not None:
        files.append(("scenario", scenario))
        args += ["--scenario", "{scenario}"]
    limits: tuple[tuple[str, int], ...] = ()
    refused = scenario is not None and (scenario in REFUSED or scenario.startswith("corrupt:"))
    if command == "run":
        args = ["run", *args, *SMALL]
        out = draw(st.sampled_from(OUT_KINDS))
        if out == "same-as-scenario":
            args += ["--out", "{scenario}" if scenario is not None else "{dir}/scenario.json"]
        elif out is not None:
            files.append(("out", out))
            args += ["--out", "{out}"]
        refused = refused or out in REFUSED or out in ("same-as-scenario", "new:.txt")
        limits = draw(st.sampled_from(LIMITS))
    else:
        setting = draw(st.sampled_from(SETTINGS_KINDS))
        if setting is not None:
            files.append(("settings", setting))
        shown = draw(st.sampled_from(SHOWN_KINDS))
        if shown is not None:
            files.append(("shown", shown))
    name = f"{command} {' '.join(f'{p}={k}' for p, k in files)} {stream} {limits or ''}".strip()
    allowed = frozenset({2} if refused else {0, 1, 2})
    return Case(
        "fuzz", name, tuple(args), tuple(files), stream, (), limits, window=command == "window", allowed=allowed
    )


def _check(case: Case, tmp_path) -> None:  # type: ignore[no-untyped-def]
    outcome = run_case(case, root=tmp_path)
    assert outcome.held, f"{case}: {'; '.join(outcome.broke)}\nstderr: {outcome.stderr[-600:]}"


FAST = settings(max_examples=36, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
SLOW = settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))


@FAST
@given(case=cases())
def test_special_files_and_streams(tmp_path_factory, case):
    _check(case, tmp_path_factory.mktemp("fuzz"))


@pytest.mark.slow
@SLOW
@given(case=cases())
def test_special_files_and_streams_more(tmp_path_factory, case):
    _check(case, tmp_path_factory.mktemp("fuzz"))

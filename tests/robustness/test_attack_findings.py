"""What the attack (``attack.py``) found, each as a case that failed before its fix."""

from __future__ import annotations

import pytest
from cli_cases import SMALL, Case, run_case


def _holds(case: Case, tmp_path) -> str:  # type: ignore[no-untyped-def]
    outcome = run_case(case, root=tmp_path)
    assert outcome.held, f"{case}: {'; '.join(outcome.broke)}\nstderr: {outcome.stderr[-600:]}"
    return outcome.stderr


@pytest.mark.parametrize("stream", ["stdout-full", "stdout-broken"])
def test_a_failed_save_and_a_failed_summary_are_one_line(tmp_path, stream):
    """stdout unwritable and the disk full: one line that says both, the previous file whole."""
    case = Case(
        "streams",
        "save and summary fail",
        ("run", *SMALL, "--out", "{out}"),
        (("out", "existing:.json"),),
        stream=stream,
        limits=(("FSIZE", 100),),
        allowed=frozenset({1}),
    )
    stderr = _holds(case, tmp_path)
    assert "cannot write" in stderr and "summary" in stderr

"""What the attack (``attack.py``) found, each as a case that failed before its fix."""

from __future__ import annotations

import resource

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


@pytest.mark.parametrize(
    "limit, says",
    [(("AS", 250 * 2**20), "ulimit -v"), (("FSIZE", 2000), "ulimit -f"), (("NOFILE", 8), "ulimit -n")],
    ids=["address space", "file size", "open files"],
)
def test_the_window_refuses_limits_it_cannot_work_under(tmp_path, limit, says):
    """Before: Qt's std::bad_alloc (a core dump), a simulation process that could not start (a
    traceback and a window that never ends), GLib's abort for want of a pipe."""
    stderr = _holds(Case("limits", "window", (), limits=(limit,), window=True, allowed=frozenset({2})), tmp_path)
    assert says in stderr


def test_a_low_soft_limit_on_open_files_is_raised_for_the_window():
    from gradlab.cli_checks import WINDOW_FILES, UsageError, check_window_limits

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < WINDOW_FILES:
        pytest.skip("the hard limit itself is too low here")
    resource.setrlimit(resource.RLIMIT_NOFILE, (16, hard))
    try:
        try:
            check_window_limits()
        except UsageError as error:
            assert "ulimit -n" not in str(error)  # another limit of this machine: not this test's
        assert resource.getrlimit(resource.RLIMIT_NOFILE)[0] >= WINDOW_FILES
    finally:
        resource.setrlimit(resource.RLIMIT_NOFILE, (soft, hard))

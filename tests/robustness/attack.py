"""The attack on the ``gradlab`` command: several hundred cases in real processes, by category
(bad flag values, scenario corruptions, special files, standard streams, memory and file-size
limits, signals mid-run, automation variables, the window's files), each judged by the rules of
``cli_cases.judge``. Prints, per category, how many were tried and how many held, and for every
failure the case and what broke. Exit status 1 if any case failed.

    python tests/robustness/attack.py [--workers 2] [--only CATEGORY ...] [--list]

Not a test module (pytest does not collect it): it takes minutes; ``test_cli_fuzz.py`` draws a
seeded sample of the same cases in the normal suite.
"""

from __future__ import annotations

import argparse
import signal
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import cli_cases  # noqa: E402
from cli_cases import CORRUPTIONS, SMALL, SPECIAL_KINDS, STREAMS, Case, Outcome, run_case  # noqa: E402

from gradlab.core.config import FIELDS  # noqa: E402

BAD_VALUES = (
    "",
    " ",
    "abc",
    "nan",
    "inf",
    "-inf",
    "-1",
    "0",
    "1e400",
    "1e-400",
    "9" * 5000,
    "0x10",
    "1_000",
    " 3 ",
    "3.5",
    "none",
    "\x1b[31mred",
    "é",
    "--",
    "-5e3",
)
CHOICE_VALUES = ("", "RNN", "bogus", "x" * 5000, "none", "\x1b[2J")


def flag_cases() -> Iterator[Case]:
    """Every config flag of ``run`` with bad (and borderline) values; the top-level flags too."""
    for name, spec in FIELDS.items():
        option = "--" + name.replace("_", "-")
        values = CHOICE_VALUES if spec.kind == "choice" else BAD_VALUES
        for value in values:
            if name == "iterations" and value == "none":
                continue  # a run without end, as asked: the signal cases end such runs
            yield Case("flags", f"run {option} {value[:20]!r}", ("run", *SMALL, option, value))
    for value in ("abc", "0", "-1", "9" * 5000, "", "1.5"):
        yield Case("flags", f"--exit-after-frames {value[:20]!r}", ("--exit-after-frames", value), window=True)
    for value in ("x.txt", "x", ".csv", "x.CSV", "x.json.gz", "-", "x" * 300 + ".csv", "a/../b.csv", "{dir}"):
        yield Case("flags", f"run --out {value[:20]!r}", ("run", *SMALL, "--out", value))
    odd = [
        ("run", "--bogus"),
        ("--bogus",),
        ("run", "--iterations"),
        ("run", "--scenario"),
        ("run", "extra-positional"),
        ("runn",),
        ("run", "--help"),
        ("--help",),
        ("--version",),
        ("run", "--seq-len", "5", "--seq-len", "abc"),
        ("run", "--hidden-size=8=8"),
        ("run", "--depth", "abc"),
        ("run", *SMALL, "--cell", "mlp", "--depth", "3"),
        ("run", *SMALL, "--truncation", "none", "--iterations", "2"),
        ("run", "--hidden-size", "1024", "--seq-len", "100000", "--batch-size", "64"),
        ("run", *SMALL, "--lr", "1e308"),
        ("run", *SMALL, "--w-rec-scale", "1e300"),
        ("run", *SMALL, "--dtype", "float32", "--w-rec-scale", "50", "--activation", "linear"),
    ]
    for args in odd:
        yield Case("flags", " ".join(a[:20] for a in args), args)
    phase = ("phase", "--seq-len", "10", "--hidden-size", "8", "--workers", "1", "--no-cache", "--quiet")
    axis = "w_rec_scale=0.5:1.5:2"
    for x in ("", "bogus", "w_rec_scale", "w_rec_scale=1:2", "w_rec_scale=a:b:3", "w_rec_scale=1:2:0", "cell=1:2:3"):
        yield Case("flags", f"phase --x {x!r}", (*phase, "--x", x, "--y", axis, "--out", "{dir}/m.npz"))
    for x in ("w_rec_scale=1:2:100000", "hidden_size=1:1e9:3", "w_rec_scale=nan:1:3", "w_rec_scale=1:1:3"):
        yield Case("flags", f"phase --x {x!r}", (*phase, "--x", x, "--y", axis, "--out", "{dir}/m.npz"))
    for flag, value in (("--seeds", "0"), ("--workers", "-1"), ("--trainability", "abc"), ("--seeds", "9" * 5000)):
        yield Case(
            "flags", f"phase {flag} {value[:20]!r}", (*phase, flag, value, "--x", axis, "--y", axis, "--out", "m.npz")
        )
    for out in ("m.txt", "", "{dir}", "/dev/full", "{dir}/missing/m.npz"):
        yield Case("flags", f"phase --out {out!r}", (*phase, "--x", axis, "--y", axis, "--out", out))


def scenario_cases() -> Iterator[Case]:
    """Every corruption of a scenario file, for a run and for the window."""
    for name in CORRUPTIONS:
        yield Case(
            "scenario", f"run {name}", ("run", "--scenario", "{scenario}", *SMALL), (("scenario", f"corrupt:{name}"),)
        )
        yield Case(
            "scenario", f"window {name}", ("--scenario", "{scenario}"), (("scenario", f"corrupt:{name}"),), window=True
        )
        yield Case(
            "scenario",
            f"phase {name}",
            ("phase", "--scenario", "{scenario}", "--x", "w_rec_scale=0.5:1:2", "--y", "seed=1:2:2", "--out", "m.npz")
            + ("--workers", "1", "--no-cache", "--quiet", "--seq-len", "10", "--hidden-size", "8"),
            (("scenario", f"corrupt:{name}"),),
        )


def special_file_cases() -> Iterator[Case]:
    """FIFOs, devices, folders, sockets, links, unreadable files, missing folders and long or
    empty names in every place a file is read or written."""
    kinds = (*SPECIAL_KINDS, "scenario")
    for kind in kinds:
        files = (("scenario", kind),)
        yield Case("special files", f"run --scenario {kind}", ("run", "--scenario", "{scenario}", *SMALL), files)
        yield Case("special files", f"window --scenario {kind}", ("--scenario", "{scenario}"), files, window=True)
    for kind in (*SPECIAL_KINDS, "existing", "new"):
        for suffix in (".csv", ".json", ".npz"):
            files = (("out", f"{kind}:{suffix}"),)
            yield Case("special files", f"run --out {kind} {suffix}", ("run", *SMALL, "--out", "{out}"), files)
    scene = (("scenario", "scenario"),)
    yield Case(
        "special files",
        "--out is the scenario",
        ("run", "--scenario", "{scenario}", *SMALL, "--out", "{scenario}"),
        scene,
    )
    yield Case(
        "special files",
        "--out is the scenario by another path",
        ("run", "--scenario", "{scenario}", *SMALL, "--out", "{dir}/./scenario.json"),
        scene,
    )
    for kind in (*SPECIAL_KINDS, "corrupt"):
        if kind in ("long-name", "empty-name", "missing-folder"):
            continue
        yield Case("special files", f"settings file {kind}", (), (("settings", kind),), window=True)
    for kind in (*SPECIAL_KINDS, "existing", "new"):
        yield Case("special files", f"GRADLAB_SHOWN_TIME_FILE {kind}", (), (("shown", kind),), window=True)


def stream_cases() -> Iterator[Case]:
    """Commands that succeed, fail or are refused, with each state of the standard streams."""
    commands = {
        "run": (("run", *SMALL), ()),
        "run --out": (("run", *SMALL, "--out", "{out}"), (("out", "new:.csv"),)),
        "run refused": (("run", "--seq-len", "0"), ()),
        "run fails to save": (("run", *SMALL, "--out", "{out}"), (("out", "existing:.json"),)),
        "window": ((), ()),
        "window refused": (("--scenario", "{scenario}"), (("scenario", "fifo"),)),
        "--help": (("run", "--help"), ()),
        "--version": (("--version",), ()),
        "unencodable name": (("run", *SMALL, "--out", "{dir}/résumé-日本.json"), ()),
    }
    for stream in STREAMS:
        for name, (args, files) in commands.items():
            limits: tuple[tuple[str, int], ...] = (("FSIZE", 100),) if name == "run fails to save" else ()
            env = (("PYTHONIOENCODING", "ascii"),) if name == "unencodable name" else ()
            yield Case("streams", f"{name} / {stream}", args, files, stream, env, limits, window=name == "window")


def limit_cases() -> Iterator[Case]:
    """Address-space limits (the machine cannot allocate), file-size limits (the disk fills),
    and few descriptors."""
    configs = {
        "small": SMALL,
        "big": ("--hidden-size", "1024", "--seq-len", "6000", "--batch-size", "8", "--iterations", "2", "--quiet"),
        "medium": ("--hidden-size", "256", "--seq-len", "2000", "--batch-size", "16", "--iterations", "2", "--quiet"),
        "lstm": ("--cell", "lstm", "--hidden-size", "512", "--seq-len", "3000", "--iterations", "2", "--quiet"),
    }
    for mib in (150, 300, 600, 1000):
        for name, args in configs.items():
            limits = (("AS", mib * 2**20),)
            yield Case("limits", f"RLIMIT_AS {mib} MiB, {name}", ("run", *args), limits=limits)
        yield Case("limits", f"RLIMIT_AS {mib} MiB, window", (), limits=(("AS", mib * 2**20),), window=True)
    for size in (0, 1, 100, 2000, 50_000):
        for suffix in (".csv", ".json", ".npz"):
            for kind in ("new", "existing"):
                files = (("out", f"{kind}:{suffix}"),)
                args = ("run", *SMALL[:1], "40", *SMALL[2:], "--out", "{out}")
                yield Case("limits", f"RLIMIT_FSIZE {size} {kind} {suffix}", args, files, limits=(("FSIZE", size),))
        yield Case(
            "limits",
            f"RLIMIT_FSIZE {size} SIGXFSZ default",
            ("run", *SMALL, "--out", "{out}"),
            (("out", "existing:.json"),),
            limits=(("FSIZE", size),),
            ignore_xfsz=False,
            allowed=frozenset({0, 1, 2, -signal.SIGXFSZ}),
        )
        yield Case("limits", f"RLIMIT_FSIZE {size} window", (), limits=(("FSIZE", size),), window=True)
    for count in (5, 8, 12, 20):
        yield Case(
            "limits",
            f"RLIMIT_NOFILE {count} run --out",
            ("run", *SMALL, "--out", "{out}"),
            (("out", "existing:.csv"),),
            limits=(("NOFILE", count),),
        )
        yield Case("limits", f"RLIMIT_NOFILE {count} window", (), limits=(("NOFILE", count),), window=True)


def signal_cases() -> Iterator[Case]:
    """SIGINT, SIGTERM and SIGHUP to a run under way, at several moments, once and twice."""
    endless = ("run", "--seq-len", "30", "--hidden-size", "8", "--iterations", "none", "--out", "{out}")
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        for after in (0.0, 0.05, 0.3, 1.0):
            for suffix in (".csv", ".json", ".npz"):
                files = (("out", f"new:{suffix}"),)
                name = f"{signum.name} after {after} s {suffix}"
                yield Case("signals", name, endless, files, signals=((after, signum),), allowed=frozenset())
        for gap in (0.0, 0.01, 0.1):
            files = (("out", "existing:.json"),)
            name = f"{signum.name} twice {gap} s apart"
            twice = ((0.2, signum), (0.2 + gap, signum))
            yield Case("signals", name, endless, files, signals=twice, allowed=frozenset())
        mixed = ((0.2, signum), (0.21, signal.SIGTERM if signum != signal.SIGTERM else signal.SIGINT))
        yield Case(
            "signals",
            f"{signum.name} then another",
            endless,
            (("out", "new:.csv"),),
            signals=mixed,
            allowed=frozenset(),
        )


def automation_cases() -> Iterator[Case]:
    """The variables that let scripts drive the window, with bad values."""
    for value in ("abc", "0", "-1", "1.5", "9" * 5000, "1e3", " 2 ", "0x1", "١"):
        yield Case(
            "automation",
            f"GRADLAB_EXIT_AFTER_FRAMES={value[:20]!r}",
            (),
            env=(("GRADLAB_EXIT_AFTER_FRAMES", value),),
            window=True,
        )
    for value in (
        "",
        "/",
        "/dev/full",
        "/proc/version",
        "relative.txt",
        "x" * 5000,
        "/nonexistent/x/y.txt",
        "\x1b[2J.txt",
    ):
        yield Case(
            "automation",
            f"GRADLAB_SHOWN_TIME_FILE={value[:20]!r}",
            (),
            env=(("GRADLAB_SHOWN_TIME_FILE", value),),
            window=True,
        )
    for value in ("abc", "0"):
        yield Case(
            "automation",
            f"gradlab run ignores GRADLAB_EXIT_AFTER_FRAMES={value}",
            ("run", *SMALL),
            env=(("GRADLAB_EXIT_AFTER_FRAMES", value),),
            allowed=frozenset({0}),
        )


CATEGORIES = {
    "flags": flag_cases,
    "scenario": scenario_cases,
    "special files": special_file_cases,
    "streams": stream_cases,
    "limits": limit_cases,
    "signals": signal_cases,
    "automation": automation_cases,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workers", type=int, default=2, choices=(1, 2))
    parser.add_argument("--only", nargs="*", choices=list(CATEGORIES), help="these categories only")
    parser.add_argument("--timeout", type=float, default=90.0, help="seconds before a case counts as hung")
    parser.add_argument("--match", default="", help="only the cases whose name contains this")
    parser.add_argument("--list", action="store_true", help="list the cases and stop")
    options = parser.parse_args()
    cli_cases.timeout_s = options.timeout
    cases = [case for name in (options.only or CATEGORIES) for case in CATEGORIES[name]()]
    cases = [case for case in cases if options.match in str(case)]
    if options.list:
        for case in cases:
            print(case)
        print(f"{len(cases)} cases")
        return 0
    started = time.monotonic()
    outcomes: list[Outcome] = []
    with tempfile.TemporaryDirectory(prefix="gradlab-attack-") as root, ThreadPoolExecutor(options.workers) as pool:
        futures = [pool.submit(run_case, case, Path(root)) for case in cases]
        for done, future in enumerate(as_completed(futures), 1):
            outcomes.append(future.result())
            if not outcomes[-1].held:
                print(f"FAILED {outcomes[-1].case}: {'; '.join(outcomes[-1].broke)}", flush=True)
            if done % 50 == 0:
                print(f"… {done}/{len(cases)} in {time.monotonic() - started:.0f} s", flush=True)
    tried = Counter(o.case.category for o in outcomes)
    held = Counter(o.case.category for o in outcomes if o.held)
    print(f"\n{'category':<16}{'tried':>7}{'held':>7}")
    for category in CATEGORIES:
        if tried[category]:
            print(f"{category:<16}{tried[category]:>7}{held[category]:>7}")
    print(f"{'all':<16}{sum(tried.values()):>7}{sum(held.values()):>7}   ({time.monotonic() - started:.0f} s)")
    failed = [o for o in outcomes if not o.held]
    for outcome in sorted(failed, key=lambda o: (o.case.category, o.case.name)):
        print(f"\nFAILED {outcome.case} (status {outcome.status})")
        for item in outcome.broke:
            print(f"  - {item}")
        if outcome.stderr.strip():
            print("  stderr: " + outcome.stderr.strip()[-600:].replace("\n", "\n          "))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""Cases for attacking the ``gradlab`` command in real processes, and the rules every one must keep.

A ``Case`` is the command's arguments (with ``{scenario}``, ``{out}``, ``{dir}`` standing for paths
in the case's own folder), the kinds of file to put at those paths, the state of the standard
streams, environment variables, resource limits and a signal to send. ``run_case`` makes the
files, runs the command (through a small launcher that applies the limits and closes descriptors
before it execs, so that no ``preexec_fn`` runs in a threaded caller) and ``judge`` says what broke:

- it ends within the timeout (no hang);
- its status is 0, 1 or 2, or 128 + n for a signal n the case sent;
- no traceback on stderr; an error is exactly one line of at most ~300 characters;
- a scenario or an existing ``--out`` file is never destroyed by a refused or failed command, and
  no temporary file is left next to it.

Used by ``test_cli_fuzz.py`` (hypothesis draws cases) and ``attack.py`` (enumerates them).
Standard library only: the attack runs without pytest.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

TIMEOUT_S = 180.0  # a hang still fails; a busy two-core machine must not
timeout_s = TIMEOUT_S  # the attack lowers it: hundreds of cases, each a fraction of a second
MAX_LINE = 300
SMALL = ("--iterations", "2", "--seq-len", "10", "--hidden-size", "8", "--quiet")
PREVIOUS = b"previous contents, which must survive\n"
SCENARIO_JSON = json.dumps(
    {"title": "Attack", "caption": "A small scene.", "config": {"seq_len": 10, "hidden_size": 8, "iterations": 2}}
)

# Kinds of path a file flag (or the settings file, or GRADLAB_SHOWN_TIME_FILE) can be given.
SPECIAL_KINDS = (
    "fifo",
    "link-to-fifo",
    "folder",
    "/dev/null",
    "/dev/full",
    "link-to-dev-null",
    "socket",
    "no-permission",
    "missing-folder",
    "long-name",
    "empty-name",
    "dangling-link",
)
STREAMS = (
    "normal",
    "stdout-full",
    "stdout-broken",
    "stdout-closed",
    "stderr-closed",
    "stdin-closed",
    "all-closed",
    "stderr-full",
)

# Applies resource limits, ignores SIGXFSZ when asked, closes descriptors, then becomes gradlab.
LAUNCHER = """
import json, os, resource, signal, sys
spec = json.loads(sys.argv[1])
for name, value in spec["limits"]:
    resource.setrlimit(getattr(resource, "RLIMIT_" + name), (value, value))
if spec["ignore_xfsz"]:
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # EFBIG instead of death, like a full disk
for fd in spec["close"]:
    os.close(fd)
os.execv(sys.executable, [sys.executable, "-m", "gradlab", *spec["args"]])
"""


@dataclass(frozen=True)
class Case:
    category: str
    name: str
    args: tuple[str, ...]
    files: tuple[tuple[str, str], ...] = ()  # ("scenario" | "out" | "settings" | "shown", kind)
    stream: str = "normal"
    env: tuple[tuple[str, str], ...] = ()
    limits: tuple[tuple[str, int], ...] = ()  # ("AS" | "FSIZE" | "NOFILE", value)
    ignore_xfsz: bool = True
    signals: tuple[tuple[float, int], ...] = ()  # (seconds after the first progress line, signal)
    window: bool = False  # may open the window (offscreen, GRADLAB_EXIT_AFTER_FRAMES)
    allowed: frozenset[int] = frozenset({0, 1, 2})

    def __str__(self) -> str:
        return f"{self.category}/{self.name}"


@dataclass
class Outcome:
    case: Case
    status: int | None  # None: it hung and was killed
    stderr: str
    broke: list[str] = field(default_factory=list)

    @property
    def held(self) -> bool:
        return not self.broke


# ---- the files of a case --------------------------------------------------------------------------
def make_path(folder: Path, kind: str, stem: str, suffix: str) -> str:
    """A path of ``kind`` in ``folder`` ("new", "existing", "scenario" or one of SPECIAL_KINDS)."""
    path = folder / f"{stem}{suffix}"
    if kind == "new":
        return str(path)
    if kind == "existing":
        path.write_bytes(PREVIOUS)
        return str(path)
    if kind == "scenario":
        path.write_text(SCENARIO_JSON, encoding="utf-8")
        return str(path)
    if kind.startswith("corrupt:"):
        path.write_bytes(CORRUPTIONS[kind.partition(":")[2]])
        return str(path)
    if kind == "fifo":
        os.mkfifo(path)
        return str(path)
    if kind == "link-to-fifo":
        os.mkfifo(folder / f"{stem}.fifo")
        path.symlink_to(folder / f"{stem}.fifo")
        return str(path)
    if kind == "folder":
        path.mkdir()
        return str(path)
    if kind == "link-to-dev-null":
        path.symlink_to("/dev/null")
        return str(path)
    if kind == "dangling-link":
        path.symlink_to(folder / "nowhere" / "x")
        return str(path)
    if kind == "socket":
        # A Unix socket's path must be short (108 bytes): made where the case's folder is short.
        sock = socket.socket(socket.AF_UNIX)
        try:
            sock.bind(str(path))
        except OSError:
            return str(path)
        finally:
            sock.close()
        return str(path)
    if kind == "no-permission":
        path.write_bytes(PREVIOUS)
        path.chmod(0)
        return str(path)
    if kind == "missing-folder":
        return str(folder / "missing" / f"{stem}{suffix}")
    if kind == "long-name":
        return str(folder / ("n" * 300 + suffix))
    if kind == "empty-name":
        return ""
    if kind.startswith("/dev/"):
        return kind
    raise ValueError(f"unknown kind of path: {kind}")


SUFFIX = {"scenario": ".json", "out": ".csv", "settings": ".ini", "shown": ".txt"}


def prepare(case: Case, folder: Path) -> tuple[list[str], dict[str, str], dict[str, Path], Path | None]:
    """The arguments, the environment, the files to protect (their bytes must survive a failure)
    and the file a successful run must have written (a new --out)."""
    paths: dict[str, str] = {"dir": str(folder)}
    written: Path | None = None
    protected: dict[str, Path] = {}
    env = dict(os.environ)
    for name in ("GRADLAB_EXIT_AFTER_FRAMES", "GRADLAB_SHOWN_TIME_FILE"):
        env.pop(name, None)
    env.update(
        QT_QPA_PLATFORM="offscreen",
        XDG_CONFIG_HOME=str(folder / "config"),
        XDG_CACHE_HOME=str(folder / "cache"),
        GRADLAB_EXIT_AFTER_FRAMES="1",
        PYTHONFAULTHANDLER="",
    )
    for place, kind in case.files:
        suffix = SUFFIX[place]
        if place == "out" and ":" in kind and not kind.startswith("corrupt:"):
            kind, suffix = kind.split(":")
        if place == "settings":
            where = folder / "config" / "gradlab"
            where.mkdir(parents=True, exist_ok=True)
            if kind == "long-name" or kind == "empty-name" or kind == "missing-folder":
                continue  # the settings file's name is not the user's to choose
            if kind in ("existing", "corrupt"):
                (where / "gradlab.ini").write_bytes(b"[window]\ntheme=\x00\xff" + b"x" * 100_000 + b"\n")
            else:
                made = make_path(where, kind, "gradlab", ".ini")
                if made != str(where / "gradlab.ini"):  # a device: linked to
                    (where / "gradlab.ini").symlink_to(made)
            continue
        path = make_path(folder, kind, place, suffix)
        if place == "shown":
            env["GRADLAB_SHOWN_TIME_FILE"] = path
            continue
        paths[place] = path
        if place == "out" and kind == "new":
            written = Path(path)
        if kind in ("existing", "scenario", "no-permission") or kind.startswith("corrupt:"):
            protected[path] = Path(path)
    env.update(dict(case.env))
    args = [arg.format(**paths) for arg in case.args]
    return args, env, protected, written


# ---- running a case --------------------------------------------------------------------------------
def run_case(case: Case, root: Path | None = None) -> Outcome:
    folder = Path(tempfile.mkdtemp(prefix="c", dir=root))
    try:
        return _run(case, folder)
    finally:
        for path in folder.rglob("*"):  # chmod 0 files and folders must go too
            if not path.is_symlink():
                path.chmod(0o700)
        shutil.rmtree(folder, ignore_errors=True)


def _run(case: Case, folder: Path) -> Outcome:
    args, env, protected, written = prepare(case, folder)
    before = {path: _bytes(Path(path)) for path in protected}
    stdout: object = subprocess.PIPE
    stderr: object = subprocess.PIPE
    opened: list[object] = []
    if case.stream in ("stdout-full", "stderr-full"):
        full = open("/dev/full", "w")  # noqa: SIM115 (closed below)
        opened.append(full)
        if case.stream == "stdout-full":
            stdout = full
        else:
            stderr = full
    elif case.stream == "stdout-broken":
        read, write = os.pipe()
        os.close(read)
        stdout = write
        opened.append(write)
    close = {
        "stdout-closed": [1],
        "stderr-closed": [2],
        "stdin-closed": [0],
        "all-closed": [0, 1, 2],
    }.get(case.stream, [])
    spec = {
        "args": args,
        "limits": list(case.limits),
        "ignore_xfsz": case.ignore_xfsz,
        "close": close,
    }
    process = subprocess.Popen(
        [sys.executable, "-c", LAUNCHER, json.dumps(spec)],
        cwd=folder,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=stdout,  # type: ignore[arg-type]
        stderr=stderr,  # type: ignore[arg-type]
        start_new_session=True,  # its own process group: a signal and a kill reach its children
    )
    try:
        status, err = _wait(process, case)
    finally:
        for item in opened:
            if isinstance(item, int):
                os.close(item)
            else:
                item.close()  # type: ignore[attr-defined]
        if process.poll() is None:
            _kill(process)
    outcome = Outcome(case, status, err)
    outcome.broke = judge(case, status, err, before, protected, folder)
    if status == 0 and written is not None and not written.is_file():
        outcome.broke.append("status 0 but the --out file was not written")
    return outcome


def _wait(process: subprocess.Popen[bytes], case: Case) -> tuple[int | None, str]:
    deadline = time.monotonic() + timeout_s
    if case.signals:
        if not _first_progress(process, deadline):
            stdout, stderr = process.communicate(timeout=max(1.0, deadline - time.monotonic()))
            return process.returncode, "(no progress line) " + (stderr or b"").decode("utf-8", "replace")
        started = time.monotonic()
        for after, signum in case.signals:
            time.sleep(max(0.0, started + after - time.monotonic()))
            if process.poll() is None:
                os.killpg(process.pid, signum)
    try:
        _, stderr = process.communicate(timeout=max(1.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        _kill(process)
        return None, ""
    return process.returncode, (stderr or b"").decode("utf-8", "replace")


def _first_progress(process: subprocess.Popen[bytes], deadline: float) -> bool:
    """Wait for the run to print its first progress line: it is under way."""
    assert process.stderr is not None
    line = process.stderr.readline()
    return line.startswith(b"update") and time.monotonic() < deadline


def _kill(process: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.communicate()


def _bytes(path: Path) -> bytes | None:
    try:
        return path.read_bytes()
    except OSError:
        return None


def judge(
    case: Case,
    status: int | None,
    stderr: str,
    before: dict[str, bytes | None],
    protected: dict[str, Path],
    folder: Path,
) -> list[str]:
    """What broke (empty: the case held)."""
    broke = []
    if status is None:
        return [f"hung: no exit within {timeout_s:.0f} s"]
    allowed = set(case.allowed) | {128 + signum for _, signum in case.signals}
    if status not in allowed:
        broke.append(f"exit status {status} (allowed: {sorted(allowed)})")
    if "Traceback" in stderr:
        broke.append("traceback on stderr: " + _tail(stderr))
    stderr_visible = case.stream not in ("stderr-closed", "all-closed", "stderr-full")
    lines = [line for line in stderr.strip().splitlines() if _ours(line, case)]
    if status in (1, 2) and stderr_visible and len(lines) != 1:
        broke.append(f"{len(lines)} lines on stderr for an error (one wanted): " + _tail(stderr))
    long = [line for line in lines if len(line) > MAX_LINE]
    if long:
        broke.append(f"a stderr line of {len(long[0])} characters: {long[0][:120]}…")
    if status != 0:
        for path, previous in before.items():
            now = _bytes(protected[path])
            if previous is None or now == previous:
                continue
            if status != 2 and _complete_history(protected[path]):
                # Saved whole, as asked: an interrupted run saves what ran, and a run whose
                # summary could not be printed (status 1) still saves its history.
                continue
            broke.append(f"{path} changed or destroyed by a command that failed")
    for path, previous in before.items():  # nothing may write the scenario, even a run that succeeds
        if path.endswith("scenario.json") and status == 0 and _bytes(protected[path]) != previous:
            broke.append("the scenario file changed")
    left = [p.name for p in folder.rglob("*.tmp")]
    if left and status is not None and status < 128:
        broke.append(f"temporary file(s) left: {left[:3]}")
    return broke


def _complete_history(path: Path) -> bool:
    """A saved history that is whole (not the previous contents cut short, not half a file)."""
    data = _bytes(path) or b""
    if path.suffix == ".json":
        try:
            return bool(json.loads(data)["history"]["iteration"])
        except (ValueError, KeyError, TypeError):
            return False
    if path.suffix == ".csv":
        return data.startswith(b"iteration") and data.endswith(b"\n")
    return data.startswith(b"PK")  # .npz: a zip


def _ours(line: str, case: Case) -> bool:
    """A stderr line that gradlab wrote: not a progress line (signal cases run without --quiet),
    not the blank line before 'interrupted', not the offscreen platform's notices."""
    if not line.strip() or line.startswith("update ") or line.startswith("\rupdate"):
        return False
    return "This plugin does not support" not in line and not line.startswith("qt.qpa")


def _tail(text: str, chars: int = 400) -> str:
    text = text.strip()
    return text if len(text) <= chars else "…" + text[-chars:]


# ---- scenario-file corruptions -----------------------------------------------------------------------
def _scenario(**changes: object) -> bytes:
    data: dict[str, object] = json.loads(SCENARIO_JSON)
    for key, value in changes.items():
        if key.startswith("config."):
            data["config"][key[7:]] = value  # type: ignore[index]
        elif value is _DROP:
            data.pop(key)
        else:
            data[key] = value
    return json.dumps(data).encode()


_DROP = object()
CORRUPTIONS: dict[str, bytes] = {
    "empty": b"",
    "blank": b"  \n\t\n",
    "not-json": b"title: hello",
    "truncated": SCENARIO_JSON.encode()[:30],
    "binary": bytes(range(256)) * 4,
    "not-utf8": b'{"title": "\xff\xfe", "caption": "c", "config": {}}',
    "utf8-bom": b"\xef\xbb\xbf" + SCENARIO_JSON.encode(),
    "utf16": SCENARIO_JSON.encode("utf-16"),
    "nul-bytes": b"\x00" * 1000,
    "array": b"[1, 2, 3]",
    "null": b"null",
    "number": b"42",
    "string": b'"a scene"',
    "deep-nesting": b"[" * 100_000 + b"]" * 100_000,
    "deep-object": b'{"a":' * 50_000 + b"1" + b"}" * 50_000,
    "too-large": b'{"title": "' + b"x" * 300_000 + b'"}',
    "huge-int": b'{"title": "t", "caption": "c", "config": {"seed": ' + b"9" * 5000 + b"}}",
    "huge-value": _scenario(**{"config.cell": "x" * 200_000}),
    "huge-key": _scenario(**{"config." + "k" * 200_000: 1}),
    "huge-top-key": _scenario(**{"k" * 200_000: 1}),
    "many-keys": _scenario(**{f"config.k{i}": i for i in range(5000)}),
    "huge-title": _scenario(title="T" * 100_000),
    "title-60-newlines": _scenario(title="A" + "\n" * 60 + "B"),
    "title-only-newlines": _scenario(title="\n" * 60),
    "title-crlf": _scenario(title="A\r\nB"),
    "title-unicode-lines": _scenario(title="A\u2028B\u2029C\x85D"),
    "title-control": _scenario(title="\x1b[2J\x1b[31mred\x07"),
    "caption-many-lines": _scenario(caption="line\n" * 10),
    "caption-huge": _scenario(caption="c" * 100_000),
    "title-number": _scenario(title=3),
    "title-missing": _scenario(title=_DROP),
    "config-missing": _scenario(config=_DROP),
    "config-list": _scenario(config=[1, 2]),
    "config-null": _scenario(config=None),
    "nan": SCENARIO_JSON.replace('"seq_len": 10', '"seq_len": NaN').encode(),
    "infinity": SCENARIO_JSON.replace('"seq_len": 10', '"lr": Infinity').encode(),
    "1e400": SCENARIO_JSON.replace('"seq_len": 10', '"lr": 1e400').encode(),
    "negative-size": _scenario(**{"config.hidden_size": -3}),
    "zero-length": _scenario(**{"config.seq_len": 0}),
    "float-size": _scenario(**{"config.hidden_size": 8.5}),
    "bool-size": _scenario(**{"config.hidden_size": True}),
    "string-size": _scenario(**{"config.hidden_size": "8"}),
    "over-cap": _scenario(**{"config.hidden_size": 1024, "config.seq_len": 100_000, "config.batch_size": 64}),
    "bad-choice": _scenario(**{"config.cell": "transformer"}),
    "choice-number": _scenario(**{"config.cell": 3}),
    "lr-negative": _scenario(**{"config.lr": -1.0}),
    "lr-huge": _scenario(**{"config.lr": 1e308}),
    "nested-value": _scenario(**{"config.lr": {"a": [1, 2]}}),
    "starts-paused-string": _scenario(starts_paused="yes"),
    "duplicate-keys": b'{"title": "a", "title": "b", "caption": "c", "config": {}}',
    "trailing-garbage": SCENARIO_JSON.encode() + b" }}}",
    "surrogate": b'{"title": "\\ud800", "caption": "c", "config": {}}',
    "iterations-none": _scenario(**{"config.iterations": None}),
}

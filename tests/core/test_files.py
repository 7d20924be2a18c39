"""Safe file access: only regular files are opened, writes are atomic, messages are bounded."""

from __future__ import annotations

import os
import resource
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from gradlab.core.files import (
    MESSAGE_CHARS,
    FileKindError,
    atomic_path,
    atomic_write,
    atomic_write_text,
    bounded,
    check_regular,
    elide,
    quote,
    read_bytes,
)

REPO = Path(__file__).resolve().parents[2]


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_atomic_write_replaces_the_file_and_leaves_no_temporary(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("old")
    os.chmod(path, 0o640)
    atomic_write_text(path, "new")
    assert path.read_text() == "new"
    assert stat.S_IMODE(path.stat().st_mode) == 0o640  # permissions of the replaced file kept
    assert _leftovers(tmp_path) == []


def test_a_failing_writer_leaves_the_previous_file_intact(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("precious")

    def write(handle):
        handle.write(b"half")
        raise RuntimeError("disk gone")

    with pytest.raises(RuntimeError):
        atomic_write(path, write)
    assert path.read_text() == "precious"
    assert _leftovers(tmp_path) == []


def test_a_full_disk_leaves_the_previous_file_intact(tmp_path):
    """RLIMIT_FSIZE in a child makes the write fail with EFBIG, like a full disk."""
    path = tmp_path / "a.txt"
    path.write_text("precious")
    code = (
        "import signal, sys; signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "from gradlab.core.files import atomic_write_text\n"
        "try:\n    atomic_write_text(sys.argv[1], 'x' * 100000)\n"
        "except OSError as e:\n    print('failed', e.errno); sys.exit(3)\n"
    )

    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (1000, 1000))

    done = subprocess.run(
        [sys.executable, "-c", code, str(path)], cwd=REPO, preexec_fn=limit, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 3, done.stderr
    assert path.read_text() == "precious"
    assert _leftovers(tmp_path) == []


def test_a_fifo_is_refused_for_reading_and_writing_without_blocking(tmp_path):
    fifo = tmp_path / "pipe.json"
    os.mkfifo(fifo)
    with pytest.raises(FileKindError, match="named pipe"):
        read_bytes(fifo)
    with pytest.raises(FileKindError, match="named pipe"):
        atomic_write_text(fifo, "x")
    assert stat.S_ISFIFO(fifo.stat().st_mode)  # not replaced
    assert _leftovers(tmp_path) == []


def test_a_link_to_a_fifo_is_refused(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    link = tmp_path / "link.json"
    link.symlink_to(fifo)
    with pytest.raises(FileKindError):
        read_bytes(link)


def test_devices_and_folders_are_refused(tmp_path):
    with pytest.raises(FileKindError, match="device"):
        read_bytes("/dev/null")
    with pytest.raises(FileKindError, match="device"):
        check_regular("/dev/null", for_writing=True)
    with pytest.raises(FileKindError, match="folder"):
        read_bytes(tmp_path)
    with pytest.raises(FileKindError, match="folder"):
        atomic_write_text(tmp_path, "x")


def test_missing_files(tmp_path):
    check_regular(tmp_path / "new.txt", for_writing=True)
    with pytest.raises(FileNotFoundError):
        read_bytes(tmp_path / "new.txt")


def test_read_bytes_stops_after_the_limit(tmp_path):
    path = tmp_path / "big"
    path.write_bytes(b"x" * 1000)
    assert len(read_bytes(path, limit=10)) == 11


def test_atomic_path_for_writers_that_want_a_name(tmp_path):
    path = tmp_path / ("n" * 250 + ".png")  # the temporary's name stays short enough
    with atomic_path(path) as temporary:
        assert temporary.parent == path.parent
        temporary.write_bytes(b"picture")
    assert path.read_bytes() == b"picture"
    assert _leftovers(tmp_path) == []


def test_messages_are_bounded():
    long = "k" * 200_000
    assert len(quote(long)) <= 82 + 2
    assert "\n" not in quote("a\nb")
    assert len(bounded("x" * 10_000)) <= MESSAGE_CHARS
    assert "\n" not in bounded("a\n" * 1000)
    assert elide("short") == "short"
    assert elide("abcdefghij", 5).count("…") == 1 and len(elide("abcdefghij", 5)) == 5
    message = str(FileKindError(f"{'p' * 500}: x"))
    assert len(bounded(message)) <= MESSAGE_CHARS

"""Reading and writing the user's files safely: only regular files are opened (a FIFO would
block the caller until something writes to it, a device would be read or replaced), every write
goes through a temporary file in the same folder that replaces the old one only once it is
complete on disk, and messages quote the user's values in bounded form.

Standard library only: the CLI, the window and the core all use it.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

QUOTE_CHARS = 80  # at most this much of a user's value or key is quoted in a message
MESSAGE_CHARS = 300  # and a whole message is at most this long
PATH_CHARS = 160  # a file's path is not a bad value: more of it is shown, to tell it apart


class FileKindError(OSError):
    """A path that is not a regular file (a folder, a FIFO, a device, a socket): refused before
    anything opens it. Its message is one line naming the path and what it is."""


# ---- bounded messages ----------------------------------------------------------------------------
def elide(text: str, limit: int = QUOTE_CHARS) -> str:
    """``text`` cut to at most ``limit`` characters, the middle replaced by '…' if it was longer
    (the start and the end of a file name or a value are what tell it apart)."""
    if len(text) <= limit:
        return text
    if limit < 2:
        return "…"[:limit]
    head = (limit - 1) * 2 // 3
    tail = limit - 1 - head
    return text[:head] + "…" + (text[-tail:] if tail else "")


def printable(text: str) -> str:
    """``text`` as one printable line: newlines and other control characters shown escaped."""
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def quote(value: object, limit: int = QUOTE_CHARS) -> str:
    """A user's value or key for a message: one line, in quotes, at most ``limit`` characters of it."""
    text = value if isinstance(value, str) else repr(value)
    # Elide before escaping (escaping 200,000 characters to keep 80 is wasted work), then again:
    # escapes can lengthen it.
    return repr(elide(printable(elide(str(text), limit * 2)), limit))


def bounded(message: str, limit: int = MESSAGE_CHARS) -> str:
    """A whole message as one printable line of at most ``limit`` characters."""
    return elide(printable(elide(message, limit * 2)), limit)


def describe_path(path: str | os.PathLike[str]) -> str:
    """A path for a message: printable and elided, not quoted (messages start with it)."""
    return elide(printable(os.fsdecode(os.fspath(path))), PATH_CHARS)


# ---- what a path is ----------------------------------------------------------------------------
def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def check_regular(path: str | os.PathLike[str], *, for_writing: bool = False) -> None:
    """Raise FileKindError unless ``path`` is a regular file (or, for writing, does not exist yet).

    Symbolic links are followed: a link to a regular file is fine, a link to a FIFO is not.
    Other errors (no such file, no permission, a name too long) are raised as the OSError they are,
    except that a missing file is fine for writing.
    """
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        if for_writing:
            return
        raise
    if not stat.S_ISREG(mode):
        raise FileKindError(f"{describe_path(path)}: is {_kind(mode)}, not a regular file")


def open_regular(path: str | os.PathLike[str]) -> IO[bytes]:
    """Open a regular file for reading (binary). A FIFO, device or folder is refused with
    FileKindError without blocking: the file is opened non-blocking and checked on the open
    descriptor, so nothing can swap it between the check and the open."""
    check_regular(path)
    fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0))
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise FileKindError(f"{describe_path(path)}: is {_kind(mode)}, not a regular file")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_bytes(path: str | os.PathLike[str], limit: int | None = None) -> bytes:
    """The bytes of a regular file (at most ``limit`` + 1 of them, so that a caller can tell that
    a file is too large without reading all of it)."""
    with open_regular(path) as handle:
        return handle.read() if limit is None else handle.read(limit + 1)


# ---- atomic writes -----------------------------------------------------------------------------
def _temporary_name(path: Path) -> Path:
    # A short, hidden name next to the target: same file system (so os.replace is atomic), and
    # short enough even when the target's own name is near the 255-byte limit.
    return path.with_name(f".{path.name[:40]}.{secrets.token_hex(4)}.tmp")


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable where the platform allows (not on Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _existing_mode(path: Path) -> int | None:
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except OSError:
        return None


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """A temporary path in ``path``'s folder for a writer that wants a file name (Qt's image and
    SVG writers); when the block ends without an exception the file is flushed to disk and
    replaces ``path``. If anything fails, ``path`` is left as it was and the temporary is removed.
    """
    path = Path(path)
    check_regular(path, for_writing=True)
    folder = path.parent if str(path.parent) else Path(".")
    while True:
        temporary = _temporary_name(path)
        try:
            # 0o666 less the umask, like any new file (mkstemp would make it private, 0o600).
            fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666)
        except FileExistsError:
            continue
        os.close(fd)
        break
    try:
        yield temporary
        with open(temporary, "rb+") as handle:
            os.fsync(handle.fileno())
        mode = _existing_mode(path)
        if mode is not None:
            os.chmod(temporary, mode)  # replacing a file keeps its permissions
        check_regular(path, for_writing=True)  # nothing became a FIFO or folder meanwhile
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise
    _fsync_folder(folder)


def atomic_write(path: str | os.PathLike[str], write: Callable[[IO[bytes]], Any]) -> Path:
    """Write ``path`` by calling ``write`` with a binary file open on a temporary next to it,
    then flush, fsync and replace: a reader (or a full disk, or a crash) never leaves half a file,
    and a failure leaves the previous file intact."""
    path = Path(path)
    with atomic_path(path) as temporary, open(temporary, "wb") as handle:
        write(handle)
        handle.flush()
    return path


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    return atomic_write(path, lambda handle: handle.write(data))


def atomic_write_text(path: str | os.PathLike[str], text: str, encoding: str = "utf-8") -> Path:
    return atomic_write(path, lambda handle: handle.write(text.encode(encoding)))

"""What the command checks before it runs: usage errors, the memory a run needs against what the
machine has, the standard streams (None in a windowed app), and the automation variables."""

from __future__ import annotations

import argparse
import contextlib
import functools
import os
import sys
from typing import IO

from .core.config import Config
from .core.files import FileKindError, check_regular, quote


class UsageError(Exception):
    """Bad command-line input: reported as one line and exit status 2."""


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{quote(text)} is not a positive integer") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{quote(text)} is not a positive integer")
    return value


def _os_reason(error: OSError, name: str) -> str:
    """An OSError as "NAME: reason", bounded (FileKindError already names its path)."""
    if isinstance(error, FileKindError):
        return str(error)
    return f"{quote(name)}: {error.strerror or error}"


EXIT_AFTER_FRAMES_ENV = "GRADLAB_EXIT_AFTER_FRAMES"


SHOWN_TIME_FILE_ENV = "GRADLAB_SHOWN_TIME_FILE"


def _exit_after_frames_from_environment() -> int | None:
    text = os.environ.get(EXIT_AFTER_FRAMES_ENV, "")
    if not text.strip():
        return None
    try:
        return positive_int(text)
    except argparse.ArgumentTypeError as error:
        raise UsageError(f"gradlab: {EXIT_AFTER_FRAMES_ENV}: {error}") from None


def _check_shown_time_file() -> None:
    """The window writes the time of its first paint there: refuse a path it could not write
    now, not with a traceback once the window is up."""
    name = os.environ.get(SHOWN_TIME_FILE_ENV, "")
    if not name:
        return
    folder = os.path.dirname(name) or "."
    try:
        if not os.path.isdir(folder):
            raise UsageError(f"gradlab: {SHOWN_TIME_FILE_ENV}: the folder {quote(folder)} does not exist")
        check_regular(name, for_writing=True)
    except OSError as error:
        raise UsageError(f"gradlab: {SHOWN_TIME_FILE_ENV}: {_os_reason(error, name)}") from None
    if not os.access(folder, os.W_OK):
        raise UsageError(f"gradlab: {SHOWN_TIME_FILE_ENV}: the folder {quote(folder)} is not writable")


def check_memory(config: Config) -> None:
    """Refuse a run the machine cannot hold: one update's estimated peak against the memory this
    process may still use (its address-space limit, ``ulimit -v``) and, on Linux, the memory
    available with swap. Under the config's own cap is not enough: the cap is for a large machine."""
    need = config.update_bytes()
    room = available_memory()
    if room is not None and need > room:
        raise UsageError(
            f"gradlab run: H={config.hidden_size}, T={config.seq_len}, B={config.batch_size} needs about "
            f"{need / 2**20:,.0f} MiB per update; this machine has about {room / 2**20:,.0f} MiB available, "
            "so make one of them smaller"
        )


# What the window needs of the process's resource limits, beyond what the command has used when it
# checks them (NumPy loaded, Qt not yet). Below these, Qt aborts in C++ (std::bad_alloc), GLib
# aborts (no pipe for its wake-up), or the simulation process cannot start, and the window hangs
# or dies with a core dump instead of a message. Measured on Linux x86-64 (Qt 6, offscreen and
# xcb): the window opened with 200 MiB of address space left and aborted with 150; it needed
# more than 12 descriptors and 4 KiB of file size (shared memory with the simulation process is
# made of files); each minimum has a margin over that.
WINDOW_ADDRESS_SPACE = 192 * 2**20
WINDOW_FILES = 64
WINDOW_FILE_SIZE = 16 * 2**20


def check_window_limits() -> None:
    """Refuse to open the window under limits (``ulimit -v``, ``-n``, ``-f``) it cannot work in,
    with one line saying which; a soft limit on descriptors is raised first where the hard one
    allows."""
    try:
        import resource
    except ImportError:  # Windows: no such limits
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < WINDOW_FILES:
        wanted = 1024 if hard == resource.RLIM_INFINITY else min(hard, 1024)
        with contextlib.suppress(OSError, ValueError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
        soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        if soft < WINDOW_FILES:
            raise UsageError(
                f"gradlab: the limit of open files (ulimit -n) is {soft}; the window needs at least {WINDOW_FILES}"
            )
    size = resource.getrlimit(resource.RLIMIT_FSIZE)[0]
    if size != resource.RLIM_INFINITY and size < WINDOW_FILE_SIZE:
        raise UsageError(
            f"gradlab: the file-size limit (ulimit -f) is {size:,} bytes; the window needs at least "
            f"{WINDOW_FILE_SIZE // 2**20} MiB"
        )
    room = address_space_room()
    if room is not None and room < WINDOW_ADDRESS_SPACE:
        raise UsageError(
            f"gradlab: the address-space limit (ulimit -v) leaves {room / 2**20:,.0f} MiB; the window needs about "
            f"{WINDOW_ADDRESS_SPACE // 2**20} MiB more"
        )


def address_space_room() -> int | None:
    """Bytes of address space this process may still map under its limit (None: no limit)."""
    try:
        import resource

        soft, _hard = resource.getrlimit(resource.RLIMIT_AS)
    except (ImportError, OSError, ValueError):
        return None
    if soft == resource.RLIM_INFINITY:
        return None
    used = _proc_status_kib("VmSize")
    return max(0, soft - (used or 0) * 1024)


def available_memory() -> int | None:
    """Bytes this process can still allocate, as far as can be told cheaply (None: unknown)."""
    limits: list[int] = []
    room = address_space_room()
    if room is not None:
        limits.append(room)
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            info = {line.split(":")[0]: int(line.split()[1]) * 1024 for line in handle if line.split()[1:2]}
        if "MemAvailable" in info:
            limits.append(info["MemAvailable"] + info.get("SwapFree", 0))
    except (OSError, ValueError, IndexError):
        pass
    return max(0, min(limits)) if limits else None


def _proc_status_kib(key: str) -> int | None:
    try:
        with open("/proc/self/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        pass
    return None


def _standard_streams() -> None:
    """Give the program usable standard streams whatever it was started with.

    A closed descriptor (``2>&-``) would be reused by the next file opened, so output meant for
    the terminal could land in a saved file: each closed one of 0, 1, 2 is opened on the null
    device. ``sys.stdout``/``sys.stderr`` are None in a windowed app (Windows, macOS) or with the
    descriptor closed: they become a stream on the null device. A file name or value the
    terminal's encoding cannot show is printed escaped instead of raising."""
    for fd in (0, 1, 2):
        try:
            os.fstat(fd)
        except OSError:
            with contextlib.suppress(OSError):
                null = os.open(os.devnull, os.O_RDWR)
                if null != fd:
                    os.dup2(null, fd)
                    os.close(null)
    for name in ("stdout", "stderr"):
        stream = getattr(sys, name)
        if stream is None:
            setattr(sys, name, _null_stream())
        else:
            with contextlib.suppress(AttributeError, ValueError, OSError):
                stream.reconfigure(errors="backslashreplace")


@functools.cache
def _null_stream() -> IO[str]:
    """One stream on the null device, kept for the life of the process."""
    return open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 (never closed on purpose)

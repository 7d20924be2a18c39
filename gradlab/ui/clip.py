"""Record a clip of the plots: an animated GIF (Pillow) or an MP4 (imageio-ffmpeg, which ships ffmpeg).

A clip is a sequence of slides (``export.slide_image`` at ``CLIP_SIZE``: heading with the title,
settings, readouts and iteration above the plots), taken either once per displayed update (a
training run in slow motion, every frame a new iteration) or on a clock for a number of seconds
(what the audience saw, in real time). The GUI thread only paints each picture (a few tens of
milliseconds); a background thread turns the pictures into the file as they come (palette
quantisation for a GIF, H.264 for an MP4), so the window keeps running while recording and
encoding. Cancelling stops both and removes the temporary file; the file at the chosen path
appears only when complete (written through ``export.atomic_target``).

In a GIF, Pillow merges a picture identical to the previous one into it (adding its duration):
a clip taken on a clock of a paused run is shorter in frames, never in time.

MP4 needs the optional ``mp4`` extra (imageio-ffmpeg ships its own ffmpeg: a 30 MB wheel); a
GIF needs only Pillow.
"""

from __future__ import annotations

import importlib.util
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal, SignalInstance
from PySide6.QtGui import QImage
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from gradlab.ui.export import ExportError, atomic_target, check_target

CLIP_SIZE = (960, 540)  # half the slide: sharp on a slide, a GIF of a few MB per 100 frames
MAX_FRAMES = 600  # a minute at 10 per second: the memory a GIF's frames need stays < 0.5 GB
DEFAULT_FPS = 10.0
POLL_MS = 100  # how often the window looks at the encoder's progress

ClipFormat = Literal["gif", "mp4"]


@dataclass(frozen=True)
class ClipPlan:
    """How many pictures to take, when, and how fast the clip plays them."""

    frames: int
    per_update: bool  # one picture per displayed update; otherwise on a clock at ``fps``
    fps: float = DEFAULT_FPS

    def __post_init__(self) -> None:
        if not 1 <= self.frames <= MAX_FRAMES:
            raise ValueError(f"a clip has 1 to {MAX_FRAMES} pictures, not {self.frames}")
        if not 0.5 <= self.fps <= 60:
            raise ValueError(f"a clip plays 0.5 to 60 pictures per second, not {self.fps:g}")

    @classmethod
    def seconds(cls, seconds: float, fps: float = DEFAULT_FPS) -> ClipPlan:
        return cls(max(1, round(seconds * fps)), per_update=False, fps=fps)

    @classmethod
    def updates(cls, count: int, fps: float = DEFAULT_FPS) -> ClipPlan:
        return cls(count, per_update=True, fps=fps)


def mp4_available() -> bool:
    return importlib.util.find_spec("imageio_ffmpeg") is not None


def clip_format(path: Path) -> ClipFormat:
    """The clip's format from the file name; an ``ExportError`` says why one cannot be written."""
    suffix = path.suffix.lower()
    if suffix == ".gif":
        return "gif"
    if suffix == ".mp4":
        if not mp4_available():
            raise ExportError("MP4 clips need imageio-ffmpeg: pip install 'gradlab[mp4]' (or save a .gif)")
        return "mp4"
    raise ExportError(f"{path.name}: clips are recorded as .gif or .mp4")


def rgb_array(image: QImage) -> np.ndarray:
    """A copy of ``image`` as an (height, width, 3) uint8 array."""
    image = image.convertToFormat(QImage.Format.Format_RGB888)
    width, height, stride = image.width(), image.height(), image.bytesPerLine()
    rows = np.frombuffer(image.constBits(), np.uint8, count=stride * height).reshape(height, stride)
    return np.array(rows[:, : width * 3].reshape(height, width, 3))


class _Cancelled(Exception):
    pass


class ClipEncoder(threading.Thread):
    """Turns pictures into the clip file as they are queued (``put``; ``close`` when all are in)."""

    def __init__(self, path: Path, fmt: ClipFormat, fps: float) -> None:
        super().__init__(name="gradlab-clip-encoder", daemon=True)
        self.path, self.format, self.fps = path, fmt, fps
        self.encoded = 0
        self.error = ""
        self.written = False
        self._pictures: queue.Queue[tuple[np.ndarray, int] | None] = queue.Queue()
        self._cancel = threading.Event()

    def put(self, picture: np.ndarray, duration_ms: int) -> None:
        """Queue a picture shown for ``duration_ms`` (a GIF keeps each one's; an MP4 plays at ``fps``)."""
        self._pictures.put((picture, duration_ms))

    def close(self) -> None:
        self._pictures.put(None)

    def cancel(self) -> None:
        self._cancel.set()
        self._pictures.put(None)

    def _next(self) -> tuple[np.ndarray, int] | None:
        picture = self._pictures.get()
        if self._cancel.is_set():
            raise _Cancelled
        return picture

    def run(self) -> None:
        try:
            with atomic_target(self.path) as temporary:
                if self.format == "gif":
                    self._write_gif(temporary)
                else:
                    self._write_mp4(temporary)
                if self._cancel.is_set():
                    raise _Cancelled
            self.written = True
        except _Cancelled:
            pass
        except ExportError as error:
            self.error = str(error)
        except Exception as error:  # an encoder's failure becomes the one-line reason shown
            self.error = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else 'encoder failed'}"

    def _write_gif(self, temporary: Path) -> None:
        from PIL import Image

        frames: list[Image.Image] = []
        durations: list[int] = []
        while (item := self._next()) is not None:
            picture, duration = item
            frames.append(Image.fromarray(picture).quantize(colors=255, method=Image.Quantize.FASTOCTREE))
            durations.append(duration)
            self.encoded = len(frames)
        if not frames:
            raise ExportError("no picture was recorded")
        frames[0].save(
            temporary, format="GIF", save_all=True, append_images=frames[1:], duration=durations, loop=0, optimize=False
        )

    def _write_mp4(self, temporary: Path) -> None:
        import imageio_ffmpeg  # type: ignore[import-not-found, unused-ignore]

        writer = None
        try:
            while (item := self._next()) is not None:
                picture = item[0]
                if writer is None:
                    # H.264 in yuv420p plays everywhere (slides, browsers); it needs even sizes
                    # only, so the picture is not rescaled to blocks of 16 pixels. The container
                    # is named: the temporary file's name does not end in .mp4.
                    writer = imageio_ffmpeg.write_frames(
                        str(temporary),
                        (picture.shape[1], picture.shape[0]),
                        fps=self.fps,
                        codec="libx264",
                        pix_fmt_out="yuv420p",
                        quality=8,
                        macro_block_size=2,
                        output_params=["-f", "mp4"],
                    )
                    writer.send(None)
                writer.send(np.ascontiguousarray(picture))
                self.encoded += 1
        finally:
            if writer is not None:
                writer.close()
        if self.encoded == 0:
            raise ExportError("no picture was recorded")


class ClipRecorder(QObject):
    """Takes the pictures of one clip on the GUI thread and hands them to a ``ClipEncoder``.

    ``progress(stage, done, total)``: stage is "recording" or "encoding". Exactly one of
    ``finished(path)`` (the file is complete), ``failed(reason)`` or ``cancelled()`` ends it."""

    progress = Signal(str, int, int)
    finished = Signal(object)
    failed = Signal(str)
    cancelled = Signal()

    def __init__(
        self, capture: Callable[[], QImage], plan: ClipPlan, path: str | Path, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.path = Path(path)
        self.plan = plan
        self.format = clip_format(self.path)
        check_target(self.path)  # a missing folder is refused now, not after the recording
        self._capture = capture
        self.captured = 0
        self.recording = False
        self._last_picture_at = 0.0
        # The latest picture waits here until the next one says how long it was on screen.
        self._pending: tuple[np.ndarray, int] | None = None
        self.done = False
        self._encoder = ClipEncoder(self.path, self.format, plan.fps)
        self._clock = QTimer(self)
        self._clock.setInterval(round(1000 / plan.fps))
        self._clock.timeout.connect(self.take_picture)
        self._poll = QTimer(self)
        self._poll.setInterval(POLL_MS)
        self._poll.timeout.connect(self._check_encoder)
        self.progress_dialog: QDialog | None = None

    def start(self) -> None:
        self._encoder.start()
        self.recording = True
        self._poll.start()
        self.take_picture()  # the first picture at once: what is on screen when recording starts
        if not self.plan.per_update and self.recording:
            self._clock.start()

    def update_shown(self, *_args: object) -> None:
        """A new update was drawn: in a clip per update, take its picture."""
        if self.plan.per_update:
            self.take_picture()

    def take_picture(self) -> None:
        if not self.recording:
            return
        picture = rgb_array(self._capture())
        now = time.monotonic()
        if self.captured and not self.plan.per_update:
            # On a busy machine the clock's pictures come later than planned; a GIF then shows
            # each for as long as it was on screen (real time), not for 1/fps.
            shown_ms = round(1000 * (now - self._last_picture_at))
            if self._pending is not None:
                self._pending = (self._pending[0], max(self._pending[1], shown_ms))
        if self._pending is not None:
            self._encoder.put(*self._pending)
        self._pending = (picture, round(1000 / self.plan.fps))
        self._last_picture_at = now
        self.captured += 1
        self.progress.emit("recording", self.captured, self.plan.frames)
        if self.captured >= self.plan.frames:
            self.stop()

    def stop(self) -> None:
        """No more pictures: the clip is what was recorded so far (encoding goes on)."""
        if self.recording:
            self.recording = False
            self._clock.stop()
            if self._pending is not None:
                self._encoder.put(*self._pending)
                self._pending = None
            self._encoder.close()

    def cancel(self) -> None:
        """Stop recording and encoding; no file is written (an old one is left as it was)."""
        if self.done:
            return
        self.recording = False
        self._clock.stop()
        self._encoder.cancel()

    def _check_encoder(self) -> None:
        if not self.recording:
            self.progress.emit("encoding", self._encoder.encoded, self.captured)
        if self._encoder.is_alive():
            return
        self._encoder.join()
        self._poll.stop()
        self.done = True
        if self._encoder.written:
            self.finished.emit(self.path)
        elif self._encoder.error:
            self.failed.emit(self._encoder.error)
        else:
            self.cancelled.emit()

    def wait(self, timeout: float | None = None) -> None:
        """Block until the encoder thread ends (for closing the window)."""
        self._encoder.join(timeout)


class ClipOptionsDialog(QDialog):
    """How long a clip: a number of seconds or of updates."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Record clip")
        self.amount = QSpinBox()
        self.amount.setRange(1, MAX_FRAMES)
        self.amount.setValue(10)
        self.unit = QComboBox()
        self.unit.addItem("seconds", False)
        self.unit.addItem("updates (one picture each)", True)
        self.fps = QSpinBox()
        self.fps.setRange(1, 30)
        self.fps.setValue(round(DEFAULT_FPS))
        self.fps.setSuffix(" pictures/s")
        length = QHBoxLayout()
        length.addWidget(self.amount)
        length.addWidget(self.unit, 1)
        form = QFormLayout()
        form.addRow("Length", length)
        form.addRow("Plays at", self.fps)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(buttons)

    def plan(self) -> ClipPlan:
        """The plan chosen; seconds × pictures/s beyond ``MAX_FRAMES`` is refused with a reason."""
        fps = float(self.fps.value())
        if self.unit.currentData():
            return ClipPlan.updates(self.amount.value(), fps)
        return ClipPlan.seconds(self.amount.value(), fps)


class ClipProgress(QDialog):
    """Non-modal: the window keeps running under it. "Stop and save" keeps what was recorded."""

    def __init__(self, recorder: ClipRecorder, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Recording clip")
        self.setModal(False)
        self.label = QLabel(f"Recording {recorder.path.name}")
        self.bar = QProgressBar()
        self.bar.setRange(0, recorder.plan.frames)
        self.stop_button = QPushButton("Stop and save")
        self.cancel_button = QPushButton("Cancel")
        self.stop_button.clicked.connect(recorder.stop)
        self.cancel_button.clicked.connect(recorder.cancel)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.stop_button)
        buttons.addWidget(self.cancel_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        layout.addLayout(buttons)
        recorder.progress.connect(self._progress)
        for signal in (recorder.finished, recorder.failed, recorder.cancelled):
            signal.connect(self.close)
        self._recorder = recorder

    def _progress(self, stage: str, done: int, total: int) -> None:
        self.bar.setRange(0, max(1, total))
        self.bar.setValue(done)
        self.label.setText(f"{stage.capitalize()} {self._recorder.path.name}: {done} of {total} pictures")
        self.stop_button.setEnabled(stage == "recording")

    def reject(self) -> None:  # Esc or the window's close button: cancel
        self._recorder.cancel()
        super().reject()


def record_clip(
    parent: QWidget,
    capture: Callable[[], QImage],
    ask_path: Callable[[str], str],
    updates: SignalInstance,
    report: Callable[[str], None],
    complain: Callable[[str], None],
    plan: ClipPlan | None = None,
) -> ClipRecorder | None:
    """The window's "Record clip…": ask how long (unless ``plan`` is given) and where, then record
    with a progress dialog. ``ask_path(suggested)`` asks for the file; ``updates`` fires after each
    displayed update; ``report`` gets "Wrote …", ``complain`` the one-line reason of a failure."""
    if plan is None:
        options = ClipOptionsDialog(parent)
        if options.exec() != QDialog.DialogCode.Accepted:
            return None
        try:
            plan = options.plan()
        except ValueError as error:
            complain(f"Could not record a clip: {error}")
            return None
    chosen = ask_path("gradlab.gif")
    if not chosen:
        return None
    path = Path(chosen)
    if path.suffix.lower() not in (".gif", ".mp4"):
        path = path.with_name(path.name + ".gif")
    try:
        recorder = ClipRecorder(capture, plan, path, parent)
    except (OSError, ValueError) as error:
        complain(f"Could not record {path.name}: {error}")
        return None
    updates.connect(recorder.update_shown)
    recorder.finished.connect(lambda written: report(f"Wrote {written}"))
    recorder.failed.connect(lambda reason: complain(f"Could not record {path.name}: {reason}"))
    recorder.cancelled.connect(lambda: report(f"Clip {path.name} cancelled; nothing written"))
    for ended in (recorder.finished, recorder.failed, recorder.cancelled):
        ended.connect(lambda *_args: updates.disconnect(recorder.update_shown))
    recorder.progress_dialog = ClipProgress(recorder, parent)
    recorder.progress_dialog.show()
    recorder.start()
    return recorder

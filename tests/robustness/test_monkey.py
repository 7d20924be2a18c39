"""Monkey test: thousands of random, seeded UI actions on the real window; no error, no freeze.

    # the normal run: 1,000 actions
    python -m pytest tests/robustness/test_monkey.py
    # the full session: 10,000 actions
    python -m pytest -m slow tests/robustness/test_monkey.py::test_monkey_full_session
    # replay a failure
    GRADLAB_MONKEY_SEED=<seed> GRADLAB_MONKEY_ACTIONS=<n> python -m pytest tests/robustness/test_monkey.py

The monkey finds its targets in the window as it is (so that controls, menus and actions added
later are abused too): every visible, enabled spin box, slider, combo box and button, every
QAction of the window, its menus and tool bars, key presses, resizes and window states. Each
action, with the events it causes, must stay within the GUI thread's CPU limit and never block
the window (``helpers.ActionClock.over_limits``: a busy machine delays, it does not fail the
session; the wall-clock stall figures are the benchmark's); any uncaught
exception, Qt warning or ERROR log record fails the session with the seed and the last actions.
"""

from __future__ import annotations

import math
import os
import random
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path

import pytest
from helpers import (
    ACTION_CPU_LIMIT_S,
    HANG_LIMIT_S,
    SMALL,
    ActionClock,
    ErrorRecorder,
    ModalGuard,
    StallMonitor,
    controller_state,
    extra_top_level_windows,
)
from patience import PATIENCE_MS
from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QAction, QKeyEvent, QKeySequence
from PySide6.QtTest import QTest
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QDoubleSpinBox,
    QMenu,
    QMenuBar,
    QSlider,
    QToolBar,
    QToolButton,
    QWidget,
)
from windows import open_window

from gradlab.core import Config
from gradlab.ui.simulation import Delivery, live_processes

SEED = int(os.environ.get("GRADLAB_MONKEY_SEED", "6"))
ACTIONS = int(os.environ.get("GRADLAB_MONKEY_ACTIONS", "1000"))
FULL_ACTIONS = 10_000
LAST_ACTIONS_SHOWN = 40
# After the session the window must still run a small scene, its first frame within this time
# (a fresh simulation process included, on a loaded 2-core machine), whatever the monkey left
# running before — a huge update included: a run nobody wants any more must not be waited for.
FINAL_FRAME_TIMEOUT_S = HANG_LIMIT_S

QUIT_WORDS = ("quit", "exit", "close window")
KEYS = [
    Qt.Key.Key_Space,
    Qt.Key.Key_S,
    Qt.Key.Key_R,
    Qt.Key.Key_P,
    Qt.Key.Key_F,
    Qt.Key.Key_H,
    Qt.Key.Key_T,
    Qt.Key.Key_L,
    Qt.Key.Key_D,
    Qt.Key.Key_C,
    Qt.Key.Key_E,
    Qt.Key.Key_K,
    *[getattr(Qt.Key, f"Key_{d}") for d in range(10)],
    Qt.Key.Key_F1,
    Qt.Key.Key_F5,
    Qt.Key.Key_F11,
    Qt.Key.Key_Escape,
    Qt.Key.Key_Plus,
    Qt.Key.Key_Minus,
    Qt.Key.Key_Equal,
    Qt.Key.Key_Left,
    Qt.Key.Key_Right,
    Qt.Key.Key_Up,
    Qt.Key.Key_Down,
    Qt.Key.Key_PageUp,
    Qt.Key.Key_PageDown,
    Qt.Key.Key_Home,
    Qt.Key.Key_End,
    Qt.Key.Key_Tab,
    Qt.Key.Key_Backtab,
    Qt.Key.Key_Return,
    Qt.Key.Key_Delete,
    Qt.Key.Key_Backspace,
]
MODIFIERS = [
    (Qt.KeyboardModifier.NoModifier, 60),
    (Qt.KeyboardModifier.ControlModifier, 25),
    (Qt.KeyboardModifier.ShiftModifier, 10),
    (Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier, 5),
]
# Keys that end the application on purpose (a lecturer pressing them wants it closed).
FORBIDDEN_KEYS = {
    (Qt.Key.Key_Q, Qt.KeyboardModifier.ControlModifier),
    (Qt.Key.Key_W, Qt.KeyboardModifier.ControlModifier),
    (Qt.Key.Key_F4, Qt.KeyboardModifier.ControlModifier),
}
TYPED_TEXTS = ["0", "-1", "1e9", "99999999999", "nan", "inf", "abc", "", "0.0000001", "1,5", " 7 ", "٣"]


def type_text(widget: QWidget, text: str) -> None:
    """Type ``text`` into ``widget`` key by key. QTest.keyClicks knows only ASCII (any other
    character fails an assertion inside Qt's test library and aborts the process), so the other
    characters are sent as key events that carry just their text, as an input method would."""
    for char in text:
        if char.isascii():
            QTest.keyClick(widget, char)
        else:
            for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
                QApplication.sendEvent(widget, QKeyEvent(kind, 0, Qt.KeyboardModifier.NoModifier, char))


class ActionTooSlow(AssertionError):
    """An action (with the events it caused) kept the GUI thread busy longer than the limit."""


def _from_pyqtgraph(obj: QObject | None) -> bool:
    """Belongs to pyqtgraph's own menus (plot context menus, export dialogs), not to gradlab."""
    while obj is not None:
        if type(obj).__module__.startswith("pyqtgraph"):
            return True
        obj = obj.parent()
    return False


def _quits(action: QAction) -> bool:
    text = action.text().replace("&", "").lower()
    if any(word in text for word in QUIT_WORDS):
        return True
    if action.menuRole() == QAction.MenuRole.QuitRole:
        return True
    keys = {QKeySequence(QKeySequence.StandardKey.Quit), QKeySequence(QKeySequence.StandardKey.Close)}
    return any(shortcut in keys for shortcut in action.shortcuts() if not shortcut.isEmpty())


def _reachable(widget: QWidget) -> bool:
    return widget.isVisible() and widget.isEnabled() and not _from_pyqtgraph(widget)


def _menu_actions(menu: QMenu, seen: set[int]) -> list[QAction]:
    found = []
    for action in menu.actions():
        if id(action) in seen:
            continue
        seen.add(id(action))
        found.append(action)
        if action.menu() is not None:
            found += _menu_actions(action.menu(), seen)
    return found


def discover_actions(window: QWidget) -> list[QAction]:
    """Every QAction a user can trigger in ``window``: its own, its menus', tool bars', buttons'."""
    seen: set[int] = set()
    found: list[QAction] = []

    def add(actions: list[QAction]) -> None:
        for action in actions:
            if id(action) not in seen:
                seen.add(id(action))
                found.append(action)

    add(list(window.actions()))
    for bar in window.findChildren(QMenuBar):
        for action in bar.actions():
            if action.menu() is not None:
                add([action])
                found.extend(_menu_actions(action.menu(), seen))
            else:
                add([action])
    for bar in window.findChildren(QToolBar):
        add(list(bar.actions()))
    for button in window.findChildren(QToolButton):
        if button.defaultAction() is not None:
            add([button.defaultAction()])
    add([a for a in window.findChildren(QAction) if not _from_pyqtgraph(a)])
    return [
        a
        for a in found
        if not a.isSeparator() and a.isEnabled() and a.menu() is None and not _quits(a) and not _from_pyqtgraph(a)
    ]


class Monkey:
    """Chooses and performs random actions on ``window``, timing each; logs them for replay."""

    def __init__(self, window: QWidget, rng: random.Random, errors: ErrorRecorder, guard: ModalGuard, log_path: Path):
        self.window = window
        self.rng = rng
        self.errors = errors
        self.guard = guard
        self.log_path = log_path
        self.app = QApplication.instance()
        self.history: deque[str] = deque(maxlen=LAST_ACTIONS_SHOWN)
        self.log = log_path.open("w", encoding="utf-8")
        self.count = 0
        self.too_slow: list[str] = []
        self._config = window.controller.config
        self.slowest: tuple[float, str] = (0.0, "")
        self.kinds: dict[str, int] = {}
        weights: list[tuple[Callable[[], str | None], int]] = [
            (self.spin_box, 22),
            (self.slider, 10),
            (self.combo_box, 14),
            (self.button, 8),
            (self.action, 16),
            (self.key, 14),
            (self.resize, 5),
            (self.window_state, 3),
            (self.idle, 8),
        ]
        self._moves = [m for m, _ in weights]
        self._weights = [w for _, w in weights]

    # ---- the session ------------------------------------------------------------------------
    def context(self) -> str:
        if not self.log.closed:
            self.log.flush()
        return (
            f"monkey seed {SEED}, action {self.count}; replay with GRADLAB_MONKEY_SEED={SEED} "
            f"GRADLAB_MONKEY_ACTIONS={self.count}\nlast actions (index, seconds, what):\n  "
            + "\n  ".join(self.history)
            + f"\nfull log: {self.log_path}"
        )

    def run(self, count: int) -> None:
        for _ in range(count):
            self.one()

    def one(self) -> None:
        move = self.rng.choices(self._moves, self._weights)[0]
        self.count += 1
        clock = ActionClock()
        description = move()
        pending = time.perf_counter()
        self.app.processEvents()
        events_s = time.perf_counter() - pending
        clock.stop()
        if description is None:  # nothing of that kind to act on right now
            description = f"{move.__name__}: nothing to act on"
        idle_s = float(description.split("idle ")[1].split(" ")[0]) / 1000 if description.startswith("idle ") else 0.0
        seconds = clock.running_s - idle_s
        line = f"{self.count:6d} {seconds:6.3f}s {description} (events {events_s:.3f}s)"
        if clock.stolen_s or seconds > 0.5:
            line += f" ({clock.describe()})"
        config = self.window.controller.config
        if config != self._config:
            changed = self._config.differences(config) if self._config is not None else {}
            line += f"\n         run {self.window.controller.run_id}: " + ", ".join(
                f"{name}={new!r}" for name, (_, new) in changed.items()
            )
            self._config = config
        line += f" [frames shown {self.window.frames_displayed}]"
        self.history.append(line)
        self.log.write(line + "\n")
        self.kinds[move.__name__] = self.kinds.get(move.__name__, 0) + 1
        if seconds > self.slowest[0]:
            self.slowest = (seconds, line)
        self.errors.check(f"after action {self.count}")
        if clock.over_limits(idle_s):
            # Recorded, and the session goes on: the other checks still cover every action.
            self.too_slow.append(line)
        assert self.window.isVisible(), f"an action closed or hid the window:\n{self.context()}"

    # ---- targets ----------------------------------------------------------------------------
    def _widgets(self, kind: type) -> list:
        return [w for w in self.window.findChildren(kind) if _reachable(w)]

    @staticmethod
    def _name(widget: QWidget) -> str:
        label = widget.toolTip().split(" (")[0] or widget.objectName() or type(widget).__name__
        return f"{type(widget).__name__}[{label[:40]}]"

    # ---- moves ------------------------------------------------------------------------------
    def spin_box(self) -> str | None:
        spins = self._widgets(QAbstractSpinBox)
        if not spins:
            return None
        spin = self.rng.choice(spins)
        low, high = spin.minimum(), spin.maximum()
        is_float = isinstance(spin, QDoubleSpinBox)
        mode = self.rng.choice(["min", "max", "below", "above", "uniform", "log", "typed", "steps", "burst"])
        name = self._name(spin)
        if mode == "typed":
            text = self.rng.choice([*TYPED_TEXTS, str(high), str(low)])
            spin.setFocus()
            spin.selectAll()
            type_text(spin, text)
            QTest.keyClick(spin, Qt.Key.Key_Return)
            return f"spin {name}: typed {text!r} + Enter -> {spin.value()}"
        if mode == "steps":
            steps = self.rng.choice([-100, -10, -1, 1, 10, 100])
            spin.stepBy(steps)
            return f"spin {name}: stepBy({steps}) -> {spin.value()}"
        if mode == "burst":
            values = [
                self._value(spin, low, high, is_float, self.rng.choice(["min", "max", "uniform", "log"]))
                for _ in range(self.rng.randint(2, 8))
            ]
            for value in values:
                spin.setValue(value)
            return f"spin {name}: burst {values} -> {spin.value()}"
        value = self._value(spin, low, high, is_float, mode)
        spin.setValue(value)
        return f"spin {name}: setValue({value!r}) [{mode}] -> {spin.value()}"

    def _value(self, spin: QAbstractSpinBox, low, high, is_float: bool, mode: str):  # type: ignore[no-untyped-def]
        rng = self.rng
        if mode == "min":
            return low
        if mode == "max":
            return high
        if mode == "below":
            return low - (rng.choice([1, 10, 1e6]) if is_float else rng.choice([1, 10, 1000]))
        if mode == "above":
            return high + (rng.choice([1, 10, 1e6]) if is_float else rng.choice([1, 10, 1000]))
        if mode == "log" and low > 0:
            value = math.exp(rng.uniform(math.log(low), math.log(high)))
        else:
            value = rng.uniform(low, high)
        return value if is_float else int(round(value))

    def slider(self) -> str | None:
        sliders = self._widgets(QSlider)
        if not sliders:
            return None
        slider = self.rng.choice(sliders)
        low, high = slider.minimum(), slider.maximum()
        mode = self.rng.choice(["min", "max", "random", "drag", "page"])
        if mode == "drag":
            positions = [self.rng.randint(low, high) for _ in range(self.rng.randint(3, 20))]
            slider.setSliderDown(True)
            for position in positions:
                slider.setSliderPosition(position)
            slider.setSliderDown(False)
            return f"slider {self._name(slider)}: dragged through {positions[:4]}… to {positions[-1]}"
        if mode == "page":
            action = self.rng.choice(
                [
                    QSlider.SliderAction.SliderPageStepAdd,
                    QSlider.SliderAction.SliderPageStepSub,
                    QSlider.SliderAction.SliderToMinimum,
                    QSlider.SliderAction.SliderToMaximum,
                ]
            )
            slider.triggerAction(action)
            return f"slider {self._name(slider)}: {action.name} -> {slider.value()}"
        value = {"min": low, "max": high}.get(mode, self.rng.randint(low, high))
        slider.setValue(value)
        return f"slider {self._name(slider)}: setValue({value})"

    def combo_box(self) -> str | None:
        combos = [c for c in self._widgets(QComboBox) if c.count() > 0]
        if not combos:
            return None
        combo = self.rng.choice(combos)
        mode = self.rng.choice(["random", "random", "first", "last", "alternate"])
        if mode == "alternate":
            indices = [self.rng.randrange(combo.count()) for _ in range(self.rng.randint(2, 10))]
            for index in indices:
                combo.setCurrentIndex(index)
            return f"combo {self._name(combo)}: alternated {indices} -> {combo.currentText()!r}"
        index = {"first": 0, "last": combo.count() - 1}.get(mode, self.rng.randrange(combo.count()))
        combo.setCurrentIndex(index)
        return f"combo {self._name(combo)}: index {index} -> {combo.currentText()!r}"

    def button(self) -> str | None:
        buttons = [
            b
            for b in self._widgets(QAbstractButton)
            if not any(word in b.text().replace("&", "").lower() for word in QUIT_WORDS)
            and not (isinstance(b, QToolButton) and b.defaultAction() is not None and _quits(b.defaultAction()))
        ]
        if not buttons:
            return None
        button = self.rng.choice(buttons)
        button.click()
        return f"button {type(button).__name__}[{button.text()!r}] clicked"

    def action(self) -> str | None:
        actions = discover_actions(self.window)
        if not actions:
            return None
        action = self.rng.choice(actions)
        action.trigger()
        checked = f" (checked={action.isChecked()})" if action.isCheckable() else ""
        return f"action {action.text()!r} triggered{checked}"

    def key(self) -> str | None:
        key = self.rng.choice(KEYS)
        modifier = self.rng.choices([m for m, _ in MODIFIERS], [w for _, w in MODIFIERS])[0]
        if (key, modifier) in FORBIDDEN_KEYS:
            modifier = Qt.KeyboardModifier.NoModifier
        if not self.window.isActiveWindow():
            self.window.activateWindow()
        target = QApplication.focusWidget() if self.rng.random() < 0.5 else None
        if target is None or not target.isVisible() or target.window() is not self.window:
            target = self.window
        QTest.keyClick(target, key, modifier)
        return f"key {QKeySequence(key.value | modifier.value).toString()!r} to {type(target).__name__}"

    def resize(self) -> str | None:
        if self.window.isFullScreen() or self.window.isMaximized():
            self.window.showNormal()
        size = self.rng.choice([(640, 400), (1920, 1080), (self.rng.randint(640, 1920), self.rng.randint(400, 1080))])
        self.window.resize(*size)
        return f"resize to {size} -> {self.window.width()}×{self.window.height()}"

    def window_state(self) -> str | None:
        state = self.rng.choice(["showFullScreen", "showNormal", "showMaximized"])
        getattr(self.window, state)()
        return f"window {state}"

    def idle(self) -> str | None:
        milliseconds = self.rng.choice([0, 5, 20, 50, 150, 400])
        QTest.qWait(milliseconds)
        return f"idle {milliseconds} ms"


def run_monkey_session(window, qtbot, errors: ErrorRecorder, guard: ModalGuard, tmp_path: Path, count: int) -> None:  # type: ignore[no-untyped-def]
    rng = random.Random(SEED)
    monkey = Monkey(window, rng, errors, guard, tmp_path / "monkey-actions.log")
    errors.context = monkey.context
    stalls = StallMonitor()
    stalls.where = lambda: monkey.history[-1] if monkey.history else "before the first action"
    window.activateWindow()
    qtbot.waitUntil(lambda: window.frames_displayed >= 1, timeout=PATIENCE_MS)
    stalls.start()
    started = time.monotonic()
    try:
        monkey.run(count)
    finally:
        stalls.stop()
        monkey.log.close()
    elapsed = time.monotonic() - started
    print(
        f"\nmonkey seed {SEED}: {count} actions in {elapsed:.1f} s; slowest: {monkey.slowest[1]}; "
        f"longest event-loop gap {stalls.longest_s:.3f} s at: {stalls.longest_at}; "
        f"actions by kind: {monkey.kinds}; dialogs answered: {len(guard.answered)}, closed: {len(guard.closed)}"
    )
    errors.check("during the monkey session")
    assert_still_responds(window, qtbot, errors, monkey.context)
    # Last, so that a slow action does not hide any other failure of the session.
    if monkey.too_slow or stalls.longest_s > HANG_LIMIT_S:
        raise ActionTooSlow(
            f"{len(monkey.too_slow)} action(s) over {ACTION_CPU_LIMIT_S} s of GUI-thread CPU or blocked"
            f" {HANG_LIMIT_S} s (seed {SEED}):\n  "
            + "\n  ".join(monkey.too_slow[:30])
            + f"\nlongest event-loop gap {stalls.longest_s:.2f} s at: {stalls.longest_at}\nfull log: {monkey.log_path}"
        )


def assert_still_responds(window, qtbot, errors: ErrorRecorder, context: Callable[[], str]) -> None:  # type: ignore[no-untyped-def]
    """After the session: a small scene runs and shows frames, Step still steps, nothing is left behind."""
    for extra in extra_top_level_windows(window):
        extra.close()
    window.showNormal()
    window.resize(1280, 720)
    controller = window.controller
    if controller.paused:
        controller.resume()
    deliveries: list[Delivery] = []
    controller.yielded.connect(deliveries.append)
    final = Config(hidden_size=8, seq_len=23, batch_size=4, seed=123)
    asked = time.monotonic()
    run_id = window.set_config(final)
    assert window.config == final
    assert controller.config == final, "the controller does not run the config the controls show"
    arrived = lambda: any(d.run_id == run_id and d.frame is not None for d in deliveries)  # noqa: E731
    deadline = asked + FINAL_FRAME_TIMEOUT_S
    while not arrived() and time.monotonic() < deadline:
        qtbot.wait(20)
    assert arrived(), (
        f"no frame of the final scene within {FINAL_FRAME_TIMEOUT_S:.0f} s after the session;\n"
        f"{controller_state(window)}\n{context()}"
    )
    latency = time.monotonic() - asked
    print(f"first frame of the final scene after {latency:.2f} s")
    frame = next(d.frame for d in deliveries if d.run_id == run_id and d.frame is not None)
    assert frame.log10_dh_norm.size == final.seq_len
    # Step: pause and exactly one more update. Settled: the process has read the pause and every
    # update it computed before has arrived (a first Step's own update may still be under way then).
    controller.pause()
    qtbot.waitUntil(lambda: controller.caught_up, timeout=PATIENCE_MS)
    latest = lambda: window.session.latest_frame.iteration  # type: ignore[union-attr]  # noqa: E731
    settled = latest()
    window.step_action.trigger()
    assert controller.paused
    qtbot.waitUntil(lambda: latest() > settled and controller.caught_up, timeout=PATIENCE_MS)
    assert latest() == settled + 1

    # Nothing left behind: only the current process and at most a warm standby.
    def kept() -> set:
        return set(controller.processes)

    qtbot.waitUntil(lambda: set(live_processes()) <= kept(), timeout=PATIENCE_MS)
    assert len(kept()) <= 2
    errors.check("after the session")


@pytest.fixture
def monkey_window(qtbot, errors, modal_guard):  # type: ignore[no-untyped-def]
    window = open_window(qtbot, SMALL)
    yield window
    for extra in extra_top_level_windows(window):
        extra.close()
    window.close()
    assert not live_processes(), "simulation processes left running after the window closed"


def test_monkey(monkey_window, qtbot, errors, modal_guard, tmp_path):
    run_monkey_session(monkey_window, qtbot, errors, modal_guard, tmp_path, ACTIONS)


@pytest.mark.slow
def test_monkey_full_session(monkey_window, qtbot, errors, modal_guard, tmp_path):
    run_monkey_session(monkey_window, qtbot, errors, modal_guard, tmp_path, FULL_ACTIONS)

"""Every command of the window as a QAction with its keys, grouped as the menus show them.

One place for the keys: the menus, the toolbar, the help overlay and the tests all read them from
here, so a shortcut cannot be listed in one place and bound differently in another.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import QComboBox, QLabel, QMainWindow, QToolBar

from gradlab.presets import Preset
from gradlab.ui.pace import SPEEDS, speed_text


def _action(
    parent: QObject,
    text: str,
    keys: Sequence[str | QKeySequence.StandardKey] = (),
    tip: str = "",
    *,
    checkable: bool = False,
) -> QAction:
    action = QAction(text, parent)
    sequences = [QKeySequence(k) for k in keys]
    if sequences:
        action.setShortcuts(sequences)
    # The window's shortcuts work whichever control has the focus (a spin box being edited still
    # gets its digits and letters: text fields take those before shortcuts do).
    action.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
    shown = ", ".join(s.toString(QKeySequence.SequenceFormat.NativeText) for s in sequences)
    action.setToolTip(
        f"{tip or text.replace('&', '').rstrip('.…')} ({shown})" if shown else (tip or text.replace("&", ""))
    )
    action.setCheckable(checkable)
    return action


class WindowActions:
    """The actions, unconnected: the window connects them to what they do."""

    def __init__(self, parent: QObject, scenes: Sequence[Preset]) -> None:
        a = _action
        # File
        self.open_scenario = a(parent, "&Open scenario…", ["Ctrl+O"], "Open a scenario file (JSON)")
        self.save_scene = a(parent, "&Save scene as…", ["Ctrl+Shift+S"], "Save the current scene as a scenario file")
        self.export_png = a(parent, "Export plots as &PNG…", ["Ctrl+E"])
        self.export_pdf = a(parent, "Export plots as P&DF…", ["Ctrl+Shift+E"])
        self.record_clip = a(parent, "&Record clip…", ["Ctrl+Shift+R"], "Record the plots as an animated GIF or MP4")
        self.export_csv = a(parent, "Export data as &CSV…", ["Ctrl+D"], "Export every update of the run as CSV")
        self.export_npz = a(parent, "Export data as &NPZ…", ["Ctrl+Shift+D"], "Export every update of the run as NPZ")
        self.quit = a(parent, "&Quit", ["Ctrl+Q"])
        # Simulation
        self.play = a(parent, "Pause", ["Space"], "Play / pause the simulation")
        self.step = a(parent, "Step", ["S"], "Pause and compute one update")
        self.reset = a(parent, "Reset", ["R"], "Start again from the initial weights")
        self.speed_group = QActionGroup(parent)
        self.speed_group.setExclusive(True)
        self.speeds: list[QAction] = []
        for speed in SPEEDS:
            text = "As fast as possible" if speed is None else f"{speed:g} updates per second"
            action = a(parent, text, [], f"Pace: {speed_text(speed)}", checkable=True)
            action.setData(speed)
            action.setChecked(speed is None)
            self.speed_group.addAction(action)
            self.speeds.append(action)
        self.faster = a(parent, "Faster", ["]"], "Faster pace (up to as fast as possible)")
        self.slower = a(parent, "Slower", ["["], "Slower pace: slow motion, down to 1 update per second")
        # Scenes
        self.scene_group = QActionGroup(parent)
        self.scene_group.setExclusive(True)
        self.scenes: list[QAction] = []
        self._acts: dict[QAction, int] = {}
        for number, preset in enumerate(scenes, start=1):
            keys = [preset.key] if preset.key else []
            # "&1" also underlines the digit (a mnemonic); a shifted key reads "⇧1"
            prefix = (f"&{preset.key}" if preset.act == 0 else f"⇧{preset.key[-1]}") if preset.key else f"{number}"
            action = a(parent, f"{prefix}  {preset.scenario.title}", keys, preset.scenario.caption, checkable=True)
            action.setData(preset.name)
            self.scene_group.addAction(action)
            self.scenes.append(action)
            self._acts[action] = preset.act
        self.next_scene = a(parent, "Next scene", ["PgDown"], "Next scene (a presenter's clicker sends Page Down)")
        self.previous_scene = a(parent, "Previous scene", ["PgUp"], "Previous scene (Page Up)")
        # View
        self.full_screen = a(parent, "&Full screen", ["F11"], checkable=True)
        self.bigger = a(parent, "&Bigger", ["Ctrl+=", "Ctrl++"], "Scale every font, line and marker up")
        self.smaller = a(parent, "S&maller", ["Ctrl+-"], "Scale every font, line and marker down")
        self.normal_size = a(parent, "&Normal size", ["Ctrl+0"], "Back to the normal size")
        self.hide_controls = a(
            parent, "&Hide controls", ["H"], "Hide the control panel and toolbar: plots fill the window", checkable=True
        )
        self.phase_map = a(
            parent,
            "Phase &map",
            ["M"],
            "Switch between the live plots and the phase map (order to chaos)",
            checkable=True,
        )
        self.layers = a(
            parent,
            "Per-&layer view",
            ["L"],
            "Switch between the live plots and depth mode's layers: activations, gradients, update:weight",
            checkable=True,
        )
        # The phase map and the per-layer view each take the plots' place: one at a time.
        self.whole_views = QActionGroup(parent)
        self.whole_views.setExclusionPolicy(QActionGroup.ExclusionPolicy.ExclusiveOptional)
        self.whole_views.addAction(self.phase_map)
        self.whole_views.addAction(self.layers)
        self.why = a(
            parent,
            "&Why (factors and gates)",
            ["Y"],
            "Show why in place of the spectrum: a step's weight and activation factors, or the gates",
            checkable=True,
        )
        self.jacobian = a(
            parent,
            "&Jacobian (singular values)",
            ["J"],
            "Show the singular values of the Jacobian ∂h_T/∂h_{T−k} in place of the spectrum",
            checkable=True,
        )
        # The why panel and the Jacobian each take the spectrum's place: one at a time.
        self.spectrum_views = QActionGroup(parent)
        self.spectrum_views.setExclusionPolicy(QActionGroup.ExclusionPolicy.ExclusiveOptional)
        self.spectrum_views.addAction(self.why)
        self.spectrum_views.addAction(self.jacobian)
        self.theme_group = QActionGroup(parent)
        self.theme_group.setExclusive(True)
        self.theme_projector = a(parent, "&Projector theme (light)", [], checkable=True)
        self.theme_dark = a(parent, "&Dark theme", [], checkable=True)
        for action, name in ((self.theme_projector, "projector"), (self.theme_dark, "dark")):
            action.setData(name)
            self.theme_group.addAction(action)
        self.toggle_theme = a(parent, "&Switch theme", ["T"], "Switch between the projector and the dark theme")
        self.pin = a(parent, "&Pin this run", ["P"], "Keep this run's curves on the plots as a ghost (at most 3)")
        self.clear_pins = a(parent, "&Clear pins", ["Shift+P"], "Remove every pinned run")
        self.escape = a(parent, "Leave full screen / close overlay", ["Esc"])
        # Help
        self.help = a(parent, "&Keyboard shortcuts", ["F1", "?"], "Show every shortcut")

    def check_speed(self, speed: float | None) -> None:
        for action in self.speeds:
            if action.data() == speed:
                action.setChecked(True)

    def check_scene(self, preset: str) -> None:
        """Tick the scene ``preset`` in the Scenes menu, or none ("")."""
        checked = self.scene_group.checkedAction()
        if not preset and checked is not None:
            # Exclusive groups cannot uncheck their last action by setChecked(False).
            self.scene_group.setExclusive(False)
            checked.setChecked(False)
            self.scene_group.setExclusive(True)
        for action in self.scenes:
            if action.data() == preset:
                action.setChecked(True)

    def menus(self) -> list[tuple[str, list[QAction | None]]]:
        """(menu title, actions; None = separator), in menu order."""
        return [
            (
                "&File",
                [
                    self.open_scenario,
                    self.save_scene,
                    None,
                    self.export_png,
                    self.export_pdf,
                    self.record_clip,
                    self.export_csv,
                    self.export_npz,
                    None,
                    self.quit,
                ],
            ),
            ("&Simulation", [self.play, self.step, self.reset, None, *self.speeds, self.faster, self.slower]),
            ("S&cenes", [*self._scenes_by_act(), None, self.next_scene, self.previous_scene]),
            (
                "&View",
                [
                    self.full_screen,
                    self.hide_controls,
                    self.phase_map,
                    self.layers,
                    self.why,
                    self.jacobian,
                    None,
                    self.bigger,
                    self.smaller,
                    self.normal_size,
                    None,
                    self.theme_projector,
                    self.theme_dark,
                    self.toggle_theme,
                    None,
                    self.pin,
                    self.clear_pins,
                    None,
                    self.escape,
                ],
            ),
            ("&Help", [self.help]),
        ]

    def _scenes_by_act(self) -> list[QAction | None]:
        """The scenes, a separator between the acts."""
        listed: list[QAction | None] = []
        previous = None
        for action in self.scenes:
            if previous is not None and self._acts[action] != previous:
                listed.append(None)
            listed.append(action)
            previous = self._acts[action]
        return listed

    def all(self) -> list[QAction]:
        return [action for _, actions in self.menus() for action in actions if action is not None]

    def help_sections(self) -> list[tuple[str, list[QAction]]]:
        """(menu title without "&", its actions) for the help overlay."""
        # The pace's choices are listed by their keys ([ and ]), not one by one.
        return [
            (title.replace("&", ""), [a for a in actions if a is not None and a not in self.speeds])
            for title, actions in self.menus()
        ]

    def install(self, window: QMainWindow) -> None:
        """The menu bar, and every action on the window itself (the keys work with the menu bar hidden)."""
        bar = window.menuBar()
        for title, actions in self.menus():
            menu = bar.addMenu(title)
            for action in actions:
                if action is None:
                    menu.addSeparator()
                else:
                    menu.addAction(action)
        for action in self.all():
            window.addAction(action)


class SceneToolbar(QToolBar):
    """The scene chooser and the presenter's buttons (pins, theme, size, controls, help)."""

    def __init__(self, acts: WindowActions) -> None:
        super().__init__("Scenes")
        self.setObjectName("scenesToolbar")
        self.setMovable(False)
        self.addWidget(QLabel(" Scene "))
        self.scene_combo = QComboBox()
        self.scene_combo.setToolTip("Choose a scene (keys 1 … 9, 0; Page Down / Page Up)")
        self.scene_combo.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        for action in acts.scenes:
            self.scene_combo.addItem(action.text().replace("&", ""), action.data())
        self.scene_combo.addItem("(custom)", "")
        self._shown = ""
        # A scene chosen here is the scene's own action (as its key): one way to load a scene.
        self.scene_combo.activated.connect(
            lambda index: acts.scenes[index].trigger() if index < len(acts.scenes) else self.show_scene(self._shown)
        )
        self.addWidget(self.scene_combo)
        self.addSeparator()
        tools: tuple[QAction | None, ...] = (
            acts.pin,
            acts.clear_pins,
            None,
            acts.toggle_theme,
            acts.smaller,
            acts.bigger,
            acts.hide_controls,
            acts.full_screen,
            acts.phase_map,
            acts.layers,
            acts.why,
            acts.jacobian,
            None,
            acts.help,
        )
        for tool in tools:
            if tool is None:
                self.addSeparator()
            else:
                self.addAction(tool)

    def show_scene(self, preset: str) -> None:
        """Select ``preset`` in the chooser ("" selects "(custom)")."""
        self._shown = preset
        index = self.scene_combo.findData(preset)
        if index < 0:
            index = self.scene_combo.findData("")
        self.scene_combo.setCurrentIndex(index)

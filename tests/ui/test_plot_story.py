"""What the plots say in the scenes where it matters: a blow-up keeps its last finite picture, a
mouse zoom is undone by a button and by every new run, pins look unlike the reference lines."""

from __future__ import annotations

from patience import PATIENCE_MS

from gradlab.presets import presets
from gradlab.ui.theme import Theme


def _scene(window, name: str) -> None:  # type: ignore[no-untyped-def]
    preset = next(p for p in presets() if p.name.startswith(name))
    window.load_preset(preset.name)


def test_a_run_that_blows_up_keeps_its_last_finite_update_bright(window, qtbot):
    _scene(window, "03")
    qtbot.waitUntil(lambda: not window.controller.running and window.frames_displayed >= 1, timeout=PATIENCE_MS)
    qtbot.waitUntil(lambda: any("at every step" in t for t in window.gradient_plot.legend_text()), timeout=PATIENCE_MS)
    plot = window.gradient_plot
    texts = plot.legend_text()
    # The rising line of update 1 stays the bright curve, with its slope; the NaN of update 2 is an event.
    # (worded "update 1: +0.176/step" where the legend is short of room)
    assert any(t.startswith(("update 1 (last finite) · ", "update 1: ")) and "+0.17" in t for t in texts), texts
    assert any(t.startswith("update 2: nan at every step") for t in texts), texts
    assert any(t.startswith("bound") and "+0.17" in t for t in texts), texts
    y = plot.latest_curve.yData
    assert y is not None and (y == y).sum() == window.config.seq_len  # every step finite
    # The one enormous update is a visible point in the training panel.
    training = window.training_plot
    qtbot.waitUntil(lambda: training.grad_dots.data.size == 1, timeout=PATIENCE_MS)
    assert training.loss_dots.data.size == 1


def test_a_mouse_zoom_is_undone_by_its_button_and_by_a_new_run(window, qtbot, wait_frames):
    wait_frames(window, 2)
    for plot, view in (
        (window.gradient_plot, window.gradient_plot.getPlotItem().getViewBox()),
        (window.training_plot, window.training_plot.grad_plot.getViewBox()),
    ):
        before = view.viewRange()
        view.scaleBy((0.5, 0.5))
        view.sigRangeChangedManually.emit(view.state["mouseEnabled"])
        assert plot.zoom_reset.zoomed and plot.zoom_reset.isVisible()
        wait_frames(window, 2)
        assert view.viewRange() != before  # the plot leaves a zoomed view alone
        plot.zoom_reset.click()
        assert not plot.zoom_reset.zoomed and not plot.zoom_reset.isVisible()
        qtbot.waitUntil(lambda view=view, before=before: view.viewRange()[0] == before[0], timeout=PATIENCE_MS)
    view = window.gradient_plot.getPlotItem().getViewBox()
    view.scaleBy((0.5, 0.5))
    view.sigRangeChangedManually.emit(view.state["mouseEnabled"])
    window.reset()
    qtbot.waitUntil(lambda: not window.gradient_plot.zoom_reset.zoomed, timeout=PATIENCE_MS)
    assert not window.gradient_plot.zoom_reset.isVisible()


def test_pin_colours_differ_from_the_theory_threshold_and_live_curves():
    for theme in (Theme.named("projector"), Theme.named("dark")):
        others = {
            theme.colour(role).name()  # type: ignore[arg-type]
            for role in ("theory", "threshold", "latest", "grad_before", "grad_after", "loss", "cell_state")
        }
        pins = [theme.pin_pen(i).color().name() for i in range(3)]
        assert len(set(pins)) == 3
        assert not set(pins) & others


def test_the_gradient_histogram_says_it_is_before_clipping(window, qtbot, wait_frames):
    _scene(window, "06")
    wait_frames(window, 2)
    assert "(before" in window.weights_plot.titles()[1]
    _scene(window, "01")
    wait_frames(window, 2)
    assert "before" not in window.weights_plot.titles()[1]

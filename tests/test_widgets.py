"""Live panels, driven headlessly: ipywidgets models work without a frontend (set ``.value``, ``.click()``)."""

import time

import ipywidgets as W
import pytest

from iclcore.widgets import LIVE_BUDGET_S, STALE_MESSAGE, LivePanel, float_knob, int_knob, live_panel


def _panel(update, **kwargs) -> LivePanel:
    return live_panel(update, {"n": int_knob("n", 5, 1, 10), "s": float_knob("σ", 0.5, 0, 1, 0.1)}, **kwargs)


def test_live_panel_calls_update_with_values():
    seen = {}
    panel = _panel(lambda n, s: seen.update(n=n, s=s), run_now=True)
    assert seen == {"n": 5, "s": 0.5}
    panel.controls["n"].value = 7
    panel.button.click()
    assert seen == {"n": 7, "s": 0.5}
    with pytest.raises(ValueError, match="at least one widget"):
        live_panel(lambda: None, {})


def test_moving_a_control_marks_the_output_stale_until_run():
    calls = []
    panel = _panel(lambda n, s: calls.append(n), run_now=True)
    assert not panel.stale and STALE_MESSAGE not in panel.status.value
    assert "icl-stale" not in panel.output._dom_classes
    panel.controls["n"].value = 8
    assert calls == [5], "a retraining panel must not rerun on a change"
    assert panel.stale and STALE_MESSAGE in panel.status.value
    assert "icl-stale" in panel.output._dom_classes, "the old output is dimmed"
    panel.button.click()
    assert calls == [5, 8]
    assert not panel.stale and STALE_MESSAGE not in panel.status.value
    assert "icl-stale" not in panel.output._dom_classes


def test_before_the_first_run_the_panel_asks_for_one():
    panel = _panel(lambda n, s: None)
    assert "press Run" in panel.status.value
    panel.controls["s"].value = 0.7
    assert panel.stale and STALE_MESSAGE in panel.status.value


def test_button_is_disabled_while_update_runs_and_comes_back():
    during = {}

    def update(n, s):
        during.update(disabled=panel.button.disabled, running=panel.running, status=panel.status.value,
                      label=panel.button.description)

    panel = _panel(update, button="Train")
    panel.button.click()
    assert during["disabled"] and during["running"] and "running" in during["status"]
    assert during["label"] != "Train"
    assert not panel.button.disabled and not panel.running and panel.button.description == "Train"


def test_button_comes_back_when_update_raises():
    def update(n, s):
        raise RuntimeError("boom")

    panel = _panel(update)
    with pytest.raises(RuntimeError, match="boom"):     # outside a kernel the Output widget re-raises
        panel.refresh()                                 # what the button calls
    assert not panel.button.disabled and not panel.running and panel.button.description == "Run"
    assert "failed" in panel.status.value


def test_a_second_click_while_running_is_ignored():
    calls = []

    def update(n, s):
        calls.append(n)
        panel.button.click()          # as if the reader pressed again: the button is disabled

    panel = _panel(update)
    panel.button.click()
    assert calls == [5]


def test_live_panel_reruns_on_change_within_budget():
    calls = []
    panel = _panel(lambda n, s: calls.append((n, s)) or f"n={n}", live=True)
    assert calls == [(5, 0.5)], "a live panel computes its first output at once"
    assert panel.button not in panel.children, "a live panel has no Run button"
    start = time.perf_counter()
    panel.controls["s"].value = 0.9
    elapsed = time.perf_counter() - start
    assert calls[-1] == (5, 0.9) and not panel.stale
    assert elapsed <= LIVE_BUDGET_S and panel.last_seconds <= LIVE_BUDGET_S
    assert STALE_MESSAGE not in panel.status.value


def test_slow_live_panel_says_it_is_too_slow():
    panel = _panel(lambda n, s: time.sleep(LIVE_BUDGET_S + 0.05), live=True)
    assert "too slow" in panel.status.value


def test_panel_takes_any_value_widget():
    seen = {}
    panel = live_panel(lambda law: seen.update(law=law), {"law": W.Dropdown(options=["a", "b"], value="a")})
    panel.controls["law"].value = "b"
    panel.button.click()
    assert seen == {"law": "b"}

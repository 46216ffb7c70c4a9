import pytest

from iclcore.widgets import float_knob, int_knob, live_panel


def test_live_panel_calls_update_with_values():
    seen = {}
    panel = live_panel(lambda n, s: seen.update(n=n, s=s),
                       {"n": int_knob("n", 5, 1, 10), "s": float_knob("σ", 0.5, 0, 1, 0.1)}, run_now=True)
    assert seen == {"n": 5, "s": 0.5} and len(panel.children) == 3
    panel.children[0].children[0].value = 7
    panel.children[1].click()
    assert seen == {"n": 7, "s": 0.5}
    with pytest.raises(ValueError, match="at least one widget"):
        live_panel(lambda: None, {})

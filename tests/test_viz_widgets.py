import plotly.graph_objects as go
import plotly.io as pio
import pytest

from iclcore import choose
from iclcore.profile import current_profile
from iclcore.viz import BookHtmlRenderer, setup_plotly, slider_figure
from iclcore.widgets import float_knob, int_knob, live_panel


def test_renderer_gives_light_html_without_plotlyjs():
    fig = go.Figure(go.Scatter(x=[1, 2], y=[3, 4]))
    html = BookHtmlRenderer().to_mimebundle(fig.to_dict())["text/html"]
    assert "Plotly.newPlot" in html and len(html) < 20_000 and "cdn" not in html.lower()


def test_setup_plotly_sets_renderer_and_theme():
    setup_plotly()
    assert pio.renderers.default == "plotly_mimetype+book" and pio.templates.default == "icl"


def test_slider_figure_has_one_frame_per_value():
    fig = slider_figure([1, 2, 3], lambda v: [go.Scatter(x=[0, 1], y=[0, v])], "n")
    assert len(fig.frames) == 3 and len(fig.layout.sliders[0].steps) == 3
    assert tuple(fig.frames[2].data[0].y) == (0, 3) and tuple(fig.data[0].y) == (0, 1)


def test_slider_figure_bad_input():
    with pytest.raises(ValueError, match="at least one"):
        slider_figure([], lambda v: [], "n")
    with pytest.raises(ValueError, match="same number of traces"):
        slider_figure([1, 2], lambda v: [go.Scatter()] * v, "n")
    with pytest.raises(ValueError, match="active must be"):
        slider_figure([1], lambda v: [go.Scatter()], "n", active=3)


def test_live_panel_calls_update_with_values():
    seen = {}
    panel = live_panel(lambda n, s: seen.update(n=n, s=s),
                       {"n": int_knob("n", 5, 1, 10), "s": float_knob("σ", 0.5, 0, 1, 0.1)}, run_now=True)
    assert seen == {"n": 5, "s": 0.5} and len(panel.children) == 3
    with pytest.raises(ValueError, match="at least one widget"):
        live_panel(lambda: None, {})


def test_profile_switch(monkeypatch):
    monkeypatch.setenv("ICL_PROFILE", "full")
    assert choose(ci=1, full=2) == 2
    monkeypatch.setenv("ICL_PROFILE", "ci")
    assert choose(ci=1, full=2) == 1
    monkeypatch.setenv("ICL_PROFILE", "huge")
    with pytest.raises(ValueError, match="ICL_PROFILE must be one of"):
        current_profile()

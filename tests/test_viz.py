import plotly.graph_objects as go
import plotly.io as pio
import pytest

from iclcore.viz import PALETTE, BookHtmlRenderer, setup_plotly, slider_figure


def test_renderer_gives_light_html_without_plotlyjs():
    fig = go.Figure(go.Scatter(x=[1, 2], y=[3, 4]))
    html = BookHtmlRenderer().to_mimebundle(fig.to_dict())["text/html"]
    assert "Plotly.newPlot" in html and len(html) < 20_000 and "cdn" not in html.lower()


def test_after_setup_a_figure_renders_for_jupyter_and_for_the_book():
    setup_plotly()
    fig = go.Figure(go.Scatter(x=[1, 2], y=[3, 4]))
    bundle = pio.renderers._build_mime_bundle(fig.to_dict(), renderers_string=pio.renderers.default)
    assert "application/vnd.plotly.v1+json" in bundle                   # JupyterLab draws this
    assert "Plotly.newPlot" in bundle["text/html"] and "<script src" not in bundle["text/html"]
    assert list(go.Figure().to_dict()["layout"]["template"]["layout"]["colorway"]) == PALETTE


def test_slider_figure_has_one_frame_per_value():
    fig = slider_figure([1, 2, 3], lambda v: [go.Scatter(x=[0, 1], y=[0, v])], "n")
    assert len(fig.frames) == 3 and len(fig.layout.sliders[0].steps) == 3
    assert tuple(fig.frames[2].data[0].y) == (0, 3) and tuple(fig.data[0].y) == (0, 1)
    assert list(fig.layout.sliders[0].steps[2].args[0]) == [fig.frames[2].name]     # step k animates to frame k


def test_slider_figure_bad_input():
    with pytest.raises(ValueError, match="at least one"):
        slider_figure([], lambda v: [], "n")
    with pytest.raises(ValueError, match="same number of traces"):
        slider_figure([1, 2], lambda v: [go.Scatter()] * v, "n")
    with pytest.raises(ValueError, match="active must be"):
        slider_figure([1], lambda v: [go.Scatter()], "n", active=3)

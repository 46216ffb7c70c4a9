import plotly.graph_objects as go
import plotly.io as pio
import pytest

from iclcore import viz
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


def test_tidy_gives_log_axes_plain_labels_and_linear_axes_no_si_prefix():
    fig = go.Figure(go.Scatter(x=[20, 60], y=[1e-5, 1e-3]))
    fig.update_xaxes(type="log")
    out = viz.tidy(fig)
    assert out["layout"]["xaxis"]["tickformat"] == "~g"
    assert viz.book_template().layout.yaxis.exponentformat == "power"    # linear axes: 10⁻⁵, not "10μ"
    fig.update_yaxes(tickformat=".1%")                      # a chapter's own format is kept
    assert viz.tidy(fig)["layout"]["yaxis"] == {"tickformat": ".1%"}
    fig.update_xaxes(tickformat=".0f")
    assert viz.tidy(fig)["layout"]["xaxis"]["tickformat"] == ".0f"
    assert fig.layout.xaxis.tickformat == ".0f"


def test_tidy_rewrites_tex_in_names_titles_annotations_and_frames():
    fig = viz.slider_figure([1, 2], lambda v: [go.Scatter(x=[0], y=[v], name=r"$W_F^{mm}$")], "v",
                            layout={"title": r"risk of $\hat\beta$"})
    fig.add_annotation(text=r"$e^{-\Delta}$", x=0, y=0)
    out = viz.tidy(fig)
    assert out["data"][0]["name"] == "W<sub>F</sub><sup>mm</sup>"
    assert out["frames"][1]["data"][0]["name"] == "W<sub>F</sub><sup>mm</sup>"
    assert out["layout"]["title"]["text"] == "risk of β̂"
    assert out["layout"]["annotations"][0]["text"] == "e<sup>-Δ</sup>"


@pytest.mark.parametrize(("tex", "plotly"), [(r"$\alpha = 0.5$", "α = 0.5"), (r"$\eta^\star$", "η<sup>*</sup>"),
                                             (r"$\mathrm{tr}(\Sigma_x)$", "tr(Σ<sub>x</sub>)"),
                                             ("plain k_nn text", "plain k_nn text")])
def test_tex_to_plotly_known_values(tex, plotly):
    assert viz.tex_to_plotly(tex) == plotly


def test_fmt_rounds_to_significant_digits_and_never_prints_nan():
    assert viz.fmt(0.11699999868869781) == "0.117"
    assert viz.fmt(123456.0, 2) == "1.2e+05"
    assert viz.fmt(float("nan")) == "n/a"


def test_tidy_keeps_only_the_template_defaults_of_drawn_trace_kinds():
    setup_plotly()
    fig = go.Figure([go.Scatter(x=[1], y=[1]), go.Bar(x=[1], y=[2])])
    assert set(viz.tidy(fig)["layout"]["template"]["data"]) <= {"scatter", "bar"}
    assert viz.tidy(fig)["layout"]["template"]["layout"]["colorway"] == PALETTE


def test_tidy_stores_float_coordinates_as_float32_but_keeps_gaps_ints_and_tiny_values():
    import numpy as np

    x = np.linspace(0.0, 1.0, 200)
    fig = go.Figure([go.Scatter(x=x, y=np.sin(x).tolist()), go.Scatter(x=list(range(10)), y=[1e-40] * 10),
                     go.Scatter(x=[0.5, None, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5])])
    fig.frames = [go.Frame(data=[go.Scatter(x=x, y=x**2)])]
    d = viz.tidy(fig)
    def f4(v):
        assert v["dtype"] == "f4"
        return np.frombuffer(__import__("base64").b64decode(v["bdata"]), dtype="<f4")

    np.testing.assert_allclose(f4(d["data"][0]["x"]), x, rtol=1e-6)
    np.testing.assert_allclose(f4(d["data"][0]["y"]), np.sin(x), rtol=1e-6)
    assert np.asarray(d["data"][1]["y"]).dtype == np.float64        # 1e-40 underflows float32: kept
    assert np.asarray(d["data"][1]["x"]).dtype.kind == "i"
    assert None in list(d["data"][2]["x"])                             # a gap stays a gap
    assert f4(d["frames"][0]["data"][0]["y"]).size == x.size
    wide = np.linspace(0.0, 1.0, 2000)
    html = BookHtmlRenderer().to_mimebundle(go.Figure(go.Scatter(x=wide, y=np.sin(wide))).to_plotly_json())["text/html"]
    assert len(html) < 2 * 2000 * 9      # about 5.3 characters a value, against about 18 as decimal text

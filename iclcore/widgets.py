"""ipywidgets panels for live use in Jupyter (they need a running kernel; the static book shows the
plotly slider figures instead).

:func:`live_panel` lays out a set of controls, a "Run" button and an output area. Pressing the button
calls ``update(**values)``; whatever it returns (a plotly figure, a string, ...) is displayed. Training
inside ``update`` shows its tqdm progress bar in the output area.
"""

from __future__ import annotations

from collections.abc import Callable

import ipywidgets as W
from IPython.display import display


def int_knob(description: str, value: int, min: int, max: int, step: int = 1) -> W.IntSlider:
    """An integer slider with the book's layout."""
    return W.IntSlider(value=value, min=min, max=max, step=step, description=description,
                       continuous_update=False, style={"description_width": "initial"})


def float_knob(description: str, value: float, min: float, max: float, step: float) -> W.FloatSlider:
    """A float slider with the book's layout."""
    return W.FloatSlider(value=value, min=min, max=max, step=step, description=description,
                         continuous_update=False, style={"description_width": "initial"}, readout_format=".2f")


def live_panel(update: Callable[..., object], controls: dict[str, W.ValueWidget],
               button: str = "Run", run_now: bool = False) -> W.VBox:
    """Controls + a button + an output area; the button calls ``update(**{name: control.value})``."""
    if not controls:
        raise ValueError("controls must hold at least one widget")
    out = W.Output()
    run = W.Button(description=button, button_style="primary", icon="play")

    def on_click(_=None):
        out.clear_output(wait=True)
        with out:
            result = update(**{name: c.value for name, c in controls.items()})
            if result is not None:
                display(result)

    run.on_click(on_click)
    panel = W.VBox([W.HBox(list(controls.values()), layout=W.Layout(flex_flow="row wrap")), run, out])
    if run_now:
        on_click()
    return panel

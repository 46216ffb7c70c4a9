"""ipywidgets panels for live use in Jupyter (they need a running kernel; the static book shows the
plotly slider figures instead).

:func:`live_panel` lays out a set of controls, a "Run" button, a status line and an output area. Pressing
the button calls ``update(**values)``; whatever it returns (a plotly figure, a string, ...) is displayed.
Training inside ``update`` shows its tqdm progress bar in the output area.

What the reader sees:

* moving a control after a run marks the output **stale**: the status line says
  ``settings changed — press Run to update`` and the old output is dimmed (CSS class ``icl-stale``), so an
  old figure is never mistaken for the new setting;
* while ``update`` runs, the button is disabled and reads ``Running…``, and the status line says so; both
  are restored when it returns or raises (the traceback is shown in the output area);
* ``live=True`` (for cheap, closed-form panels only: the update should take ≤ 0.1 s) reruns on every change
  instead; a live update slower than that says so in the status line. Retraining panels keep the default.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import ipywidgets as W
from IPython.display import display

STALE_MESSAGE = "settings changed — press Run to update"
FIRST_MESSAGE = "press Run to compute"
RUNNING_MESSAGE = "running… (the button comes back when it is done)"
LIVE_BUDGET_S = 0.1      # a live=True panel should update within this many seconds
_CSS = ("<style>.icl-live-panel .icl-stale{opacity:.4;filter:grayscale(1)}"
        ".icl-live-panel .icl-live-status{font-style:italic}"
        ".icl-live-panel .icl-live-status.icl-stale-status{color:#b35900;font-weight:bold}</style>")


def int_knob(description: str, value: int, min: int, max: int, step: int = 1) -> W.IntSlider:
    """An integer slider with the book's layout."""
    return W.IntSlider(value=value, min=min, max=max, step=step, description=description,
                       continuous_update=False, style={"description_width": "initial"})


def float_knob(description: str, value: float, min: float, max: float, step: float) -> W.FloatSlider:
    """A float slider with the book's layout."""
    return W.FloatSlider(value=value, min=min, max=max, step=step, description=description,
                         continuous_update=False, style={"description_width": "initial"}, readout_format=".2f")


class LivePanel(W.VBox):
    """The widget :func:`live_panel` returns: ``controls``, the ``button``, a ``status`` line and the ``output``.

    ``stale`` is true when a control moved since the output was computed; ``running`` while ``update`` runs;
    ``last_seconds`` is how long the last update took.
    """

    def __init__(self, update: Callable[..., object], controls: dict[str, W.ValueWidget], button: str,
                 live: bool) -> None:
        self.update_fn = update
        self.controls = dict(controls)
        self.live = live
        self.output = W.Output()
        self.output.add_class("icl-live-output")
        self.button = W.Button(description=button, button_style="primary", icon="play")
        self.button.add_class("icl-live-run")
        self._label = button
        self.status = W.HTML(value=f"<span>{'' if live else FIRST_MESSAGE}</span>")
        self.status.add_class("icl-live-status")
        self.stale = False
        self.running = False
        self.last_seconds: float | None = None
        self._has_output = False
        self.button.on_click(lambda _: self.refresh())
        for control in self.controls.values():
            control.observe(self._on_change, names="value")
        row = W.HBox(list(self.controls.values()), layout=W.Layout(flex_flow="row wrap"))
        children = [row] if live else [row, self.button]
        super().__init__(children + [self.status, self.output, W.HTML(value=_CSS)])
        self.add_class("icl-live-panel")

    def values(self) -> dict[str, object]:
        """The current value of every control, by name."""
        return {name: c.value for name, c in self.controls.items()}

    def _say(self, text: str, stale: bool = False) -> None:
        self.status.value = f"<span>{text}</span>"
        (self.status.add_class if stale else self.status.remove_class)("icl-stale-status")

    def _on_change(self, _change: dict) -> None:
        if self.live:
            self.refresh()
            return
        self.stale = True
        if self._has_output:
            self.output.add_class("icl-stale")
        self._say(STALE_MESSAGE, stale=True)

    def refresh(self) -> None:
        """Call ``update`` with the current values and show its result (what pressing the button does)."""
        if self.running:
            return
        self.running = True
        self.button.disabled = True
        self.button.description = "Running…"
        self.button.icon = "hourglass-half"
        self._say(RUNNING_MESSAGE)
        start = time.perf_counter()
        failed = True
        try:
            self.output.clear_output(wait=True)
            with self.output:
                result = self.update_fn(**self.values())
                if result is not None:
                    display(result)
                failed = False
        finally:
            self.last_seconds = time.perf_counter() - start
            self.running = False
            self.stale = False
            self._has_output = True
            self.output.remove_class("icl-stale")
            self.button.disabled = False
            self.button.description = self._label
            self.button.icon = "play"
            if failed:
                self._say("update failed: see the error below", stale=True)
            elif self.live and self.last_seconds > LIVE_BUDGET_S:
                self._say(f"took {self.last_seconds:.2f} s: too slow for live=True "
                          f"(budget {LIVE_BUDGET_S} s)", stale=True)
            else:
                self._say("")


def live_panel(update: Callable[..., object], controls: dict[str, W.ValueWidget],
               button: str = "Run", run_now: bool = False, live: bool = False) -> LivePanel:
    """Controls + a button + a status line + an output area; the button calls ``update(**{name: control.value})``.

    A control moved after a run marks the output stale (see the module docstring). ``live=True`` hides the
    button and reruns ``update`` on every change: only for closed-form panels that update in ≤ 0.1 s.
    ``run_now`` (or ``live``) computes the first output at once.
    """
    if not controls:
        raise ValueError("controls must hold at least one widget")
    if not callable(update):
        raise ValueError(f"update must be callable, got {type(update).__name__}")
    for name, control in controls.items():
        if not isinstance(control, W.ValueWidget):
            raise ValueError(f"controls[{name!r}] must be an ipywidgets value widget, got {type(control).__name__}")
    panel = LivePanel(update, controls, button, live)
    if run_now or live:
        panel.refresh()
    return panel

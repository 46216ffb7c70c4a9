"""The "Reproduction checks" table that ends every chapter.

Each check records a claim, the measured value, the reference it is compared with and the tolerance.
``report()`` shows the table and raises ``AssertionError`` listing every failed claim, so a notebook (and
therefore nbval and the book build) fails when a claim no longer holds::

    checks = ReproductionChecks("Chapter 1")
    checks.close("trained LA reaches L* (n=20)", measured=0.71, reference=0.70, rtol=0.05, compares=SIM_THEORY)
    checks.less("H3 beats LA", measured=1.7, bound=0.8 * 2.4, compares=SIM_SIM)
    checks.report()

Every row says what it compares (``compares=``): a simulation with a closed form (:data:`SIM_THEORY`), a
simulation with another simulation (:data:`SIM_SIM`), or a simulation with a number printed in the paper
(:data:`SIM_PAPER`). A closed form compared with a closed form is a unit test, not a reproduction.

If the environment variable ``ICL_CHECKS_DIR`` is set, ``report()`` also writes the measured values as
JSON to ``$ICL_CHECKS_DIR/<slug>.json`` (used by the determinism test: two executions, same numbers).
"""

from __future__ import annotations

import html
import json
import math
import os
import re
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

SIM_THEORY = "simulation vs theory"
SIM_SIM = "simulation vs simulation"
SIM_PAPER = "simulation vs paper"
COMPARES = (SIM_THEORY, SIM_SIM, SIM_PAPER)


def _compares(value: str) -> str:
    if value not in COMPARES:
        raise ValueError(f"compares must be one of {COMPARES}, got {value!r}")
    return value


@dataclass
class Check:
    """One row of the table. ``test`` is one of 'close', 'less', 'greater', 'true'; ``compares`` one of
    :data:`COMPARES`."""

    claim: str
    measured: float
    reference: float | None
    tolerance: str
    passed: bool
    test: str
    compares: str


def _num(value, name: str) -> float:
    try:
        v = float(np.asarray(value).item())
    except (TypeError, ValueError) as e:
        raise ValueError(f"{name} must be a real number, got {value!r}") from e
    return v


def _fmt(v: float | None) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if isinstance(v, bool):
        return str(v)
    return f"{v:.5g}"


CAPTION = ("Each row is one claim of the paper, measured in this chapter. 'compares' says what the measured "
           "value is compared with: a closed form (simulation vs theory), another simulation, or a number "
           "printed in the paper. 'reference' is that value, 'tolerance' the rule for passing.")

_PASS = '<td style="color:#1a7f37;font-weight:bold">✓ pass</td>'
_FAIL = '<td style="color:#cf222e;font-weight:bold">✗ FAIL</td>'


def slug(title: str) -> str:
    """The file name (without ``.json``) under which the checks titled ``title`` are recorded."""
    return re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")


class ReproductionChecks:
    """Collects the chapter's claims; see the module docstring."""

    def __init__(self, title: str):
        self.title = title
        self.rows: list[Check] = []

    def _add(self, row: Check) -> bool:
        self.rows.append(row)
        return row.passed

    def close(self, claim: str, measured, reference, rtol: float | None = None, atol: float | None = None, *,
              compares: str):
        """Pass when ``|measured - reference| <= atol + rtol * |reference|`` (at least one tolerance given)."""
        compares = _compares(compares)
        if rtol is None and atol is None:
            raise ValueError("close() needs rtol or atol")
        m, r = _num(measured, "measured"), _num(reference, "reference")
        rt, at = float(rtol or 0.0), float(atol or 0.0)
        if rt < 0 or at < 0:
            raise ValueError(f"rtol and atol must be >= 0, got rtol={rtol}, atol={atol}")
        ok = bool(math.isfinite(m) and abs(m - r) <= at + rt * abs(r))
        tol = " + ".join(t for t in (f"rel {rt:.3g}" if rtol else "", f"abs {at:.3g}" if atol else "") if t)
        return self._add(Check(claim, m, r, f"|Δ| ≤ {tol}", ok, "close", compares))

    def less(self, claim: str, measured, bound, *, compares: str):
        """Pass when ``measured < bound``."""
        compares = _compares(compares)
        m, b = _num(measured, "measured"), _num(bound, "bound")
        return self._add(Check(claim, m, b, "< reference", math.isfinite(m) and m < b, "less", compares))

    def greater(self, claim: str, measured, bound, *, compares: str):
        """Pass when ``measured > bound``."""
        compares = _compares(compares)
        m, b = _num(measured, "measured"), _num(bound, "bound")
        return self._add(Check(claim, m, b, "> reference", math.isfinite(m) and m > b, "greater", compares))

    def true(self, claim: str, condition: bool, measured=None, *, compares: str):
        """Pass when ``condition`` holds; ``measured`` (optional) is shown for information."""
        compares = _compares(compares)
        m = float("nan") if measured is None else _num(measured, "measured")
        return self._add(Check(claim, m, None, "holds", bool(condition), "true", compares))

    @property
    def failed(self) -> list[Check]:
        return [c for c in self.rows if not c.passed]

    def as_text(self) -> str:
        lines = [f"Reproduction checks: {self.title}",
                 f"{'':2}{'claim':<58} {'compares':<24} {'measured':>10} {'reference':>10}  {'tolerance':<20} result"]
        for c in self.rows:
            lines.append(f"{'':2}{c.claim[:58]:<58} {c.compares:<24} {_fmt(c.measured):>10} {_fmt(c.reference):>10}  "
                         f"{c.tolerance:<20} {'PASS' if c.passed else 'FAIL'}")
        lines.append(f"{'':2}{len(self.rows) - len(self.failed)}/{len(self.rows)} passed")
        return "\n".join(lines)

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{h}</th>" for h in ("claim", "compares", "measured", "reference", "tolerance",
                                                  "result"))
        body = "".join(
            f"<tr><td>{html.escape(c.claim)}</td><td>{html.escape(c.compares)}</td><td>{_fmt(c.measured)}</td>"
            f"<td>{_fmt(c.reference)}</td><td>{html.escape(c.tolerance)}</td>{_PASS if c.passed else _FAIL}</tr>"
            for c in self.rows)
        summary = f"{len(self.rows) - len(self.failed)}/{len(self.rows)} checks passed"
        return (f'<table class="repro-checks"><caption>{html.escape(CAPTION)}</caption>'
                f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table><p><em>{summary}</em></p>")

    def __repr__(self) -> str:
        return self.as_text()

    def _write_json(self) -> None:
        out = os.environ.get("ICL_CHECKS_DIR")
        if not out:
            return
        Path(out).mkdir(parents=True, exist_ok=True)
        rows = [{k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in asdict(c).items()}
                for c in self.rows]
        (Path(out) / f"{slug(self.title)}.json").write_text(json.dumps({"title": self.title, "rows": rows}, indent=1))

    def report(self) -> None:
        """Display the table, then raise ``AssertionError`` if any check failed."""
        if not self.rows:
            raise AssertionError(f"{self.title}: no checks were recorded")
        self._write_json()
        try:
            from IPython.display import display
            display(self)
        except ImportError:  # pragma: no cover - IPython is always installed with the book
            print(self.as_text())
        if self.failed:
            lines = "\n".join(f"  - {c.claim}: measured {_fmt(c.measured)}, reference {_fmt(c.reference)}, "
                              f"{c.tolerance}" for c in self.failed)
            raise AssertionError(f"{self.title}: {len(self.failed)} reproduction check(s) failed:\n{lines}")

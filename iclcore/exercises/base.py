"""Checkers for the book's coding exercises: run the reader's function, give a precise and kind verdict.

A chapter's exercise cell reads::

    def my_optimal_preconditioner(Sigma_x, n, noise): ...
    check_optimal_preconditioner(my_optimal_preconditioner)

Each ``check_xxx`` is built with :func:`check_function`: it calls the reader's function on several cases
(edge cases included), compares with the reference solution, and when a case fails it says which inputs,
what was expected and what came back, plus a **hint** -- recognised by comparing the reader's answer with
known wrong answers (a missing ``+1``, a transpose, the wrong normalisation). Bad submissions (not callable,
raising, returning the wrong shape) get a message that says exactly that, never a traceback from deep inside
iclcore.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np


@dataclass
class Case:
    """One call of the reader's function: ``fn(*args, **kwargs)``; ``label`` says what it probes."""

    label: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)


@dataclass
class Verdict:
    """What a checker concluded. ``bool(verdict)`` is whether every case passed."""

    passed: bool
    message: str
    hint: str | None = None

    def __bool__(self) -> bool:
        return self.passed

    def __repr__(self) -> str:
        return self.message + (f"\nHint: {self.hint}" if self.hint else "")


def _as_array(value: Any) -> np.ndarray | None:
    try:
        out = np.asarray(value.detach().cpu().numpy() if hasattr(value, "detach") else value, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    return out


def _matches(a: np.ndarray, b: np.ndarray, rtol: float, atol: float) -> bool:
    return a.shape == b.shape and bool(np.all(np.isfinite(a))) and np.allclose(a, b, rtol=rtol, atol=atol)


def _describe(case: Case) -> str:
    def short(v):
        arr = np.asarray(v) if not callable(v) else None
        return f"array{arr.shape}" if arr is not None and arr.ndim >= 1 and arr.size > 4 else repr(v)
    parts = [short(a) for a in case.args] + [f"{k}={short(v)}" for k, v in case.kwargs.items()]
    return f"{case.label} ({', '.join(parts)})"


def check_function(fn: Callable, reference: Callable, cases: Sequence[Case], *, name: str,
                   wrong_answers: Sequence[tuple[Callable, str]] = (), rtol: float = 1e-6,
                   atol: float = 1e-9, show: bool = True) -> Verdict:
    """Compare ``fn`` with ``reference`` on every case; see the module docstring.

    ``wrong_answers``: pairs ``(wrong_fn, hint)``; when ``fn`` fails a case and its answer equals
    ``wrong_fn``'s on that case, the verdict carries ``hint``. ``show`` prints the verdict (the notebook
    cell's output) as well as returning it.
    """
    if not cases:
        raise ValueError("cases must hold at least one case")
    verdict = _judge(fn, reference, cases, name, wrong_answers, rtol, atol)
    if show:
        print(repr(verdict))
    return verdict


def _judge(fn, reference, cases, name, wrong_answers, rtol, atol) -> Verdict:
    if not callable(fn):
        return Verdict(False, f"✗ {name}: expected a function, got {type(fn).__name__} {fn!r}.",
                       "Pass the function itself, without calling it: check(my_function), not check(my_function()).")
    for i, case in enumerate(cases, start=1):
        expected = _as_array(reference(*case.args, **case.kwargs))
        try:
            got_raw = fn(*case.args, **case.kwargs)
        except NotImplementedError:
            return Verdict(False, f"✗ {name}: not implemented yet (case {i} raised NotImplementedError).")
        except Exception as e:  # noqa: BLE001 - any error of the reader's code is reported, not raised
            return Verdict(False, f"✗ {name}: case {i}, {_describe(case)}, raised {type(e).__name__}: {e}",
                           "Run your function on these inputs by hand to see where it fails.")
        got = _as_array(got_raw)
        if got is None:
            return Verdict(False, f"✗ {name}: case {i}, {_describe(case)}, returned {type(got_raw).__name__}, "
                                  "not a number or an array.")
        if got.shape != expected.shape:
            return Verdict(False, f"✗ {name}: case {i}, {_describe(case)}, returned shape {got.shape}; "
                                  f"expected shape {expected.shape}.",
                           "Check which axes your result keeps (a transpose, or a sum over the wrong axis?).")
        if not _matches(got, expected, rtol, atol):
            hint = next((h for wrong, h in wrong_answers
                         if _matches(got, _as_array(wrong(*case.args, **case.kwargs)), rtol, atol)), None)
            want, have = np.array2string(expected, precision=5), np.array2string(got, precision=5)
            return Verdict(False, f"✗ {name}: case {i}, {_describe(case)}:\n  expected {want}\n  got      {have}", hint)
    return Verdict(True, f"✓ {name}: all {len(cases)} cases pass. Well done!")

"""How a chapter is run: its size, its seeds, and which defect (if any) is switched on.

Three environment variables, read at call time, never at import:

``ICL_PROFILE=ci|full``
    ``ci`` (default) is small and fast; ``full`` is paper scale. Chapters pick sizes with :func:`choose`::

        steps = choose(ci=1500, full=5000)

``ICL_SEED=k`` (default 0)
    Shifts every seed a chapter uses. A chapter never writes a bare seed: it writes ``seed(3)`` (data),
    ``seed(100)`` (initialisation), ... so that ``ICL_SEED=1`` gives a completely different run and the
    Reproduction checks must still pass (``make seeds`` runs ICL_SEED = 1 and 2).

``ICL_BREAK=name`` (default unset)
    Turns on one named, documented defect. A chapter declares its switches once, with what each breaks::

        BREAK = declare_breaks({
            "h3-as-la": "the H3 filter is replaced by plain linear attention (equal sample weights)",
        })
        if BREAK.on("h3-as-la"): ...

    ``make breaks`` executes every chapter once per declared switch and passes only when that run's
    Reproduction checks fail. An ``ICL_BREAK`` that the chapter does not declare raises ``ValueError``
    (a typo must not silently run the unbroken chapter).

:func:`set_threads` is the one place where iclcore changes global torch state; chapters call it in their
first cell (nothing changes at import).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TypeVar

T = TypeVar("T")

PROFILES = ("ci", "full")
SEED_STRIDE = 104_729
"""``seed(k)`` is ``k + SEED_STRIDE * ICL_SEED``: a prime stride, so shifted seeds never meet base seeds."""


def current_profile() -> str:
    """Read ``ICL_PROFILE`` from the environment (default ``"ci"``)."""
    value = os.environ.get("ICL_PROFILE", "ci").strip().lower()
    if value not in PROFILES:
        raise ValueError(f"ICL_PROFILE must be one of {PROFILES}, got {value!r}")
    return value


def choose(ci: T, full: T) -> T:
    """Return ``ci`` or ``full`` according to the current profile."""
    return full if current_profile() == "full" else ci


def seed_offset() -> int:
    """The run's seed shift ``ICL_SEED`` (an integer >= 0, default 0)."""
    raw = os.environ.get("ICL_SEED", "0").strip()
    if not raw.isdigit():
        raise ValueError(f"ICL_SEED must be an integer >= 0, got {raw!r}")
    return int(raw)


def seed(base: int = 0) -> int:
    """The seed to use where a chapter means ``base``: ``base + SEED_STRIDE * ICL_SEED``."""
    if isinstance(base, bool) or not isinstance(base, int) or base < 0:
        raise ValueError(f"base must be an integer >= 0, got {base!r}")
    return base + SEED_STRIDE * seed_offset()


def active_break() -> str | None:
    """The switch named by ``ICL_BREAK`` (``None`` when unset or empty)."""
    value = os.environ.get("ICL_BREAK", "").strip()
    return value or None


class BreakSwitches:
    """A chapter's declared break switches; see the module docstring. Build it with :func:`declare_breaks`."""

    def __init__(self, switches: Mapping[str, str]):
        if not switches:
            raise ValueError("switches must declare at least one break switch")
        for name, what in switches.items():
            if not isinstance(name, str) or not name or name != name.strip().lower() or " " in name:
                raise ValueError(f"switches: a name must be lower-case with no spaces, got {name!r}")
            if not isinstance(what, str) or not what.strip():
                raise ValueError(f"switches: {name!r} needs a description of what it breaks")
        self.switches = dict(switches)
        self.active = active_break()
        if self.active is not None and self.active not in self.switches:
            raise ValueError(f"ICL_BREAK={self.active!r} is not a switch of this chapter; "
                             f"declared: {sorted(self.switches)}")

    def on(self, name: str) -> bool:
        """Whether switch ``name`` (which must be declared) is the one turned on."""
        if name not in self.switches:
            raise ValueError(f"name {name!r} is not a declared switch; declared: {sorted(self.switches)}")
        return self.active == name

    def _repr_markdown_(self) -> str:
        rows = "\n".join(f"| `{n}` | {w} |{' **on**' if n == self.active else ''}"
                         for n, w in self.switches.items())
        return f"| `ICL_BREAK=` | what it breaks |\n|---|---|\n{rows}\n"

    def __repr__(self) -> str:
        lines = [f"  {n:<24} {w}{'   <- ON' if n == self.active else ''}" for n, w in self.switches.items()]
        return "Break switches (ICL_BREAK=name):\n" + "\n".join(lines)


def declare_breaks(switches: Mapping[str, str]) -> BreakSwitches:
    """Declare the chapter's break switches (name -> what it breaks). Write the dict as a literal: ``make
    breaks`` reads the names from the notebook's source."""
    return BreakSwitches(switches)


def set_threads(n: int | None = None) -> int:
    """Set torch's intra-op threads (default ``ICL_TORCH_THREADS`` or 1) and return the number set.

    The book's models are small, so a step is dominated by overhead, and notebooks run two at a time under
    nbval: one thread per kernel is faster than two competing ones.
    """
    import torch

    n = int(os.environ.get("ICL_TORCH_THREADS", "1")) if n is None else n
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"n must be an integer >= 1, got {n!r}")
    torch.set_num_threads(n)
    return n

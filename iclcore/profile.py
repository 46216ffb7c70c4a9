"""The run profile: ``ICL_PROFILE=ci`` (default, small and fast) or ``ICL_PROFILE=full`` (paper scale).

Chapters pick their sizes with :func:`choose`, so a reader sees both settings side by side::

    steps = choose(ci=1500, full=5000)
"""

from __future__ import annotations

import os
from typing import TypeVar

T = TypeVar("T")

PROFILES = ("ci", "full")


def current_profile() -> str:
    """Read ``ICL_PROFILE`` from the environment (default ``"ci"``)."""
    value = os.environ.get("ICL_PROFILE", "ci").strip().lower()
    if value not in PROFILES:
        raise ValueError(f"ICL_PROFILE must be one of {PROFILES}, got {value!r}")
    return value


PROFILE = current_profile()


def choose(ci: T, full: T) -> T:
    """Return ``ci`` or ``full`` according to the current profile (read at call time)."""
    return full if current_profile() == "full" else ci

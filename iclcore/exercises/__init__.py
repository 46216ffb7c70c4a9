"""Checkers for the book's coding exercises (one module per chapter), built on :func:`base.check_function`."""

from iclcore.exercises.base import Case, Verdict, check_function

__all__ = ["Case", "Verdict", "check_function"]

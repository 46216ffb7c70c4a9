"""Bad input raises ``ValueError`` naming the argument: one table-driven test for all of iclcore.

Each file ``tests/bad_input/<area>.py`` defines ``CASES``, a list of rows
``(call, args, kwargs, argument)``: calling ``call(*args, **kwargs)`` must raise ``ValueError`` whose message
names ``argument``. Add rows there, not new test functions.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest


def _cases() -> list:
    rows = []
    for path in sorted((Path(__file__).parent / "bad_input").glob("*.py")):
        spec = importlib.util.spec_from_file_location(f"bad_input_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        for i, (call, args, kwargs, argument) in enumerate(module.CASES):
            name = getattr(call, "__qualname__", type(call).__qualname__)
            rows.append(pytest.param(call, args, kwargs, argument, id=f"{path.stem}-{i}-{name}-{argument}"))
    return rows


@pytest.mark.parametrize("call, args, kwargs, argument", _cases())
def test_bad_input_names_the_argument(call, args, kwargs, argument):
    with pytest.raises(ValueError) as err:
        call(*args, **kwargs)
    assert argument in str(err.value), f"the message {str(err.value)!r} does not name {argument!r}"

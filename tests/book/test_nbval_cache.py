"""tests/nbval_cache.py: nbval's outputs are stored as Jupyter would save them."""

from __future__ import annotations

from nbformat import NotebookNode
from nbval_cache import as_jupyter_would_save


def _out(kind: str, **fields) -> NotebookNode:
    return NotebookNode(output_type=kind, **fields)


def test_a_closing_semicolon_suppresses_the_result_and_empty_streams_go():
    outputs = [_out("stream", name="stdout", text=""), _out("stream", name="stdout", text="hi\n"),
               _out("execute_result", data={"text/plain": "3"}, metadata={}, execution_count=1)]
    assert [o.get("text") for o in as_jupyter_would_save("print('hi')\nf(x);  # quiet\n", outputs)] == ["hi\n"]
    kept = as_jupyter_would_save("print('hi')\nf(x)", outputs)
    assert [o.output_type for o in kept] == ["stream", "execute_result"]

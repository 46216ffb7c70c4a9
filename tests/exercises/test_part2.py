"""The coding-exercise checkers of Part II (max-margin token selection, transformers as SVMs): reference
solutions pass, common mistakes get their hints, bad submissions get plain messages."""

import numpy as np
import pytest

from iclcore.exercises.part2 import (
    check_locally_optimal,
    check_normalised_margin,
    check_selection_margin,
    check_svm_constraints,
    check_svm_data_points,
)


def _constraints(X, alpha):
    n, T, _ = X.shape
    return np.array([X[i, alpha[i]] - X[i, t] for i in range(n) for t in range(T) if t != alpha[i]])


def _margin(X, alpha, p):
    return (_constraints(X, alpha) @ p).min() / np.linalg.norm(p)


def _locally_optimal(gamma, alpha, support):
    chosen = gamma[np.arange(len(alpha)), alpha]
    return np.array([np.all(chosen[i] > gamma[i][support[i]]) for i in range(len(alpha))])


def _data_points(X, alpha, z):
    n, T, _ = X.shape
    return np.array([np.outer(X[i, alpha[i]] - X[i, t], z[i]) for i in range(n) for t in range(T) if t != alpha[i]])


def _normalised_margin(X, alpha, z, W, norm):
    return np.einsum("rab,ab->r", _data_points(X, alpha, z), W).min() / np.linalg.norm(W, norm)


def test_the_solutions_pass(capsys):
    assert check_svm_constraints(_constraints)
    assert check_selection_margin(_margin)
    assert check_locally_optimal(_locally_optimal)
    assert check_svm_data_points(_data_points)
    assert check_normalised_margin(_normalised_margin)
    assert capsys.readouterr().out.count("✓") == 5


def test_common_mistakes_get_their_hints():
    flipped = check_svm_constraints(lambda X, a: -_constraints(X, a), show=False)
    assert not flipped and "selected token minus the other" in flipped.hint
    with_self = check_svm_constraints(
        lambda X, a: np.array([X[i, a[i]] - X[i, t] for i in range(len(a)) for t in range(X.shape[1])]), show=False)
    assert not with_self and "returned shape" in with_self.message and "skip t = α_i" in with_self.hint

    unscaled = check_selection_margin(lambda X, a, p: (_constraints(X, a) @ p).min(), show=False)
    assert not unscaled and "Divide by ‖p‖" in unscaled.hint
    per_row = check_selection_margin(lambda X, a, p: _constraints(X, a) @ p / np.linalg.norm(p), show=False)
    assert not per_row and "one number" in per_row.hint

    def global_optimum(gamma, alpha, support):
        return gamma[np.arange(len(alpha)), alpha] >= gamma.max(1)

    def ties_win(gamma, alpha, support):
        chosen = gamma[np.arange(len(alpha)), alpha]
        return np.array([np.all(chosen[i] >= gamma[i][support[i]]) for i in range(len(alpha))])

    globally = check_locally_optimal(global_optimum, show=False)
    assert not globally and "global optimality" in globally.hint
    ties = check_locally_optimal(ties_win, show=False)
    assert not ties and "strictly larger" in ties.hint

    transposed = check_svm_data_points(lambda X, a, z: _data_points(X, a, z).transpose(0, 2, 1), show=False)
    assert not transposed and "Transposed" in transposed.hint
    flat = check_svm_data_points(lambda X, a, z: _data_points(X, a, z).reshape(-1, X.shape[-1] ** 2), show=False)
    assert not flat and "not flattened" in flat.hint

    frobenius = check_normalised_margin(lambda X, a, z, W, norm: _normalised_margin(X, a, z, W, "fro"), show=False)
    assert not frobenius and "nuclear norm" in frobenius.hint and "norm='nuc'" in frobenius.message
    spectral = check_normalised_margin(lambda X, a, z, W, norm: _normalised_margin(X, a, z, W, 2), show=False)
    assert not spectral and "spectral norm" in spectral.hint


def book_solutions(chapter: str) -> list[tuple[str, str, str]]:
    """(checker, function name, solution code) for every checked exercise of a chapter: the function the stub
    cell passes to ``check_xxx(my_xxx)`` and the ```python block of a solution that defines it."""
    import json
    import re
    from pathlib import Path

    cells = json.loads((Path(__file__).parents[2] / "book" / "chapters" / chapter).read_text())["cells"]
    markdown = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    blocks = re.findall(r"```python\n(.*?)```", markdown, re.S)
    found = []
    for cell in cells:
        stub = re.search(r"(check_\w+)\((my_\w+)\);", "".join(cell["source"])) if cell["cell_type"] == "code" else None
        if stub:
            code = next(b for b in blocks if f"def {stub.group(2)}(" in b)
            found.append((stub.group(1), stub.group(2), code))
    return found


@pytest.mark.parametrize("chapter", ["03-max-margin-token-selection.ipynb", "04-transformers-as-svms.ipynb"])
def test_the_solutions_printed_in_the_book_pass(chapter):
    import iclcore.exercises.part2 as part2

    solutions = book_solutions(chapter)
    assert len(solutions) >= 2, "every chapter has at least two checked coding exercises"
    for checker, name, code in solutions:
        namespace = {"np": np}
        exec(code, namespace)                                         # noqa: S102 - the book's own solution
        assert getattr(part2, checker)(namespace[name], show=False), f"{chapter}: the solution of {name} fails"


@pytest.mark.parametrize("chapter", ["03-max-margin-token-selection.ipynb", "04-transformers-as-svms.ipynb"])
def test_every_solution_snippet_uses_only_names_its_chapter_defines(chapter, tmp_path):
    """The code of every solution (checked or not) must run in its notebook: ruff's undefined-name rule (F821)
    over the notebook's code cells followed by every solution snippet catches a helper that does not exist."""
    import json
    import re
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    if not Path(ruff).exists():
        pytest.skip("ruff is not installed")
    cells = json.loads((Path(__file__).parents[2] / "book" / "chapters" / chapter).read_text())["cells"]
    code = "\n\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "code")
    markdown = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    snippets = [s for block in re.findall(r"````\{solution\}.*?\n````(?:\n|$)", markdown, re.S)
                for s in re.findall(r"```python\n(.*?)```", block, re.S)]
    assert snippets, "no solution code found"
    script = tmp_path / "chapter_and_solutions.py"
    script.write_text(code + "\n\n" + "\n\n".join(snippets))
    found = subprocess.run([ruff, "check", "--isolated", "--select", "F821", "--output-format", "concise", str(script)],
                           capture_output=True, text=True)
    assert found.returncode == 0, found.stdout

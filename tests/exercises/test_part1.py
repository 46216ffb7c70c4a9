"""The coding-exercise checkers of Part I (chapters on one GD step and fine-grained ICL): reference solutions
pass, common mistakes get their hints, bad submissions get plain messages."""

import numpy as np
import pytest

from iclcore.exercises.part1 import (
    check_optimal_preconditioner,
    check_optimal_sample_weights,
    check_pgd_prediction,
    check_pgd_risk,
    check_rank_r_risk,
)
from iclcore.linalg import sqrtm_psd


def _prediction(X, y, x, W):
    return x @ W @ X.T @ y


def _preconditioner(Sigma_x, Sigma_beta, n, noise):
    M = np.trace(Sigma_x @ Sigma_beta) + noise**2
    return Sigma_beta @ np.linalg.inv((n + 1) * Sigma_x @ Sigma_beta + M * np.eye(len(Sigma_x)))


def _risk(W, Sigma_x, Sigma_beta, n, noise):
    M = np.trace(Sigma_x @ Sigma_beta) + noise**2
    G = n * (n + 1) * Sigma_x @ Sigma_beta @ Sigma_x + n * M * Sigma_x
    return M - 2 * n * np.trace(Sigma_x @ W @ Sigma_x @ Sigma_beta) + np.trace(Sigma_x @ W @ G @ W.T)


def _weights(d, noise_vars):
    a = d + 1 + np.asarray(noise_vars)
    return 1 / (a * (1 + np.sum(1 / a)))


def _rank_risk(Sigma_x, Sigma_beta, n, r, noise):
    root = sqrtm_psd(Sigma_x)
    lam = np.sort(np.linalg.eigvalsh(root @ Sigma_beta @ root))[::-1]
    M = lam.sum() + noise**2
    return M - n * np.sum(lam[:r] ** 2 / ((n + 1) * lam[:r] + M))


def test_the_solutions_pass(capsys):
    assert check_pgd_prediction(_prediction)
    assert check_optimal_preconditioner(_preconditioner)
    assert check_pgd_risk(_risk)
    assert check_optimal_sample_weights(_weights)
    assert check_rank_r_risk(_rank_risk)
    assert capsys.readouterr().out.count("✓") == 5                  # each verdict is printed by default


def test_common_mistakes_get_their_hints():
    transposed = check_pgd_prediction(lambda X, y, x, W: x @ W.T @ X.T @ y, show=False)
    assert not transposed and "transposed" in transposed.hint
    averaged = check_pgd_prediction(lambda X, y, x, W: x @ W @ X.T @ y / len(y), show=False)
    assert not averaged and "No division by n" in averaged.hint

    plain = check_optimal_preconditioner(lambda Sx, Sb, n, noise: np.eye(len(Sx)) / n, show=False)
    assert not plain and "plain gradient step" in plain.hint

    no_one = check_optimal_preconditioner(lambda Sx, Sb, n, noise: Sb @ np.linalg.inv(
        n * Sx @ Sb + (np.trace(Sx @ Sb) + noise**2) * np.eye(len(Sx))), show=False)
    assert not no_one and "Missing +1" in no_one.hint
    isotropic = check_optimal_preconditioner(lambda Sx, Sb, n, noise: np.eye(len(Sx)) / (n + len(Sx) + 1 + noise**2),
                                             show=False)
    assert not isotropic and "isotropic answer" in isotropic.hint and "case 3" in isotropic.message

    excess = check_pgd_risk(lambda *args: _risk(*args) - args[-1] ** 2, show=False)
    assert not excess and "excess risk" in excess.hint

    unnormalised = check_optimal_sample_weights(lambda d, v: 1 / (d + 1 + np.asarray(v)), show=False)
    assert not unnormalised and "1/(1 + Q)" in unnormalised.hint
    uniform = check_optimal_sample_weights(lambda d, v: np.full(len(v), len(v) / (len(v) ** 2 + np.sum(d + 1 + v))),
                                           show=False)
    assert not uniform and "linear attention" in uniform.hint

    def kept_only(Sx, Sb, n, r, noise):
        root = sqrtm_psd(Sx)
        lam = np.sort(np.linalg.eigvalsh(root @ Sb @ root))[::-1][:r]
        M = lam.sum() + noise**2
        return M - n * np.sum(lam**2 / ((n + 1) * lam + M))

    dropped = check_rank_r_risk(kept_only, show=False)
    assert not dropped and "full variance" in dropped.hint
    smallest = check_rank_r_risk(_rank_risk_smallest, show=False)
    assert not smallest and "largest" in smallest.hint


def _rank_risk_smallest(Sigma_x, Sigma_beta, n, r, noise):
    root = sqrtm_psd(Sigma_x)
    lam = np.sort(np.linalg.eigvalsh(root @ Sigma_beta @ root))            # ascending: the mistake
    M = lam.sum() + noise**2
    return M - n * np.sum(lam[:r] ** 2 / ((n + 1) * lam[:r] + M))


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


@pytest.mark.parametrize("chapter", ["01-icl-as-gradient-descent.ipynb", "02-fine-grained-icl.ipynb"])
def test_the_solutions_printed_in_the_book_pass(chapter):
    import iclcore.exercises.part1 as part1

    solutions = book_solutions(chapter)
    assert len(solutions) >= 2, "every chapter has at least two checked coding exercises"
    for checker, name, code in solutions:
        namespace = {"np": np}
        exec(code, namespace)                                         # noqa: S102 - the book's own solution
        assert getattr(part1, checker)(namespace[name], show=False), f"{chapter}: the solution of {name} fails"


@pytest.mark.parametrize("chapter", ["01-icl-as-gradient-descent.ipynb", "02-fine-grained-icl.ipynb"])
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

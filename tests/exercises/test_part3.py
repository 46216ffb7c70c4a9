"""The coding-exercise checkers of Part III (selective attention, the convolution-augmented transformer):
reference solutions pass, common mistakes get their hints, bad submissions get plain messages."""

import numpy as np
import pytest

from iclcore.exercises.part3 import (
    check_causal_conv,
    check_construction_attention,
    check_dilution_mass,
    check_effective_gap,
    check_required_temperature,
)
from iclcore.theory import dilution_mass, sphere_log_mgf


def _mass(n, delta, inv_temp):
    return 1 / (1 + (np.asarray(n) - 1) * np.exp(-inv_temp * delta))


def _temperature(n, delta, mass):
    return np.log((np.asarray(n) - 1) * mass / (1 - mass)) / delta


def _gap(s_target, kappa, d, inv_temp):
    return s_target - sphere_log_mgf(inv_temp * kappa, d) / inv_temp


def _conv(u, taps):
    out = np.zeros(u.shape)
    for t in range(u.shape[0]):
        for j in range(min(len(taps), t + 1)):
            out[t] += taps[j] * u[t - j]
    return out


def _attention(tokens, c):
    T = len(tokens)
    before = np.r_[-1, tokens[:-1]]                                   # x_{s-1}; nothing before position 0
    scores = np.where(np.tril(np.ones((T, T), bool)), c * (before[None, :] == tokens[:, None]), -np.inf)
    weights = np.exp(scores - scores.max(1, keepdims=True))
    return weights / weights.sum(1, keepdims=True)


def test_the_solutions_pass(capsys):
    assert check_dilution_mass(_mass)
    assert check_required_temperature(_temperature)
    assert check_effective_gap(_gap)
    assert check_causal_conv(_conv)
    assert check_construction_attention(_attention)
    assert capsys.readouterr().out.count("✓") == 5


def test_the_temperature_solution_inverts_the_mass():
    n = np.array([10, 100, 1000])
    assert np.allclose(dilution_mass(n, 2.0, _temperature(n, 2.0, 0.9)), 0.9)


def test_common_mistakes_get_their_hints():
    n_not_n_minus_1 = check_dilution_mass(
        lambda n, delta, inv_temp: 1 / (1 + np.asarray(n) * np.exp(-inv_temp * delta)), show=False)
    assert not n_not_n_minus_1 and "n − 1" in n_not_n_minus_1.hint and "case 1" in n_not_n_minus_1.message
    divides = check_dilution_mass(lambda n, delta, inv_temp: _mass(n, delta / np.asarray(inv_temp) ** 2, inv_temp),
                                  show=False)
    assert not divides and "*inverse* temperature" in divides.hint

    no_delta = check_required_temperature(lambda n, delta, mass: _temperature(n, delta, mass) * delta, show=False)
    assert not no_delta and "Divide by Δ" in no_delta.hint

    equal = check_effective_gap(lambda s, kappa, d, inv_temp: s, show=False)
    assert not equal and "equal" in equal.hint and "case 2" in equal.message   # κ = 0 (case 1) is right
    gaussian = check_effective_gap(lambda s, kappa, d, inv_temp: s - inv_temp * kappa**2 / (2 * d), show=False)
    assert not gaussian and "small-κ" in gaussian.hint

    flipped = check_causal_conv(lambda u, taps: _conv(u, taps[::-1]), show=False)
    assert not flipped and "flipped" in flipped.hint
    wrapped = check_causal_conv(lambda u, taps: sum(taps[j] * np.roll(u, j, axis=0) for j in range(len(taps))),
                                show=False)
    assert not wrapped and "wrap-around" in wrapped.hint

    def no_shift(tokens, c):
        T = len(tokens)
        scores = np.where(np.tril(np.ones((T, T), bool)), c * (tokens[None, :] == tokens[:, None]), -np.inf)
        weights = np.exp(scores - scores.max(1, keepdims=True))
        return weights / weights.sum(1, keepdims=True)

    unshifted = check_construction_attention(no_shift, show=False)
    assert not unshifted and "predecessor" in unshifted.hint


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


@pytest.mark.parametrize("chapter", ["05-selective-attention.ipynb", "06-convolution-augmented-transformer.ipynb"])
def test_the_solutions_printed_in_the_book_pass(chapter):
    import iclcore.exercises.part3 as part3

    solutions = book_solutions(chapter)
    assert len(solutions) >= 2, "every chapter has at least two checked coding exercises"
    for checker, name, code in solutions:
        namespace = {"np": np}
        exec(code, namespace)                                         # noqa: S102 - the book's own solution
        assert getattr(part3, checker)(namespace[name], show=False), f"{chapter}: the solution of {name} fails"


@pytest.mark.parametrize("chapter", ["05-selective-attention.ipynb", "06-convolution-augmented-transformer.ipynb"])
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

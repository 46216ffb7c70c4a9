"""The package layout: imports go one way (iclcore/__init__.py lists the order)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "iclcore"

RANK = {"validate": 0, "profile": 0, "linalg": 0, "tasks": 1, "models": 2, "theory": 3, "clustering": 3,
        "train": 4, "optim": 4, "evaluate": 4, "experiments": 5, "viz": 6, "widgets": 6, "checks": 6, "exercises": 6}
"""A module may import iclcore modules of its own rank or lower, never higher."""


def _job(module: str) -> str:
    """``iclcore.models.gpt`` -> ``models``."""
    return module.split(".")[1]


def _modules(package: Path) -> list[tuple[str, Path]]:
    out = []
    for path in sorted(package.rglob("*.py")):
        rel = path.relative_to(package.parent).with_suffix("")
        name = ".".join(rel.parts)
        if name.endswith(".__init__"):
            name = name[: -len(".__init__")]
        out.append((name, path))
    return out


def iclcore_imports(path: Path, module: str) -> list[str]:
    """Every ``iclcore.*`` module that ``path`` imports (relative imports resolved)."""
    tree = ast.parse(path.read_text())
    found = []
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.startswith("iclcore")]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target == "iclcore":
                found += [f"iclcore.{a.name}" for a in node.names]
            elif target.startswith("iclcore."):
                found.append(target)
    return found


def layout_violations(package: Path = PACKAGE) -> list[str]:
    problems = []
    for module, path in _modules(package):
        if module == "iclcore":
            continue
        job = _job(module)
        if job not in RANK:
            problems.append(f"{module}: not in the layout (add its job to iclcore/__init__.py and RANK)")
            continue
        for target in iclcore_imports(path, module):
            if target == "iclcore":
                continue
            tjob = _job(target)
            if tjob not in RANK:
                problems.append(f"{module} imports {target}, which is not in the layout")
            elif RANK[tjob] > RANK[job]:
                problems.append(f"{module} (a {job} module) imports {target} (a {tjob} module): against the order")
            elif tjob == "experiments" and job == "experiments" and target.split(".")[:3] != module.split(".")[:3]:
                problems.append(f"{module} imports {target}: a chapter's experiments import no other chapter's")
    return problems


def test_imports_follow_the_layout():
    assert layout_violations() == []


def test_the_layout_test_catches_a_forbidden_import(tmp_path):
    """Plant a model that imports train: the check must name it."""
    fake = tmp_path / "iclcore"
    (fake / "models").mkdir(parents=True)
    (fake / "__init__.py").write_text("")
    (fake / "models" / "__init__.py").write_text("")
    (fake / "models" / "bad.py").write_text("from iclcore.train import fit\nfrom ..theory import x\n")
    (fake / "train.py").write_text("from iclcore.models import gpt\nfrom iclcore.experiments import ch01\n")
    problems = layout_violations(fake)
    assert any("iclcore.models.bad" in p and "iclcore.train" in p for p in problems)
    assert any("iclcore.models.bad" in p and "iclcore.theory" in p for p in problems)
    assert any(p.startswith("iclcore.train (a train module) imports iclcore.experiments") for p in problems)
    assert not any("imports iclcore.models" in p for p in problems)       # importing downward is fine

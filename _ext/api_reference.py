"""Sphinx extension: the API reference of ``iclcore`` (the pages under ``book/api/``) and links to it.

* **Docstrings as the book writes them.** ``iclcore`` docstrings list arguments as ``name : what it is`` under
  a ``Parameters`` (or ``Attributes``, ``Raises``) heading underlined with dashes, and cite the chapters'
  equations with MyST roles (``{eq}`eq-ch1-la```). Before autodoc renders a docstring, each such section
  becomes a bold heading over a bullet list, and each ``{role}`text``` becomes the reST role ``:role:`text```,
  so the equation references link to the chapters.
* **``iclcore`` names in the chapters link to the reference.** An inline literal such as
  ``iclcore.models.LinearAttention`` or ``iclcore.tasks.stack(...)`` becomes a link to the object's entry;
  a name that is not documented (a private helper, a submodule) links to its longest documented prefix
  (the module's page), and a name with no documented prefix stays plain code.
"""

from __future__ import annotations

import re

from docutils import nodes
from sphinx.util.nodes import make_refnode

SECTIONS = ("Parameters", "Attributes", "Raises")
ROLE = re.compile(r"\{([a-z]+(?::[a-z]+)?)\}`")
ITEM = re.compile(r"^(\S[^:]*?) : (.*)$")
NAME = re.compile(r"^(iclcore(?:\.[A-Za-z_][A-Za-z0-9_]*)+)")


def book_docstring(lines: list[str]) -> list[str]:
    """Rewrite a docstring's ``Parameters``-style sections and MyST roles in place of reST (see module doc)."""
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.strip() in SECTIONS and i + 1 < len(lines) and re.fullmatch(r"\s*-{3,}\s*", lines[i + 1]):
            out += [f"**{line.strip()}**", ""]
            i += 2
            while i < len(lines) and lines[i].strip():
                item = ITEM.match(lines[i])
                if item:
                    names = ", ".join(f"``{n.strip()}``" for n in item.group(1).split(","))
                    out.append(f"- {names} — {item.group(2)}")
                else:
                    out.append("  " + lines[i].strip())
                i += 1
            out.append("")
            continue
        out.append(line)
        i += 1
    return [ROLE.sub(r":\1:`", line) for line in out]


def process_docstring(app, what, name, obj, options, lines: list[str]) -> None:
    lines[:] = book_docstring(lines)


def documented_target(name: str, objects: dict, modules: dict) -> str | None:
    """The longest prefix of the dotted ``name`` that the API reference documents (or ``None``)."""
    parts = name.split(".")
    for k in range(len(parts), 1, -1):
        prefix = ".".join(parts[:k])
        if prefix in objects or prefix in modules:
            return prefix
    return None


def resolve_iclcore(target: str, objects: dict, modules: dict, module: str | None = None) -> str | None:
    """The documented name a docstring's reference ``target`` means, or ``None``.

    Objects are documented where the package exports them (``iclcore.tasks.credit``), while docstrings may
    name them by their defining module (``iclcore.tasks.bandits.credit``) or alone (``PromptAttention``):
    a unique documented object with the same last component wins, then the longest documented prefix (of
    the name, or of the name inside ``module``, the module whose docstring holds the reference).
    """
    if target in objects or target in modules:
        return target
    last = target.rsplit(".", 1)[-1]
    same = [k for k in objects if k.startswith("iclcore.") and k.rsplit(".", 1)[-1] == last]
    if target.startswith("iclcore."):
        package = ".".join(target.split(".")[:2])
        same = [k for k in same if k.startswith(package + ".")] or same
    entries = {(objects[k].docname, objects[k].node_id) for k in same}   # autodoc also files an object under
    if len(entries) == 1:                                                 # its defining module: one entry
        return min(same, key=len)
    if target.startswith("iclcore."):
        return documented_target(target, objects, modules)
    return documented_target(f"{module}.{target}", objects, modules) if module else None


def missing_reference(app, env, node, contnode):
    """Resolve docstring references to iclcore objects by their defining module or short name."""
    if node.get("refdomain") != "py":
        return None
    py = env.get_domain("py")
    target = resolve_iclcore(node["reftarget"], py.objects, py.modules, node.get("py:module"))
    if target is None:
        return None
    entry = py.objects.get(target) or py.modules[target]
    return make_refnode(app.builder, node["refdoc"], entry.docname, entry.node_id, contnode, target)


def link_names(app, doctree: nodes.document, docname: str) -> None:
    """Wrap every inline literal that starts with a documented ``iclcore`` name in a link to its entry."""
    if docname.startswith("book/api/"):
        return
    py = app.env.get_domain("py")
    objects, modules = py.objects, py.modules
    for literal in list(doctree.findall(nodes.literal)):
        if isinstance(literal.parent, nodes.reference):
            continue
        match = NAME.match(literal.astext())
        target = match and documented_target(match.group(1), objects, modules)
        if not target:
            continue
        entry = objects.get(target) or modules[target]
        uri = app.builder.get_relative_uri(docname, entry.docname) + "#" + entry.node_id
        ref = nodes.reference("", "", internal=True, refuri=uri, classes=["iclcore-api"])
        literal.replace_self(ref)
        ref += literal


def setup(app):
    app.setup_extension("sphinx.ext.autodoc")
    app.connect("autodoc-process-docstring", process_docstring)
    app.connect("doctree-resolved", link_names)
    app.connect("missing-reference", missing_reference)
    return {"parallel_read_safe": True, "parallel_write_safe": True}

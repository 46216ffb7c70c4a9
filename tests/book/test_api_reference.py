"""The API reference (book/api, _ext/api_reference.py): every module is on a page, docstrings are rewritten
as the extension promises, and chapter names resolve to the longest documented prefix."""

from __future__ import annotations

import pkgutil
import re
import sys
from types import SimpleNamespace

from toc import ROOT

import iclcore

sys.path.insert(0, str(ROOT / "_ext"))
from api_reference import book_docstring, documented_target, resolve_iclcore  # noqa: E402

API_PAGES = "\n".join(p.read_text() for p in (ROOT / "book" / "api").glob("*.md"))
DOCUMENTED = set(re.findall(r"\.\. automodule:: (\S+)", API_PAGES))


def test_every_module_of_iclcore_is_on_an_api_page():
    top = {f"iclcore.{m.name}" for m in pkgutil.iter_modules(iclcore.__path__)}
    experiments = {f"iclcore.experiments.{m.name}" for m in pkgutil.iter_modules([str(ROOT / "iclcore/experiments")])}
    missing = sorted((top | experiments | {"iclcore"}) - DOCUMENTED)
    assert missing == [], f"add an automodule for these to a page in book/api: {missing}"


def test_parameter_sections_become_bullets_and_myst_roles_become_rest():
    doc = ["Risk of a step ({eq}`eq-ch1-la`).", "", "Parameters", "----------", "d, n : dimension and length.",
           "noise : label-noise std,", "    never a variance.", "", "Returns the risk."]
    assert book_docstring(doc) == [
        "Risk of a step (:eq:`eq-ch1-la`).", "", "**Parameters**", "", "- ``d``, ``n`` — dimension and length.",
        "- ``noise`` — label-noise std,", "  never a variance.", "", "", "Returns the risk."]


def test_a_name_links_to_its_longest_documented_prefix():
    objects = {"iclcore.models.LinearAttention": SimpleNamespace()}
    modules = {"iclcore.tasks": SimpleNamespace()}
    assert documented_target("iclcore.models.LinearAttention", objects, modules) == "iclcore.models.LinearAttention"
    assert documented_target("iclcore.models.LinearAttention.forward", objects, modules) == \
        "iclcore.models.LinearAttention"
    assert documented_target("iclcore.tasks.token_selection", objects, modules) == "iclcore.tasks"
    assert documented_target("iclcore.nothing", objects, modules) is None


def test_docstring_references_resolve_by_defining_module_short_name_or_module():
    entry = SimpleNamespace(docname="book/api/models", node_id="iclcore.models.PromptAttention")
    objects = {"iclcore.models.PromptAttention": entry, "iclcore.models.softmax_attention.PromptAttention": entry,
               "iclcore.tasks.credit": SimpleNamespace(docname="book/api/tasks", node_id="credit")}
    modules = {"iclcore.checks": SimpleNamespace()}
    assert resolve_iclcore("PromptAttention", objects, modules) == "iclcore.models.PromptAttention"
    assert resolve_iclcore("iclcore.tasks.bandits.credit", objects, modules) == "iclcore.tasks.credit"
    assert resolve_iclcore("SIM_THEORY", objects, modules, module="iclcore.checks") == "iclcore.checks"
    assert resolve_iclcore("numpy.ndarray", objects, modules) is None

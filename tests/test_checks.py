import html as htmllib
import json

import pytest

from iclcore.checks import CAPTION, SIM_PAPER, SIM_SIM, SIM_THEORY, ReproductionChecks


def test_all_pass_reports_without_error():
    c = ReproductionChecks("demo")
    assert c.close("a", 1.02, 1.0, rtol=0.05, compares=SIM_THEORY)
    assert c.less("b", 1.0, 2.0, compares=SIM_SIM)
    assert c.greater("c", 3.0, 2.0, compares=SIM_PAPER)
    assert c.true("d", True, compares=SIM_SIM)
    c.report()
    assert "4/4 passed" in c.as_text()


@pytest.mark.parametrize("measured, reference, rtol, atol, passes", [
    (1.049, 1.0, 0.05, None, True), (1.0501, 1.0, 0.05, None, False), (0.9, 1.0, None, 0.1, True),
    (0.89, 1.0, None, 0.1, False), (1.15, 1.0, 0.1, 0.05, True), (1.16, 1.0, 0.1, 0.05, False),
    (-1.04, -1.0, 0.05, None, True),
])
def test_close_tolerance_boundary(measured, reference, rtol, atol, passes):
    c = ReproductionChecks("demo")
    assert c.close("x", measured, reference, rtol=rtol, atol=atol, compares=SIM_THEORY) is passes


def test_failure_raises_with_the_claim_and_marks_the_row():
    c = ReproductionChecks("demo")
    c.close("risk matches theory", 1.2, 1.0, rtol=0.05, compares=SIM_THEORY)
    c.less("ok", 1.0, 2.0, compares=SIM_SIM)
    with pytest.raises(AssertionError, match="risk matches theory"):
        c.report()
    assert [r.claim for r in c.failed] == ["risk matches theory"]
    html = c._repr_html_()
    assert html.count("✗ FAIL") == 1 and html.count("✓ pass") == 1 and SIM_THEORY in html


def test_strict_inequalities_and_nan_never_pass():
    c = ReproductionChecks("demo")
    assert not c.less("equal", 1.0, 1.0, compares=SIM_SIM)
    assert not c.greater("equal", 1.0, 1.0, compares=SIM_SIM)
    assert not c.close("nan", float("nan"), 1.0, atol=10, compares=SIM_THEORY)
    assert not c.less("nan", float("nan"), 1.0, compares=SIM_SIM)


def test_table_explains_its_columns_and_hides_missing_values():
    c = ReproductionChecks("demo")
    c.true("holds", True, compares=SIM_SIM)
    html = c._repr_html_()
    assert htmllib.escape(CAPTION) in html and "nan" not in html


def test_empty_report_raises():
    with pytest.raises(AssertionError, match="no checks"):
        ReproductionChecks("empty").report()


def test_json_written_when_asked(tmp_path, monkeypatch):
    monkeypatch.setenv("ICL_CHECKS_DIR", str(tmp_path))
    c = ReproductionChecks("Chapter 1: demo")
    c.close("a", 1.0, 1.0, atol=0.1, compares=SIM_THEORY)
    c.less("b", 3.0, 2.0, compares=SIM_SIM)
    with pytest.raises(AssertionError):
        c.report()                        # written before raising: make breaks reads the failed rows
    rows = json.loads((tmp_path / "chapter-1-demo.json").read_text())["rows"]
    assert [(r["measured"], r["passed"], r["compares"]) for r in rows] == [(1.0, True, SIM_THEORY),
                                                                           (3.0, False, SIM_SIM)]


def test_numpy_tolerances_record_plain_json(tmp_path, monkeypatch):
    import numpy as np
    monkeypatch.setenv("ICL_CHECKS_DIR", str(tmp_path))
    c = ReproductionChecks("np")
    assert c.close("a", np.float64(1.0), np.float64(1.0), rtol=np.float64(0.1), compares=SIM_THEORY) is True
    c.report()
    assert json.loads((tmp_path / "np.json").read_text())["rows"][0]["passed"] is True

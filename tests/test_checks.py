import json

import pytest

from iclcore.checks import ReproductionChecks


def test_all_pass_reports_without_error(capsys):
    c = ReproductionChecks("demo")
    assert c.close("a", 1.02, 1.0, rtol=0.05)
    assert c.less("b", 1.0, 2.0) and c.greater("c", 3.0, 2.0) and c.true("d", True)
    c.report()
    assert "4/4 passed" in c.as_text()


def test_failure_raises_with_the_claim():
    c = ReproductionChecks("demo")
    c.close("risk matches theory", 1.2, 1.0, rtol=0.05)
    c.less("ok", 1.0, 2.0)
    with pytest.raises(AssertionError, match="risk matches theory"):
        c.report()
    assert "FAIL" in c.as_text() and "FAIL" in c._repr_html_()


def test_nan_never_passes():
    c = ReproductionChecks("demo")
    assert not c.close("nan", float("nan"), 1.0, atol=10)
    assert not c.less("nan", float("nan"), 1.0)


def test_empty_report_raises():
    with pytest.raises(AssertionError, match="no checks"):
        ReproductionChecks("empty").report()


def test_bad_input_raises():
    c = ReproductionChecks("demo")
    with pytest.raises(ValueError, match="rtol or atol"):
        c.close("x", 1, 1)
    with pytest.raises(ValueError, match="measured must be a real number"):
        c.less("x", "abc", 1)
    with pytest.raises(ValueError, match="rtol and atol must be >= 0"):
        c.close("x", 1, 1, rtol=-1)


def test_json_written_when_asked(tmp_path, monkeypatch):
    monkeypatch.setenv("ICL_CHECKS_DIR", str(tmp_path))
    c = ReproductionChecks("Chapter 1: demo")
    c.close("a", 1.0, 1.0, atol=0.1)
    c.report()
    data = json.loads((tmp_path / "chapter-1-demo.json").read_text())
    assert data["rows"][0]["measured"] == 1.0

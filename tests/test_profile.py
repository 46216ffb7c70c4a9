import pytest
import torch

from iclcore import profile


def test_profile_switch(monkeypatch):
    monkeypatch.setenv("ICL_PROFILE", "full")
    assert profile.choose(ci=1, full=2) == 2
    monkeypatch.setenv("ICL_PROFILE", "ci")
    assert profile.choose(ci=1, full=2) == 1
    monkeypatch.setenv("ICL_PROFILE", "huge")
    with pytest.raises(ValueError, match="ICL_PROFILE must be one of"):
        profile.current_profile()


def test_seed_is_unchanged_by_default_and_shifted_by_icl_seed(monkeypatch):
    monkeypatch.delenv("ICL_SEED", raising=False)
    assert [profile.seed(k) for k in (0, 7)] == [0, 7]
    monkeypatch.setenv("ICL_SEED", "2")
    shifted = [profile.seed(k) for k in range(1000)]
    assert shifted[0] == 2 * profile.SEED_STRIDE and len(set(shifted) & set(range(1000))) == 0
    monkeypatch.setenv("ICL_SEED", "-1")
    with pytest.raises(ValueError, match="ICL_SEED"):
        profile.seed(0)


def test_break_switches(monkeypatch):
    switches = {"h3-as-la": "H3 replaced by linear attention", "no-rank": "rank constraint removed"}
    monkeypatch.delenv("ICL_BREAK", raising=False)
    off = profile.declare_breaks(switches)
    assert not off.on("h3-as-la") and not off.on("no-rank")
    monkeypatch.setenv("ICL_BREAK", "no-rank")
    on = profile.declare_breaks(switches)
    assert on.on("no-rank") and not on.on("h3-as-la")
    assert "<- ON" in repr(on) and "**on**" in on._repr_markdown_()
    with pytest.raises(ValueError, match="not a declared switch"):
        on.on("typo")
    monkeypatch.setenv("ICL_BREAK", "typo")
    with pytest.raises(ValueError, match="ICL_BREAK='typo' is not a switch of this chapter"):
        profile.declare_breaks(switches)


def test_set_threads_is_explicit(monkeypatch):
    before = torch.get_num_threads()
    try:
        assert profile.set_threads(1) == 1 and torch.get_num_threads() == 1
        monkeypatch.setenv("ICL_TORCH_THREADS", "2")
        assert profile.set_threads() == 2 and torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)


def test_importing_iclcore_changes_no_torch_state():
    import subprocess
    import sys
    code = ("import torch; n = torch.get_num_threads(); import iclcore, iclcore.train, iclcore.evaluate; "
            "assert torch.get_num_threads() == n, (n, torch.get_num_threads())")
    subprocess.run([sys.executable, "-c", code], check=True, env={"OMP_NUM_THREADS": "2", "PATH": ""})

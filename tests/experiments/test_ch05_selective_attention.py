import numpy as np
import pytest
import torch

from iclcore.experiments.ch05_selective_attention import needle_report, norm_at_fit
from iclcore.models import Ensemble, NeedleAttention


def _ideal(d: int, scale: float) -> NeedleAttention:
    """W_q = W_k = sqrt(scale) d^(1/4) I: logit scale * x_q^T x_j."""
    m = NeedleAttention(d, pos_temp=False)
    with torch.no_grad():
        m.W_q.copy_(scale**0.5 * d**0.25 * torch.eye(d))
        m.W_k.copy_(scale**0.5 * d**0.25 * torch.eye(d))
    return m


def test_needle_report_matches_theory_for_an_ideal_model():
    r = needle_report(_ideal(8, 9.0), [16, 128], noise=0.0, n_prompts=500)
    assert set(r.metrics) == {"mass", "mass_theory", "mass_equal", "mse", "inv_temp"} and r.members == (0,)
    mass = r[0]["mass"]
    assert mass[0] > mass[1]                                                   # dilution
    assert abs(mass - r[0]["mass_theory"]).max() < 0.03
    assert r[0]["mass_equal"][1] > mass[1] + 0.05                              # the naive formula is too optimistic
    np.testing.assert_array_equal(r[0]["inv_temp"], [1.0, 1.0])


def test_needle_report_names_the_members_and_shows_them_the_same_prompts():
    pair = Ensemble({"a": _ideal(6, 4.0), "b": _ideal(6, 4.0), "sharp": _ideal(6, 25.0)})
    r = needle_report(pair, [8, 32], noise=0.1, n_prompts=300, seed=5)
    assert r.members == ("a", "b", "sharp") and r.metrics["mass"].shape == (3, 2)
    np.testing.assert_array_equal(r["a"]["mass"], r["b"]["mass"])             # same model, same prompts
    assert np.all(r["sharp"]["mass"] > r["a"]["mass"])
    alone = needle_report(pair.member("sharp"), [8, 32], noise=0.1, n_prompts=300, seed=5)
    np.testing.assert_array_equal(alone[0]["mse"], r["sharp"]["mse"])


def test_norm_at_fit_reads_the_first_time_a_fit_level_is_reached():
    kl = np.array([1.0, 0.5, 0.2, 0.3, 0.1])
    norm = np.array([1.0, 2.0, 3.0, 4.0, 5.0])
    assert norm_at_fit(kl, norm, 0.25) == 3.0
    assert norm_at_fit(kl, norm, 0.1) == 5.0
    assert norm_at_fit(kl, norm, 1.0) == 1.0
    assert np.isnan(norm_at_fit(kl, norm, 0.05))
    with pytest.raises(ValueError, match="kl and norm"):
        norm_at_fit(kl, norm[:3], 0.5)

"""H3, PGD/WPGD, LoRA and rank masks (Chapter 2 models)."""

import numpy as np
import pytest
import torch

from iclcore import theory
from iclcore.models import H3, PGD, WPGD, LinearAttention, LoRA, LoRAAttention, mask_factor_rank
from iclcore.models.h3 import causal_conv
from iclcore.tasks import LinearRegression, StackedTasks, make_generator
from iclcore.train import evaluate_risk, fit_online


def _flip_labels(Z):
    Z_neg = Z.clone()
    Z_neg[..., -1] *= -1
    return Z_neg


def test_h3_shapes_and_left_padding():
    Z, _ = LinearRegression(3, 5)(7, make_generator(0))
    model = H3(4, n_ctx=8, n_models=2, seed=1)
    assert model(Z).shape == (2, 7)
    padded = torch.nn.functional.pad(Z, (0, 0, 3, 0))   # zero tokens at the front contribute nothing
    torch.testing.assert_close(model(Z), model(padded))


def test_h3_forward_is_last_row_of_the_causal_convolution():
    torch.manual_seed(0)
    model = H3(4, n_ctx=6, n_models=2, seed=2).double()
    Z, _ = LinearRegression(3, 6, dtype=torch.float64)(5, make_generator(1))
    Z = Z.expand(2, -1, -1, -1)
    q, k, v = (torch.einsum("ebtd,edh->ebth", Z, W) for W in (model.W_q, model.W_k, model.W_v))
    s = causal_conv(k * v, model.taps())
    full = torch.einsum("ebth,eh->ebt", q * s, model.W_o)
    torch.testing.assert_close(model(Z), full[..., -1])
    # causal: position t only sees j <= t (changing the last token leaves earlier outputs alone)
    Z2 = Z.clone()
    Z2[..., -1, :] += 1.0
    k2, v2 = (torch.einsum("ebtd,edh->ebth", Z2, W) for W in (model.W_k, model.W_v))
    torch.testing.assert_close(causal_conv(k2 * v2, model.taps())[..., :-1, :], s[..., :-1, :])


def test_h3_odd_part_is_weighted_pgd():
    """(f(y) - f(-y)) / 2 == sum_i y_i x^T P_i x_i with P_i = effective_preconditioners()  (Book eq. 2.4)."""
    model = H3(5, n_ctx=9, n_models=3, seed=3).double()
    Z, _ = LinearRegression(4, 6, dtype=torch.float64)(8, make_generator(2))
    odd = (model(Z) - model(_flip_labels(Z))) / 2
    P = model.effective_preconditioners(6)
    X, y, x = Z[:, :-1, :-1], Z[:, :-1, -1], Z[:, -1, :-1]
    torch.testing.assert_close(odd, torch.einsum("ba,eiac,bic,bi->eb", x, P, X, y))


def test_h3_effective_weights_recover_an_exact_wpgd():
    model = H3(4, n_ctx=5, seed=4).double()
    with torch.no_grad():                       # make every channel share one filter shape: P_i = omega_i W
        shape = torch.tensor([0.0, 1.0, 2.0, 3.0, 4.0, 5.0], dtype=torch.float64)
        model.filter.copy_(shape[None, :, None].expand(1, 6, 4))
    w = model.effective_weights(5)[0]
    expected = torch.tensor([5.0, 4, 3, 2, 1], dtype=torch.float64)   # position 1 has lag 5
    torch.testing.assert_close(w, expected / expected.mean())


def test_pgd_and_wpgd_match_theory_and_left_padding():
    d, n = 4, 10
    W, risk = theory.pgd_optimal(np.eye(d), np.eye(d), n, noise=0.3)
    task = LinearRegression(d, n, noise=0.3, dtype=torch.float64)
    assert evaluate_risk(PGD(d, W0=W).double(), task, 2**16)[0] == pytest.approx(risk, rel=0.03)
    wp = WPGD(d, n_ctx=12, n_models=2).double()
    with torch.no_grad():
        wp.W.copy_(torch.as_tensor(W))
    Z, _ = task(6, make_generator(0))
    torch.testing.assert_close(wp(Z), PGD(d, n_models=2, W0=W).double()(Z))   # omega = 1 is plain PGD
    torch.testing.assert_close(wp(Z), wp(torch.nn.functional.pad(Z, (0, 0, 2, 0))))
    assert wp.effective_weights(n).shape == (2, n)


def test_trained_wpgd_learns_inverse_noise_weights():
    d, nv = 3, np.array([0.0] * 4 + [16.0] * 4)
    task = LinearRegression(d, 8, noise=np.sqrt(nv), query_noise=0.0)
    model = WPGD(d, 8)
    fit_online(model, task, steps=400, lr=0.02, batch_size=512, progress=False)
    w = model.effective_weights(8)[0].numpy()
    w_star, risk = theory.wpgd_isotropic(d, nv)
    assert w[4:].mean() / w[:4].mean() == pytest.approx(w_star[-1] / w_star[0], rel=0.2)
    assert evaluate_risk(model, task, 2**15)[0] == pytest.approx(risk, rel=0.05)


def test_lora_starts_at_base_and_respects_ranks():
    base = torch.randn(3, 5, 4, generator=make_generator(0))
    lora = LoRA(base, rank=[0, 1, 3], seed=1)
    torch.testing.assert_close(lora(), base)
    with torch.no_grad():
        lora.U.normal_()
    ranks = [torch.linalg.matrix_rank(dw).item() for dw in lora.delta()]
    assert ranks == [0, 1, 3]
    assert LoRA(torch.zeros(5, 4), rank=2)().shape == (1, 5, 4)


def test_lora_attention_equals_base_at_start_and_adapts_only_the_score():
    base = LinearAttention(5, seed=2)
    Z, _ = LinearRegression(4, 6)(7, make_generator(3))
    adapted = LoRAAttention(base, rank=[0, 2])
    torch.testing.assert_close(adapted(Z), base(Z).expand(2, -1))
    torch.testing.assert_close(adapted.effective_preconditioner(), base.effective_preconditioner().expand(2, -1, -1))
    assert {n for n, p in adapted.named_parameters()} == {"score.U", "score.V"}


def test_lora_attention_adapts_one_member_of_an_ensemble():
    base = LinearAttention(5, n_models=3, value="label", seed=4)
    Z, _ = LinearRegression(4, 6)(5, make_generator(5))
    adapted = LoRAAttention(base, rank=[0, 1], member=2)
    torch.testing.assert_close(adapted(Z), base(Z)[2:].expand(2, -1))
    with pytest.raises(ValueError, match="pass member="):
        LoRAAttention(base, rank=[0, 1])


def test_mask_factor_rank_keeps_ranks_through_training():
    d = 4
    model = mask_factor_rank(LinearAttention(d + 1, n_models=3, seed=1), [1, 2, 5])
    task = StackedTasks([LinearRegression(d, 8)] * 3)
    fit_online(model, task, steps=30, batch_size=64, progress=False)
    assert [torch.linalg.matrix_rank(A).item() for A in model.score_matrix()] == [1, 2, 5]


@pytest.mark.parametrize("call, match", [
    (lambda: H3(0, 5), "token_dim must be"),
    (lambda: H3(4, 0), "n_ctx must be"),
    (lambda: H3(4, 3)(torch.zeros(2, 6, 4)), r"filter covers n_ctx=3"),
    (lambda: H3(4, 3).effective_weights(4), r"n must be in \[1, 3\]"),
    (lambda: WPGD(3, 2)(torch.zeros(1, 5, 4)), "n_ctx=2"),
    (lambda: PGD(3)(torch.zeros(1, 5, 5)), "Z must have shape"),
    (lambda: LoRA(torch.zeros(4, 3), rank=4), r"rank must be in \[0, 3\]"),
    (lambda: LoRA(torch.zeros(4, 3), rank=[1, 2], n_models=3), "sequence of n_models=3"),
    (lambda: LoRAAttention(PGD(3), rank=1), "base must be a LinearAttention"),
    (lambda: mask_factor_rank(LinearAttention(4, n_models=2), [1]), "sequence of n_models=2"),
])
def test_bad_input_raises(call, match):
    with pytest.raises(ValueError, match=match):
        call()

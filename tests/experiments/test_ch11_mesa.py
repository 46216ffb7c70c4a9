"""The mesa-optimization chapter's drivers: the diagonal start, the complex layer, long-context errors."""

import numpy as np
import pytest
import torch

from iclcore.evaluate import evaluate
from iclcore.experiments.ch11_mesa import (
    Law,
    diagonal_scales,
    long_context_error,
    mesa_experiment,
    relative_deviation,
)
from iclcore.models import AugmentedLinearAttention
from iclcore.tasks import make_generator, sequence_risk
from iclcore.theory import block_step_predict, optimal_product, pooled_risk, relative_error


def test_the_diagonal_start_is_one_gradient_step():
    members = {"g": (Law("gaussian", 0.5), (0.5, 1.5)), "s": (Law("sparse"), (2.0, 0.25))}
    sampler, layer = mesa_experiment(members, 3, 6)
    np.testing.assert_allclose(diagonal_scales(layer).numpy(), [[0.5, 1.5], [2.0, 0.25]])
    np.testing.assert_allclose(layer.pv_kq_product().numpy(), [0.75 * np.eye(3), 0.5 * np.eye(3)])
    tokens, _ = sampler(4, make_generator(0))
    states = Law("gaussian", 0.5).sampler(3, 6).states(4, make_generator(0)).numpy()
    out = layer(tokens.to(torch.complex128)).detach().numpy()
    # member 0 saw the same draws as `states` (the stacked sampler draws member 0 first)
    np.testing.assert_allclose(out[0], block_step_predict(states[:, :7], 1.5 * np.eye(3), 0.5 * np.eye(3)),
                               atol=1e-5)


def test_the_book_layer_takes_complex_tokens_and_is_linear_in_their_real_and_imaginary_parts():
    g = make_generator(1)
    real = torch.randn(2, 5, 12, generator=g, dtype=torch.float64)
    layer = AugmentedLinearAttention(4, n_members=2, structure="full", seed=3).double()
    out = layer(real.to(torch.complex128))
    torch.testing.assert_close(out.real, layer(real))
    torch.testing.assert_close(out.imag, torch.zeros_like(out.imag))


def test_masked_tokens_give_nothing_to_learn():
    _, layer = mesa_experiment({"u": (Law("unit_modulus"), (1.0, 1.0))}, 3, 5, tokens="masked")
    tokens, _ = Law("unit_modulus").sampler(3, 5, "masked")(4, make_generator(2))
    assert layer(tokens).abs().max() == 0


def test_long_context_error_and_risk_at_the_closed_form_step():
    d, T = 3, 8
    members = {"g": (Law("gaussian"), (1.0, 1.0)), "s": (Law("sparse", 2.0), (1.0, 1.0))}
    sampler, layer = mesa_experiment(members, d, T)
    moms = {n: law.moments(d) for n, (law, _) in members.items()}
    c = {n: optimal_product(m, T) for n, m in moms.items()}
    with torch.no_grad():                                        # put each member at its c*(T)
        for e, n in enumerate(members):
            layer.W_PV[e, :, d:2 * d] = c[n] * torch.eye(d)
    pos = [1, 4, 40]
    err = long_context_error(layer, members, pos, n_samples=2**14, seed=3)
    np.testing.assert_allclose(err["g"], relative_error(moms["g"], c["g"], np.array(pos)), rtol=0.06)
    assert err["s"].max() < 1e-10
    risk = evaluate(layer, sampler, {"risk": sequence_risk}, n_samples=2**13, batch_size=2048, seed=4)
    assert risk["g"]["risk"] == pytest.approx(pooled_risk(moms["g"], c["g"], T), rel=0.06)


def test_relative_deviation():
    assert relative_deviation(2 * np.eye(3), 2.0) == 0.0
    assert relative_deviation(np.eye(2), 2.0) == pytest.approx(0.5)

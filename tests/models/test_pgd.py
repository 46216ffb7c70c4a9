"""The reference models PGD and WPGD (eq-ch1-pgd, eq-ch2-wpgd)."""

import numpy as np
import pytest
import torch

from iclcore import theory
from iclcore.evaluate import evaluate
from iclcore.models import PGD, WPGD
from iclcore.tasks import LinearRegression, make_generator, squared_error
from iclcore.train import fit

RISK = {"risk": squared_error}


def test_pgd_is_one_preconditioned_step():
    W = np.random.default_rng(0).normal(size=(3, 3))
    Z, _ = LinearRegression(3, 6, dtype=torch.float64)(5, make_generator(1))
    X, y, x = Z[:, :-1, :-1].numpy(), Z[:, :-1, -1].numpy(), Z[:, -1, :-1].numpy()
    expected = np.einsum("bi,ij,btj,bt->b", x, W, X, y)
    model = PGD(3, W0=W).double()
    np.testing.assert_allclose(model(Z)[0].detach().numpy(), expected, rtol=1e-5)   # W0 is stored in float32


def test_pgd_at_the_optimum_has_the_closed_form_risk():
    d, n = 4, 10
    W, risk = theory.pgd_optimal(np.eye(d), np.eye(d), n, noise=0.3)
    task = LinearRegression(d, n, noise=0.3, dtype=torch.float64)
    assert evaluate(PGD(d, W0=W).double(), task, RISK, n_samples=2**16)[0]["risk"] == pytest.approx(risk, rel=0.03)


def test_wpgd_with_unit_weights_is_pgd_and_ignores_left_padding():
    d, n = 4, 10
    W, _ = theory.pgd_optimal(np.eye(d), np.eye(d), n, noise=0.3)
    wp = WPGD(d, n_ctx=12, n_members=2).double()
    with torch.no_grad():
        wp.W.copy_(torch.as_tensor(W))
    Z, _ = LinearRegression(d, n, dtype=torch.float64)(6, make_generator(0))
    torch.testing.assert_close(wp(Z), PGD(d, n_members=2, W0=W).double()(Z))   # omega = 1 is plain PGD
    torch.testing.assert_close(wp(Z), wp(torch.nn.functional.pad(Z, (0, 0, 2, 0))))
    assert wp.effective_weights(n).shape == (2, n)


def test_trained_wpgd_learns_inverse_noise_weights():
    d, nv = 3, np.array([0.0] * 4 + [16.0] * 4)
    task = LinearRegression(d, 8, noise=np.sqrt(nv), query_noise=0.0)
    model = WPGD(d, 8)
    fit(model, task, steps=400, lr=0.02, batch_size=512, progress=False)
    w = model.effective_weights(8)[0].numpy()
    w_star, risk = theory.wpgd_isotropic(d, nv)
    assert w[4:].mean() / w[:4].mean() == pytest.approx(w_star[-1] / w_star[0], rel=0.2)
    assert evaluate(model, task, RISK, n_samples=2**15)[0]["risk"] == pytest.approx(risk, rel=0.05)

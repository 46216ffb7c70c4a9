"""The distillation data model (iclcore.tasks.gaussian_features)."""

import numpy as np
import pytest
import torch

from iclcore.tasks import GaussianFeatures, excess_risk, make_generator, power_law_signal, power_law_spectrum


def test_power_laws():
    lam, beta = power_law_spectrum(5, 2.0), power_law_signal(5, 2.0, 1.5)
    np.testing.assert_allclose(lam, [1, 1 / 4, 1 / 9, 1 / 16, 1 / 25])
    np.testing.assert_allclose(lam * beta**2, np.arange(1, 6) ** -1.5)


def test_shapes_covariance_and_labels():
    lam = np.array([4.0, 1.0, 0.25])
    surrogates = {"a": np.array([1.0, -2.0, 0.5]), "b": np.zeros(3)}
    task = GaussianFeatures(lam, n=5, surrogates=surrogates, noise=0.5)
    X, Y = task(4000, make_generator(0))
    assert X.shape == (4000, 5, 3) and Y.shape == (2, 4000, 5) and task.members == ("a", "b")
    cov = torch.einsum("bni,bnj->ij", X, X).numpy() / (4000 * 5)
    corr = cov / np.sqrt(np.outer(lam, lam))                          # identity, up to 4 standard errors
    np.testing.assert_allclose(corr, np.eye(3), atol=4 * np.sqrt(2 / (4000 * 5)))
    # the same noise for every surrogate: the label difference is exactly X (beta_a - beta_b)
    torch.testing.assert_close(Y[0] - Y[1], X @ torch.tensor(surrogates["a"]))
    assert Y[1].std().item() == pytest.approx(0.5, rel=0.03)          # member "b" is pure noise, std 0.5


def test_common_random_numbers():
    """The same generator state gives the same X whatever the surrogates and the noise."""
    lam = power_law_spectrum(6, 1.0)
    X1, _ = GaussianFeatures(lam, 3, np.ones(6))(2, make_generator(7))
    X2, _ = GaussianFeatures(lam, 3, {"x": np.zeros(6), "y": np.ones(6)}, noise=1.0)(2, make_generator(7))
    torch.testing.assert_close(X1, X2)


def test_excess_risk():
    lam, beta = np.array([2.0, 0.5]), np.array([1.0, 1.0])
    hat = torch.tensor([[1.0, 1.0], [2.0, 1.0], [1.0, 3.0]])
    torch.testing.assert_close(excess_risk(hat, beta, lam), torch.tensor([0.0, 2.0, 2.0], dtype=torch.float64))

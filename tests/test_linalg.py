import numpy as np

from iclcore.linalg import sqrtm_psd


def test_square_root_of_singular_psd_matrix():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((4, 2))
    S = A @ A.T                                   # rank 2
    R = sqrtm_psd(S)
    np.testing.assert_allclose(R @ R, S, atol=1e-12)
    np.testing.assert_allclose(R, R.T)
    assert np.linalg.eigvalsh(R).min() > -1e-12


def test_samples_have_the_covariance():
    S = np.array([[4.0, 1.0], [1.0, 1.0]])
    x = np.random.default_rng(1).standard_normal((200_000, 2)) @ sqrtm_psd(S)
    np.testing.assert_allclose(np.cov(x.T), S, rtol=0.02)

"""The coding-exercise checkers of the mesa-optimization chapter: solutions pass, common mistakes get their hints."""

import numpy as np

from iclcore.exercises.mesa import check_mesa_prediction, check_optimal_product


def _prediction(states, c, conjugate=True):
    n, T1, d = states.shape
    out = np.zeros((n, T1 - 1, d), dtype=complex)
    for t in range(1, T1):
        old = states[:, :t].conj() if conjugate else states[:, :t]
        G = np.einsum("nui,nuj->nij", states[:, 1:t + 1], old) / t
        out[:, t - 1] = c * np.einsum("nij,nj->ni", G, states[:, t])
    return out


def _product(starts, T, h=None):
    r2 = np.abs(starts) ** 2
    S2, S4, S6 = r2.sum(1), (r2**2).sum(1), (r2**3).sum(1)
    h = np.mean(1 / np.arange(1, T + 1)) if h is None else h
    return S4.mean() / (S6.mean() + h * (S2 * S4 - S6).mean())


def test_the_solutions_pass():
    assert check_mesa_prediction(_prediction, show=False)
    assert check_optimal_product(_product, show=False)


def test_common_mistakes_get_their_hints():
    no_conj = check_mesa_prediction(lambda s, c: _prediction(s, c, conjugate=False), show=False)
    assert not no_conj and "conjugate" in no_conj.hint
    unnormalised = check_mesa_prediction(lambda s, c: _prediction(s, c) * np.arange(1, s.shape[1])[None, :, None],
                                         show=False)
    assert not unnormalised and "divide" in unnormalised.hint
    real = check_mesa_prediction(lambda s, c: _prediction(s, c).real, show=False)
    assert not real and "imaginary" in real.hint
    infinite = check_optimal_product(lambda z, T: _product(z, T, h=0.0), show=False)
    assert not infinite and "T -> infinity" in infinite.hint
    over_T = check_optimal_product(lambda z, T: _product(z, T, h=1 / T), show=False)
    assert not over_T and "h_T is that mean" in over_T.hint

import numpy as np
import pytest

from iclcore.experiments.ch06_convolution_augmented_transformer import landmark_retrieval_mc
from iclcore.theory import construction_mass, landmark_retrieval_theory


def test_construction_mass_known_values_and_softmax_definition():
    assert construction_mass(0.0, 5) == pytest.approx(0.2)
    assert construction_mass(np.log(9.0), 2) == pytest.approx(0.9)
    assert construction_mass(3.0, 1) == pytest.approx(1.0)
    c, L = 1.7, 23
    logits = np.r_[c, np.zeros(L - 1)]
    assert construction_mass(c, L) == pytest.approx(np.exp(c) / np.exp(logits).sum(), rel=1e-12)
    np.testing.assert_allclose(construction_mass(2.0, np.array([2, 10])),
                               [1 / (1 + np.exp(-2)), 1 / (1 + 9 * np.exp(-2))])


@pytest.mark.parametrize("n, block, d", [(256, 4, 32), (256, 16, 64), (1024, 32, 256)])
def test_landmark_theory_matches_monte_carlo(n, block, d):
    mc = landmark_retrieval_mc(n, block, d, n_trials=4000, seed=1)
    assert landmark_retrieval_theory(n, block, d) == pytest.approx(mc, abs=0.03)


def test_landmark_limits():
    assert landmark_retrieval_theory(64, 64, 16) == pytest.approx(1.0)            # one block: always right
    assert landmark_retrieval_theory(64, 1, 4096) == pytest.approx(1.0, abs=1e-6)
    assert landmark_retrieval_theory(1024, 512, 16) < 0.6                        # two blocks of noise: near 1/2
    assert landmark_retrieval_mc(64, 2, 4096, n_trials=200) == 1.0

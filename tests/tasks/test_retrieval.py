"""Retrieval-correlated prompts (eq-ch2-rag)."""

import torch

from iclcore.tasks import RetrievalRegression, make_generator, stack


def test_stacks_with_other_lengths():
    task = RetrievalRegression(4, 7, 0.5)
    assert stack([task, RetrievalRegression(4, 3, 0.1)])(2, make_generator(1))[0].shape == (2, 2, 8, 5)


def test_marginals_and_correlation():
    d, alpha = 3, 0.6
    Z, _ = RetrievalRegression(d, 2, alpha, dtype=torch.float64)(2**16, make_generator(2))
    x, x1 = Z[:, -1, :-1], Z[:, 0, :-1]
    torch.testing.assert_close(x1.pow(2).mean(0), torch.ones(d, dtype=torch.float64), atol=0.03, rtol=0)
    torch.testing.assert_close((x * x1).mean(0), torch.full((d,), alpha, dtype=torch.float64), atol=0.02, rtol=0)


def test_alpha_one_copies_the_query_and_labels_are_linear():
    Z, y = RetrievalRegression(3, 4, 1.0, dtype=torch.float64)(5, make_generator(3))
    torch.testing.assert_close(Z[:, :-1, :-1], Z[:, -1:, :-1].expand(-1, 4, -1))
    torch.testing.assert_close(Z[:, 0, -1], y)   # noiseless: same features, same label

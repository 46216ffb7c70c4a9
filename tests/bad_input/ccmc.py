"""Bad input of Chapter 8's code: the CCMC closed forms and estimator, its samplers and the tied attention layer."""

import numpy as np
import torch

from iclcore.models import TiedEmbeddingAttention
from iclcore.tasks import (
    generate_ccmc,
    make_generator,
    random_scores,
    sample_tokens,
    token_counts,
    top_share,
    uniform_prompts,
)
from iclcore.theory import (
    ccmc_fisher,
    ccmc_kl,
    ccmc_mle,
    ccmc_nll,
    ccmc_probs,
    dirichlet_entropy,
    identified_dimension,
    mle_error_constant,
    polya_exponents,
    row_centred,
    stationary_distribution,
)

W3 = np.zeros((3, 3))
M = np.array([[1.0, 2.0, 0.0], [0.0, 1.0, 1.0]])
LAST = np.array([0, 2])
Y = np.array([1, 2])
G = make_generator(0)

CASES = [
    # ccmc_probs: shapes, signs, finiteness, range of the last token
    (ccmc_probs, (np.zeros((3, 2)), [1.0, 1.0, 1.0], 0), {}, "W_tilde"),
    (ccmc_probs, (np.zeros(3), [1.0, 1.0, 1.0], 0), {}, "W_tilde"),
    (ccmc_probs, (np.array([[0.0, np.nan], [0.0, 0.0]]), [1.0, 1.0], 0), {}, "W_tilde"),
    (ccmc_probs, (W3, [1.0, 1.0], 0), {}, "counts"),
    (ccmc_probs, (W3, [1.0, -1.0, 1.0], 0), {}, "counts"),
    (ccmc_probs, (W3, [0.0, 0.0, 0.0], 0), {}, "counts"),
    (ccmc_probs, (W3, [1.0, np.inf, 1.0], 0), {}, "counts"),
    (ccmc_probs, (W3, np.ones((2, 2, 3)), 0), {}, "counts"),
    (ccmc_probs, (W3, [1.0, 1.0, 1.0], 3), {}, "last"),
    (ccmc_probs, (W3, [1.0, 1.0, 1.0], -1), {}, "last"),
    (ccmc_probs, (W3, [1.0, 1.0, 1.0], 1.0), {}, "last"),
    (ccmc_probs, (W3, M, np.array([0, 1, 2])), {}, "last"),
    (ccmc_probs, (W3, [1.0, 1.0, 1.0], np.array([0, 1])), {}, "last"),
    # the estimator and the error measures
    (ccmc_mle, (np.array([[1.0, -2.0, 0.0], [0.0, 1.0, 1.0]]), LAST, Y), {}, "counts"),
    (ccmc_mle, (np.array([[0.0, 0.0, 0.0], [0.0, 1.0, 1.0]]), LAST, Y), {}, "counts"),
    (ccmc_mle, (M[0], 0, 1), {}, "counts"),
    (ccmc_mle, (M, np.array([0, 3]), Y), {}, "last"),
    (ccmc_mle, (M, np.array([0]), Y), {}, "last"),
    (ccmc_mle, (M, LAST, np.array([1, 5])), {}, "y"),
    (ccmc_mle, (M, LAST, np.array([2, 2])), {}, "y"),          # token 2 is absent from prompt 0
    (ccmc_mle, (M, LAST, Y), {"ridge": 0.0}, "ridge"),
    (ccmc_mle, (M, LAST, Y), {"problems": np.array([0, 3]), "n_problems": 2}, "problems"),
    (ccmc_mle, (M, LAST, Y), {"K": 4}, "counts"),
    (ccmc_nll, (np.zeros((3, 4)), M, LAST, Y), {}, "W_tilde"),
    (ccmc_fisher, (W3, M[0], 0), {}, "counts"),
    (ccmc_fisher, (np.zeros((2, 3)), M, LAST), {}, "W_tilde"),
    (ccmc_kl, (W3, np.zeros((2, 2)), M, LAST), {}, "W_hat"),
    (ccmc_kl, (W3, W3, M, np.array([0, 9])), {}, "last"),
    (mle_error_constant, (np.zeros((3, 3)),), {}, "fisher"),
    (identified_dimension, (np.zeros(3, dtype=int),), {}, "components"),
    (row_centred, (W3, np.zeros((2, 2), dtype=int)), {}, "components"),
    (stationary_distribution, (np.array([[0.5, 0.6], [0.5, 0.5]]),), {}, "P"),
    (polya_exponents, ([0.0, np.nan],), {}, "a"),
    (dirichlet_entropy, (0,), {}, "K"),
    (dirichlet_entropy, (3, -1.0), {}, "alpha"),
    # samplers and metrics
    (random_scores, (3, -1.0, G), {}, "spread"),
    (uniform_prompts, (0, 4, 3, G), {}, "n"),
    (uniform_prompts, (5, 4, 3, G), {"groups": [[0, 1], [2, 7]]}, "groups"),
    (token_counts, (torch.tensor([0, 5]), 3), {}, "tokens"),
    (sample_tokens, (torch.tensor([0.5, -0.1]), G), {}, "probs"),
    (sample_tokens, (torch.tensor([[0.0, 0.0]]), G), {}, "probs"),
    (top_share, (torch.tensor([[0, 1]]), 2), {"k": 3}, "k"),
    (generate_ccmc, (np.zeros((3, 2)), [0, 1], 5), {"runs": 2, "generator": G}, "W_tilde"),
    (generate_ccmc, (W3, [0, 3], 5), {"runs": 2, "generator": G}, "prompt"),
    (generate_ccmc, (W3, [0, 1], 5), {"runs": 0, "generator": G}, "runs"),
    (generate_ccmc, (W3, [0, 1], 5), {"runs": 2, "generator": G, "window": 0}, "window"),
    (generate_ccmc, (np.zeros((2, 3, 3)), [0, 1], 5), {"runs": 2, "generator": G, "window": [1, 2, 3]}, "window"),
    (generate_ccmc, (np.zeros((2, 3, 3)), [0, 1], 5), {"runs": 2, "generator": G, "recency": [0.1, 0.2, 0.3]},
     "recency"),
    (generate_ccmc, (W3, [0, 1], 5), {"runs": 2, "generator": G, "recency": float("nan")}, "recency"),
    (generate_ccmc, (W3, [0, 1], 5), {"runs": 2, "generator": G, "count_weighting": 1}, "count_weighting"),
    # the tied-embedding attention layer
    (TiedEmbeddingAttention, (0,), {}, "K"),
    (TiedEmbeddingAttention, (4,), {"d_model": 3, "embedding": "random"}, "d_model"),
    (TiedEmbeddingAttention, (4,), {"d_model": 6}, "d_model"),
    (TiedEmbeddingAttention, (4,), {"embedding": "onehot"}, "embedding"),
    (TiedEmbeddingAttention, (4,), {"n_members": 0}, "n_members"),
    (TiedEmbeddingAttention(3), (torch.tensor([[0, 3]]),), {}, "tokens"),
    (TiedEmbeddingAttention(3), (torch.tensor([[0.0, 1.0]]),), {}, "tokens"),
    (TiedEmbeddingAttention(3, positional=True, n_ctx=2), (torch.tensor([[0, 1, 2]]),), {}, "tokens"),
    (TiedEmbeddingAttention(3).set_scores, (torch.zeros(2, 2),), {}, "W_tilde"),
]

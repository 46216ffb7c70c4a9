"""Checkers for the exercises of Chapter 17 (auto-regressive universal learners)."""

from __future__ import annotations

import numpy as np
import torch

from iclcore.exercises.base import Case, check_function
from iclcore.models.linear_ar import block_mask
from iclcore.tasks.cot import parity_sequences


def check_block_mask(fn, show: bool = True):
    """``fn(T, d)`` -> the (T d, T d) 0/1 block-lower-triangular mask of {eq}`eq-ch17-linear`."""
    return check_function(
        fn, lambda T, d: block_mask(T, d).numpy(),
        [Case("one position", (1, 3)), Case("one-hot width", (4, 1)), Case("small", (3, 2)), Case("wider", (5, 4))],
        name="my_block_mask",
        wrong_answers=[(lambda T, d: block_mask(T, d, "none").numpy(), "Every block is kept: the mask must zero the "
                        "blocks above the diagonal (position t may not read a later token)."),
                       (lambda T, d: block_mask(T, d, "diagonal").numpy(), "Only the diagonal blocks are kept: "
                        "block (t, s) must be kept for every s <= t, not only s == t."),
                       (lambda T, d: block_mask(T, d).numpy().T, "Transposed: output block t (rows) reads input "
                        "blocks s <= t (columns).")],
        show=show)


def _reference_chain(bits):
    bits = torch.as_tensor(np.asarray(bits)).long()
    return parity_sequences(bits, "or-xor")[:, bits.shape[1] + 1:].numpy()


def check_or_xor_chain(fn, show: bool = True):
    """``fn(bits (B, n))`` -> the (B, 2n) tokens o_1, p_1, ..., o_n, p_n of the ``or-xor`` CoT
    ({eq}`eq-ch17-parity-cot`)."""
    rng = np.random.default_rng(0)
    every3 = np.array([[(i >> j) & 1 for j in range(3)] for i in range(8)])
    return check_function(
        fn, _reference_chain,
        [Case("one bit", (np.array([[0], [1]]),)), Case("all 3-bit inputs", (every3,)),
         Case("random 12-bit inputs", (rng.integers(0, 2, (20, 12)),))],
        name="my_or_xor_chain",
        wrong_answers=[(lambda b: _reference_chain(b).reshape(len(b), -1, 2)[:, :, ::-1].reshape(len(b), -1),
                        "Close, but check the order: o_k comes before p_k."),
                       (lambda b: np.repeat(_reference_chain(b)[:, 1::2], 2, axis=1),
                        "Your o_k equals p_k: o_k is the OR of p_(k-1) and x_k, not the new parity.")],
        show=show)

"""The Chapter 17 exercise checkers (iclcore.exercises.universal) accept right answers and explain wrong ones."""

import numpy as np

from iclcore.exercises.universal import check_block_mask, check_or_xor_chain


def _mask(T, d):
    return np.kron(np.tril(np.ones((T, T))), np.ones((d, d)))


def _chain(bits):
    bits = np.asarray(bits)
    p, out = np.zeros(len(bits), dtype=int), []
    for k in range(bits.shape[1]):
        x = bits[:, k]
        o = (p + x >= 1).astype(int)
        p = (2 * o - p - x >= 1).astype(int)
        out += [o, p]
    return np.stack(out, 1)


def test_block_mask_checker():
    assert check_block_mask(_mask, show=False)
    v = check_block_mask(lambda T, d: _mask(T, d).T, show=False)
    assert not v and "Transposed" in v.hint
    v = check_block_mask(lambda T, d: np.ones((T * d, T * d)), show=False)
    assert not v and "above the diagonal" in v.hint


def test_or_xor_chain_checker():
    assert check_or_xor_chain(_chain, show=False)
    v = check_or_xor_chain(lambda b: _chain(b).reshape(len(b), -1, 2)[:, :, ::-1].reshape(len(b), -1), show=False)
    assert not v and "order" in v.hint
    assert not check_or_xor_chain(lambda b: 1 / 0, show=False)

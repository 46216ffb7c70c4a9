"""Chain-of-thought tasks (Chapter 17): known sequences, every CoT step is right, splits and padding."""

import itertools

import torch

from iclcore.tasks import (
    IGNORE,
    MultiplicationCoT,
    ParityCoT,
    answer_correct,
    make_generator,
    multiplication_sequences,
    parity_sequences,
    split_pairs,
)


def test_parity_formats_on_a_known_input():
    bits = torch.tensor([[1, 0, 1]])
    assert parity_sequences(bits, "none").tolist() == [[1, 0, 1, 2, 0]]
    assert parity_sequences(bits, "xor").tolist() == [[1, 0, 1, 2, 1, 1, 0]]
    assert parity_sequences(bits, "or-xor").tolist() == [[1, 0, 1, 2, 1, 1, 1, 1, 1, 0]]
    assert parity_sequences(bits, "gates").tolist() == [[1, 0, 1, 2, 0, 1, 1, 0, 1, 1, 1, 1, 0]]


def test_every_chain_ends_with_the_parity_and_every_step_is_a_threshold():
    bits = torch.tensor(list(itertools.product([0, 1], repeat=5)))
    parity = bits.sum(1) % 2
    for mode in ("none", "xor", "or-xor", "gates"):
        assert torch.equal(parity_sequences(bits, mode)[:, -1], parity)
    cot = parity_sequences(bits, "or-xor")[:, 6:].reshape(-1, 5, 2)
    p_prev = torch.cat([torch.zeros(32, 1, dtype=torch.long), cot[:, :-1, 1]], 1)
    o, p = cot[..., 0], cot[..., 1]
    assert torch.equal(o, ((p_prev + bits) >= 1).long())
    assert torch.equal(p, ((2 * o - p_prev - bits) >= 1).long())


def test_parity_sampler_pads_and_ignores_the_question():
    task = ParityCoT(4, "xor", length=12)
    x, y = task(64, make_generator(0))
    assert x.shape == y.shape == (64, 11)
    assert (y[:, :4] == IGNORE).all() and (y[:, 8:] == IGNORE).all() and (y[:, 4:8] != IGNORE).all()
    assert torch.equal(x[:, 5:8], y[:, 4:7])
    full = task.sequences(64, make_generator(0))
    assert full.shape == (64, 9)


def test_multiplication_formats():
    a, b = torch.tensor([47]), torch.tensor([36])
    assert multiplication_sequences(a, b, 2, 2, "direct").tolist() == [[4, 7, 10, 3, 6, 11, 1, 6, 9, 2]]
    part = multiplication_sequences(a, b, 2, 2, "partial")[0, 6:14].tolist()
    assert part == [4, 2, 2, 1, 2, 4, 1, 2]                    # 7*6, 7*3, 4*6, 4*3
    run = multiplication_sequences(a, b, 2, 2, "running")[0]
    assert run[-4:].tolist() == [1, 6, 9, 2] and run.shape[0] == 6 + 4 * 6 + 4
    assert run[-8:-4].tolist() == [2, 9, 6, 1]                 # the last running sum, LSD first
    pairs = torch.randint(0, 100, (50, 2), generator=make_generator(1))
    seq = multiplication_sequences(pairs[:, 0], pairs[:, 1], 2, 2, "running")
    digits = seq[:, -4:] * torch.tensor([1000, 100, 10, 1])
    assert torch.equal(digits.sum(1), pairs[:, 0] * pairs[:, 1])


def test_split_is_a_fixed_partition_with_a_quarter_held_out():
    tr, te = split_pairs(2, 2)
    assert tr.shape[0] + te.shape[0] == 10_000 and 0.2 < te.shape[0] / 10_000 < 0.3
    assert not set(map(tuple, tr.tolist())) & set(map(tuple, te.tolist()))
    assert torch.equal(split_pairs(2, 2)[1], te)
    task = MultiplicationCoT(tr, 2, 2, "direct")
    x, y = task(8, make_generator(0))
    assert x.shape == (8, 9) and (y[:, :5] == IGNORE).all()


def test_answer_correct():
    ref = torch.tensor([[1, 2, 3, 4]])
    gen = torch.tensor([[[9, 9, 3, 4]], [[1, 2, 3, 5]]])
    assert answer_correct(gen, ref, 2).tolist() == [[True], [False]]

import math

import pytest
import torch

from iclcore.tasks import IGNORE, AssociativeRecall, Copying, SelectiveCopying, lm_loss, make_generator, token_accuracy


def test_associative_recall_layout_and_answers():
    task = AssociativeRecall(n_pairs=5, n_queries=3, n_keys=16, n_values=16)
    tokens, targets = task(32, make_generator(0))
    assert tokens.shape == targets.shape == (32, task.seq_len) == (32, 2 * 5 + 3)
    keys, values = tokens[:, 0:10:2], tokens[:, 1:10:2]
    assert torch.all(keys < 16) and torch.all(values >= 16) and torch.all(tokens < task.vocab_size)
    for b in range(32):
        assert len(set(keys[b].tolist())) == 5 and len(set(values[b].tolist())) == 5   # distinct
        answers = torch.nonzero(targets[b] != IGNORE).flatten()
        assert answers.tolist() == [10, 11, 12]
        for t in answers:   # the answer is the value right after the queried key
            i = (keys[b] == tokens[b, t]).nonzero().item()
            assert targets[b, t] == values[b, i]


def test_bigram_keys_are_distinct_pairs_and_answer_at_last_query_token():
    task = AssociativeRecall(n_pairs=8, n_queries=2, n_keys=4, n_values=16, ngram=2)
    tokens, targets = task(16, make_generator(1))
    assert tokens.shape == (16, 3 * 8 + 2 * 2)
    ctx = tokens[:, :24].reshape(16, 8, 3)
    for b in range(16):
        pairs = {tuple(p) for p in ctx[b, :, :2].tolist()}
        assert len(pairs) == 8
        for t in (25, 27):
            query = tuple(tokens[b, t - 1: t + 1].tolist())
            i = [tuple(p) for p in ctx[b, :, :2].tolist()].index(query)
            assert targets[b, t] == ctx[b, i, 2]
    assert torch.all(targets[:, [24, 26]] == IGNORE)


def test_copying_targets_are_the_next_token_of_the_copy():
    task = Copying(length=6, n_tokens=10)
    tokens, targets = task(8, make_generator(2))
    assert tokens.shape == (8, 13) and task.vocab_size == 11
    assert torch.all(tokens[:, 0] == 10) and torch.all(tokens[:, 7] == 10)
    torch.testing.assert_close(targets[:, 7:], tokens[:, 1:7])
    torch.testing.assert_close(tokens[:, 8:], tokens[:, 1:6])
    assert torch.all(targets[:, :7] == IGNORE)


def test_same_seed_same_prompts_and_uniform_queries():
    task = AssociativeRecall(8, 4, 64, 64)
    a, b = task(4, make_generator(3)), task(4, make_generator(3))
    assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
    tokens, _ = AssociativeRecall(4, 1, 8, 8)(20_000, make_generator(4))
    # the single query is each of the 4 keys with probability 1/4: it equals k_1 a quarter of the time
    assert (tokens[:, -1] == tokens[:, 0]).float().mean().item() == pytest.approx(0.25, abs=0.015)


def test_selective_copying_layout_gaps_and_answers():
    task = SelectiveCopying(length=6, n_tokens=10)
    tokens, targets = task(64, make_generator(5))
    assert tokens.shape == targets.shape == (64, task.seq_len) == (64, 4 * 6 + 1)
    assert task.vocab_size == 12 and torch.all(tokens[:, 0] == 11) and torch.all(tokens[:, 19] == 11)
    region = tokens[:, 1:19]
    for b in range(64):
        data_pos = torch.nonzero(region[b] != task.noise).flatten()
        data = region[b, data_pos]
        assert len(data) == 6 and len(set(data.tolist())) == 6 and torch.all(data < 10)
        gaps = torch.diff(torch.cat([torch.tensor([-1]), data_pos])) - 1           # noise before each x_j
        assert gaps.min() >= 0 and gaps.max() <= SelectiveCopying.MAX_GAP
        torch.testing.assert_close(targets[b, 19:], data)                          # x_1 .. x_n, in order
        torch.testing.assert_close(tokens[b, 20:], data[:-1])                      # the copy so far
    assert torch.all(targets[:, :19] == IGNORE)
    gaps_seen = torch.stack([torch.diff(torch.cat([torch.tensor([-1]), torch.nonzero(r != 10).flatten()])) - 1
                             for r in region])
    assert {0, 1, 2} == set(gaps_seen.unique().tolist())                          # every gap occurs


def test_lm_loss_is_cross_entropy_over_the_scored_positions():
    g = make_generator(0)
    logits = torch.randn(2, 5, 7, generator=g)
    targets = torch.randint(0, 7, (2, 5), generator=g)
    ref = torch.nn.functional.cross_entropy(logits.reshape(-1, 7), targets.reshape(-1))
    torch.testing.assert_close(lm_loss(logits, targets), ref.reshape(1))
    targets[:, :3] = IGNORE
    ref = torch.nn.functional.cross_entropy(logits[:, 3:].reshape(-1, 7), targets[:, 3:].reshape(-1))
    torch.testing.assert_close(lm_loss(logits, targets), ref.reshape(1))
    both = lm_loss(torch.stack([logits, torch.zeros_like(logits)]), targets)       # an ensemble of two
    torch.testing.assert_close(both, torch.stack([ref, torch.tensor(math.log(7.0))]))


def test_token_accuracy_counts_only_the_scored_positions():
    targets = torch.tensor([[IGNORE, 2, 0], [1, IGNORE, IGNORE]])
    logits = torch.nn.functional.one_hot(torch.tensor([[2, 2, 1], [1, 0, 0]]), 3).float()   # right, wrong, right
    assert token_accuracy(logits, targets).tolist() == [2 / 3]
    wrong = torch.nn.functional.one_hot(torch.tensor([[0, 0, 2], [0, 1, 1]]), 3).float()
    assert token_accuracy(torch.stack([logits, wrong]), targets).tolist() == [2 / 3, 0.0]

import pytest
import torch

from iclcore.tasks import make_generator
from iclcore.tasks.recall import IGNORE, AssociativeRecall, Copying


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


@pytest.mark.parametrize("kwargs, match", [
    (dict(n_pairs=0), "n_pairs"), (dict(n_pairs=9, n_keys=8), "n_pairs"), (dict(n_pairs=4, n_queries=5), "n_queries"),
    (dict(n_pairs=4, ngram=0), "ngram"), (dict(n_pairs=20, n_keys=4, ngram=2), "n_pairs"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        AssociativeRecall(**kwargs)


def test_copying_bad_arguments():
    with pytest.raises(ValueError, match="length"):
        Copying(length=11, n_tokens=10)
    with pytest.raises(ValueError, match="batch_size"):
        Copying(3)(0, make_generator(0))

import math

import numpy as np
import pytest
import torch

from iclcore.experiments.ch06_convolution_augmented_transformer import (
    accuracy_by_length,
    answer_attention,
    cat_recall_construction,
    recall_gpt,
)
from iclcore.models import CAT, Ensemble
from iclcore.tasks import AssociativeRecall, Copying, lm_loss, make_generator, token_accuracy
from iclcore.theory import construction_mass
from iclcore.train import fit


@pytest.mark.parametrize("n_pairs", [4, 16, 64])
def test_construction_solves_recall_and_copying_at_every_length(n_pairs):
    ar, cp = AssociativeRecall(n_pairs, 4, n_keys=64, n_values=64), Copying(n_pairs, 64)
    model = cat_recall_construction(ar.vocab_size, c=1.0)
    assert accuracy_by_length(model, lambda n: ar, [n_pairs], n_prompts=64)[0]["accuracy"].tolist() == [1.0]
    copier = cat_recall_construction(cp.vocab_size, c=1.0)
    assert accuracy_by_length(copier, lambda n: cp, [n_pairs], n_prompts=64)[0]["accuracy"].tolist() == [1.0]
    out = answer_attention(model, *ar(64, make_generator(1)))
    assert torch.all(out["offset"] == 0)                                          # attends to the value
    np.testing.assert_allclose(out["gap"].numpy(), 1.0, atol=1e-12)
    # its attention is the closed form (eq-ch6-mass), to rounding error
    np.testing.assert_allclose(out["mass"].numpy(), construction_mass(1.0, out["L"].numpy()), rtol=1e-12)


def test_construction_needs_exp_c_above_the_largest_token_count():
    """The queried key is visible twice (as key and as query), with score 0: e^c must exceed 2."""
    task_at = lambda n: AssociativeRecall(n, 4, 64, 64)  # noqa: E731
    pair = Ensemble({"above": cat_recall_construction(128, c=math.log(2) + 0.1),
                     "below": cat_recall_construction(128, c=math.log(2) - 0.1)})
    res = accuracy_by_length(pair, task_at, [8, 32], n_prompts=128)
    assert res.members == ("above", "below")
    np.testing.assert_array_equal(res["above"]["accuracy"], [1.0, 1.0])
    np.testing.assert_array_equal(res["below"]["accuracy"], [0.0, 0.0])


def test_accuracy_by_length_is_token_accuracy_on_seeded_prompts():
    task_at = lambda n: AssociativeRecall(n, 2, 8, 8)  # noqa: E731
    model = recall_gpt(16, 2, d_model=8, max_len=64, seed=3)
    res = accuracy_by_length(model, task_at, [3, 6], n_prompts=96, seed=50, batch_size=32)
    for j, n in enumerate([3, 6]):
        gen, hits = make_generator(50 + n), []
        for _ in range(3):                                   # the same three batches of 32 prompts
            tokens, targets = task_at(n)(32, gen)
            hits.append(token_accuracy(model(tokens), targets))
        assert res[0]["accuracy"][j] == pytest.approx(torch.cat(hits).mean().item(), abs=1e-12)


def test_side_by_side_training_equals_training_alone():
    task = AssociativeRecall(3, 2, n_keys=8, n_values=8)
    pair = Ensemble({"attention": recall_gpt(task.vocab_size, None, d_model=8, max_len=16, seed=1),
                     "CAT": recall_gpt(task.vocab_size, 2, d_model=8, max_len=16, seed=2)})
    alone = recall_gpt(task.vocab_size, 2, d_model=8, max_len=16, seed=2)
    history = fit(pair, task, steps=20, batch_size=64, loss=lm_loss, seed=3, progress=False)
    fit(alone, task, steps=20, batch_size=64, loss=lm_loss, seed=3, progress=False)
    assert history.shape == (20, 2)
    for p, q in zip(pair.member("CAT").parameters(), alone.parameters(), strict=True):
        torch.testing.assert_close(p, q, rtol=1e-5, atol=1e-6)


def test_small_cat_learns_recall_and_training_is_deterministic():
    task = AssociativeRecall(4, 2, n_keys=16, n_values=16)
    runs = []
    for _ in range(2):
        model = CAT(task.vocab_size, d_model=32, window=2, seed=0)
        fit(model, task, steps=150, lr=1e-2, batch_size=64, seed=0, loss=lm_loss, progress=False)
        runs.append(accuracy_by_length(model, lambda n: task, [4], n_prompts=512)[0]["accuracy"][0])
    assert runs[0] == runs[1] and runs[0] > 0.9


def test_answer_attention_does_not_depend_on_the_chunk_size():
    task = AssociativeRecall(6, 3, 16, 16)
    model = recall_gpt(task.vocab_size, 3, d_model=16, max_len=32, seed=0)
    tokens, targets = task(50, make_generator(2))
    a, b = answer_attention(model, tokens, targets, batch_size=7), answer_attention(model, tokens, targets)
    for k in a:
        torch.testing.assert_close(a[k], b[k])
    assert a["mass"].shape == (150,)


def test_recall_gpt_positions():
    assert recall_gpt(10, None).pos_emb is not None and recall_gpt(10, 3).pos_emb is None
    assert recall_gpt(10, 3, positions=True).pos_emb is not None
    assert recall_gpt(10, None, n_layers=2).blocks.__len__() == 2

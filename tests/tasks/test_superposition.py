"""Retrieval-by-position prompts: single-task answers, mixed-prompt counts, neutral prompts, read-outs."""

import numpy as np
import pytest
import torch

from iclcore.experiments.ch18_task_superposition import MajorityVote, mixture_probs
from iclcore.tasks import PositionRetrieval, answer_probs, make_generator, task_counts
from iclcore.tasks.superposition import demo_tasks


def test_task_counts_known_values():
    assert task_counts((0.5, 0.5), 10).tolist() == [5, 5]
    assert task_counts((1 / 3, 1 / 3, 1 / 3), 10).tolist() == [4, 3, 3]
    assert task_counts((0.25, 0.75), 6).tolist() == [2, 4]       # 1.5 / 4.5: tie goes to the earlier task
    assert task_counts((0.0, 1.0), 4).tolist() == [0, 4]


def test_single_task_prompts_answer_the_query_at_one_position():
    task = PositionRetrieval(3, 6, (4, 4))
    u, y = task(500, make_generator(0))
    assert u.shape == (500, 5, 24)
    dt = demo_tasks(u, 3, 6)
    assert (dt == dt[:, :1]).all() and (dt >= 0).all()         # one task per prompt, every answer in its string
    xq = u[:, -1, :18].reshape(500, 3, 6).argmax(-1)
    assert torch.equal(y, xq.gather(-1, dt[:, :1])[:, 0])
    counts = torch.bincount(dt[:, 0], minlength=3).numpy()
    assert np.all(np.abs(counts / 500 - 1 / 3) < 0.07)


def test_strings_hold_distinct_symbols():
    x = PositionRetrieval(4, 8).strings((300,), make_generator(1))
    assert all(len(set(row.tolist())) == 4 for row in x)


def test_mixed_prompts_follow_the_counts_in_shuffled_order():
    task = PositionRetrieval(3, 6)
    u, ans = task.mixed(400, make_generator(2), (0, 2), (0.25, 0.75), 8)
    dt = demo_tasks(u, 3, 6)
    assert ((dt == 0).sum(1) == 2).all() and ((dt == 2).sum(1) == 6).all()
    assert (dt[:, 0] == 0).float().mean().item() == pytest.approx(0.25, abs=0.07)   # order is shuffled
    xq = u[:, -1, :18].reshape(400, 3, 6).argmax(-1)
    assert torch.equal(ans, xq[:, [0, 2]]) and (ans[:, 0] != ans[:, 1]).all()


def test_shuffled_answers_and_neutral_prompts_hide_the_task():
    task = PositionRetrieval(3, 6, (6, 6), shuffle_answers=True)
    u, _ = task(2000, make_generator(3))
    dt = demo_tasks(u, 3, 6)
    # an answer from another string lands in this one with probability 1/2 (3 of 6 symbols), at a random slot
    assert (dt == -1).float().mean().item() == pytest.approx(0.5, abs=0.03)
    un, _ = PositionRetrieval(3, 6).neutral(100, make_generator(4), 5)
    assert (demo_tasks(un, 3, 6) == -1).all()


def test_answer_probs_is_the_softmax_of_the_last_token():
    logits = torch.randn(2, 5, 3, 6, generator=make_generator(5))
    answers = torch.tensor([[0, 1]] * 5)
    P = answer_probs(logits, answers, temperature=2.0)
    ref = torch.softmax(logits[:, :, -1].double() / 2.0, -1)[..., :2]
    assert torch.allclose(P, ref)


def test_majority_vote_puts_all_mass_on_the_majority_task():
    task = PositionRetrieval(3, 6)
    P = mixture_probs(MajorityVote(3, 6), task, (0, 2), (0.25, 0.75), 8, n_prompts=200, seed=0)
    assert np.allclose(P[:, 1], 1.0) and np.allclose(P[:, 0], 0.0)

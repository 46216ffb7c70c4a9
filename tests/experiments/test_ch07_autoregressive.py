"""Chapter 7's drivers: references per member, the batched experiment, risks per position."""

import numpy as np
import pytest

from iclcore.evaluate import evaluate
from iclcore.experiments.ch07_autoregressive import (
    Member,
    augmented_experiment,
    gd_reference,
    relative_deviation,
    risk_by_position,
)
from iclcore.tasks import sequence_risk


def test_reference_is_closed_form_or_monte_carlo():
    closed = gd_reference(Member("block", 6, {"block_norms": [2.0, 1.0]}), 4)
    mc = gd_reference(Member("block", 6, {"block_norms": [2.0, 1.0], "noise": 1e-9}), 4, n_mc=2**14)
    assert Member(law={"noise": 0.1}).has_closed_form() is False
    assert mc.optimal_eta() == pytest.approx(closed.optimal_eta(), rel=0.03)


def test_experiment_members_start_where_asked_and_positions_average_to_the_risk():
    members = {"a": Member("block", 3), "b": Member("full", 5, start_at_gd=True)}
    refs = {n: gd_reference(m, 4) for n, m in members.items()}
    tasks, model = augmented_experiment(members, 4, 5, references=refs, seed=1)
    assert model.structures == ("block", "full")
    eta_b = refs["b"].optimal_eta()
    assert relative_deviation(model.pv_kq_product()[1].numpy(), eta_b) < 1e-6
    per_position = risk_by_position(model, tasks, 5, n_samples=1024, seed=2)
    risk = evaluate(model, tasks, {"risk": sequence_risk}, n_samples=1024, seed=2)
    assert per_position["a"][:3].mean() == pytest.approx(risk["a"]["risk"], rel=1e-5)
    assert per_position["b"].mean() == pytest.approx(risk["b"]["risk"], rel=1e-5)


def test_relative_deviation():
    assert relative_deviation(2 * np.eye(3), 2.0) == 0.0
    assert relative_deviation(np.eye(2), 2.0) == pytest.approx(0.5)

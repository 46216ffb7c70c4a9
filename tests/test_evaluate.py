import numpy as np
import pytest
import torch
from helpers import LinearEnsemble, linear_task

from iclcore.evaluate import Results, evaluate
from iclcore.models import Ensemble
from iclcore.tasks import squared_error, stack


def test_risk_of_a_known_predictor_matches_its_closed_form():
    model = LinearEnsemble(3)
    beta = torch.tensor([1.0, 0.0, -1.0], dtype=torch.float64)
    res = evaluate(model, linear_task(beta, noise=0.5), {"risk": squared_error}, n_samples=2**16, batch_size=5000)
    expected = ((model.w.detach()[0] - beta) ** 2).sum().item() + 0.25      # E(y - w^T x)^2, x ~ N(0, I)
    assert res[0]["risk"] == pytest.approx(expected, rel=0.03)


def test_members_are_named_by_the_stack_and_read_by_name():
    tasks = stack({("n", 1): linear_task([1.0, 0.0]), ("n", 2): linear_task([0.0, 2.0])})
    model = LinearEnsemble(2, n_members=2)
    model.w.data = torch.tensor([[1.0, 0.0], [0.0, 0.0]], dtype=torch.float64)
    res = evaluate(model, tasks, {"risk": squared_error}, n_samples=4096)
    assert res.members == (("n", 1), ("n", 2))
    assert res[("n", 1)]["risk"] == 0.0 and res[("n", 2)]["risk"] == pytest.approx(4.0, rel=0.1)
    np.testing.assert_array_equal(res.array("risk", [("n", 2), ("n", 1)]), [res[("n", 2)]["risk"], 0.0])


def test_members_named_by_an_ensemble_of_models():
    class Fixed(torch.nn.Module):
        def __init__(self, w):
            super().__init__()
            self.w = torch.nn.Parameter(torch.tensor(w, dtype=torch.float64))

        def forward(self, x):
            return x @ self.w

    x = torch.eye(2, dtype=torch.float64)
    ens = Ensemble({"good": Fixed([1.0, 0.0]), "zero": Fixed([0.0, 0.0])})
    res = evaluate(ens, (x, x[:, 0]), {"risk": squared_error})
    assert res.metric("risk") == {"good": 0.0, "zero": 0.5}


def test_seeded_and_batch_size_free():
    model, task = LinearEnsemble(2), linear_task([1.0, 1.0], noise=1.0)
    a = evaluate(model, task, {"r": squared_error}, n_samples=1000, batch_size=1000, seed=3)
    b = evaluate(model, task, {"r": squared_error}, n_samples=1000, batch_size=1000, seed=3)
    c = evaluate(model, task, {"r": squared_error}, n_samples=1000, batch_size=1000, seed=4)
    assert a[0]["r"] == b[0]["r"] != c[0]["r"]


def test_unknown_member_or_metric_is_a_key_error():
    res = Results(("a", "b"), {"risk": np.array([1.0, 2.0])})
    with pytest.raises(KeyError, match="no member named 'c'"):
        res["c"]
    with pytest.raises(KeyError, match="no metric named 'acc'"):
        res.metric("acc")
    with pytest.raises(ValueError, match="one value per member"):
        Results(("a",), {"risk": np.array([1.0, 2.0])})

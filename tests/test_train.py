import numpy as np
import pytest
import torch
from helpers import LinearEnsemble, linear_task

from iclcore.optim import NormalizedGD
from iclcore.tasks import squared_error, stack
from iclcore.train import Snapshot, fit


def test_online_training_recovers_the_regression_vector():
    beta = [1.0, -2.0, 0.5]
    model = LinearEnsemble(3)
    hist = fit(model, linear_task(beta), steps=300, lr=0.05, batch_size=256, progress=False)
    assert hist.shape == (300, 1) and hist[-20:].mean() < 1e-3 < hist[0, 0]
    np.testing.assert_allclose(model.w.detach()[0].numpy(), beta, atol=0.02)


def test_ensemble_trains_exactly_like_separate_runs():
    tasks = stack({"a": linear_task([1.0, 0.0]), "b": linear_task([0.0, 3.0], noise=0.5)})
    ens = LinearEnsemble(2, n_members=2, seed=4)
    singles = [LinearEnsemble(2, seed=4) for _ in range(2)]
    for i, s in enumerate(singles):
        s.w.data.copy_(ens.w.data[i: i + 1])
    fit(ens, tasks, steps=25, batch_size=32, seed=1, progress=False)
    for i, s in enumerate(singles):          # member i sees the prompts it saw inside the stack
        def member_i(b, g, i=i):
            x, y = tasks(b, g)
            return x[i], y[i]
        fit(s, member_i, steps=25, batch_size=32, seed=1, progress=False)
        torch.testing.assert_close(s.w.data[0], ens.w.data[i])


def test_same_arguments_same_model_and_seed_matters():
    def train(seed):
        m = LinearEnsemble(2)
        fit(m, linear_task([1.0, 1.0], noise=1.0), steps=20, lr=0.1, batch_size=8, seed=seed, progress=False)
        return m.w.detach().clone()
    assert torch.equal(train(0), train(0)) and not torch.equal(train(0), train(1))


def test_fixed_dataset_is_full_batch_gradient_descent():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(40, 3, generator=g, dtype=torch.float64)
    y = x @ torch.tensor([1.0, 2.0, -1.0], dtype=torch.float64)
    model = LinearEnsemble(3, seed=1)
    w0 = model.w.detach().clone()
    fit(model, (x, y), steps=1, optimizer="sgd", lr=0.1, schedule="constant", progress=False)
    grad = 2 * ((x @ w0[0] - y)[:, None] * x).mean(0)          # d/dw of the mean squared error
    torch.testing.assert_close(model.w.detach()[0], w0[0] - 0.1 * grad)


def test_tuple_inputs_are_unpacked():
    class Bilinear(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.a = torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))

        def forward(self, x, z):
            return (self.a * x * z)[None]

    x = torch.ones(4, dtype=torch.float64)
    m = Bilinear()
    fit(m, ((x, 2 * x), 6 * x), steps=300, lr=0.05, schedule="constant", progress=False)
    assert m.a.item() == pytest.approx(3.0, abs=1e-3)


def test_normalised_gd_moves_each_member_by_exactly_lr():
    g = torch.Generator().manual_seed(0)
    x = torch.randn(20, 2, generator=g, dtype=torch.float64)
    model = LinearEnsemble(2, n_members=3)
    w0 = model.w.detach().clone()
    fit(model, (x, x[:, 0]), steps=1, optimizer="ngd", lr=0.3, schedule="constant", progress=False)
    torch.testing.assert_close((model.w.detach() - w0).norm(dim=1), torch.full((3,), 0.3, dtype=torch.float64))


def test_optimizer_factory_with_max_norm_projects():
    x = torch.eye(2, dtype=torch.float64)
    model = LinearEnsemble(2, n_members=2)
    fit(model, (x, 100 * x[:, 0]), steps=50, optimizer=lambda p, lr: NormalizedGD(p, lr=lr, max_norm=1.5),
        lr=0.5, schedule="constant", progress=False)
    torch.testing.assert_close(model.w.detach().norm(dim=1), torch.full((2,), 1.5, dtype=torch.float64))


def test_surrogate_is_differentiated_but_the_loss_is_recorded():
    x = torch.eye(2, dtype=torch.float64)
    model = LinearEnsemble(2)
    w0 = model.w.detach().clone()
    hist = fit(model, (x, x[:, 0]), steps=3, optimizer="sgd", lr=0.1, schedule="constant", progress=False,
               surrogate=lambda m, inputs, targets: 0.0 * m.w.sum(dim=1))     # zero gradient: nothing moves
    assert torch.equal(model.w.detach(), w0)
    np.testing.assert_allclose(hist[:, 0], squared_error(model(x), x[:, 0]).item())


def test_snapshot_records_at_step_zero_and_every_k():
    model = LinearEnsemble(2)
    at = Snapshot(lambda m: m.w.norm(), at=[0, 3])
    every = Snapshot(lambda m: m.w.clone(), every=2)
    fit(model, linear_task([1.0, 1.0]), steps=5, lr=0.1, batch_size=8, callbacks=[at, every], progress=False)
    assert at.steps.tolist() == [0, 3] and every.steps.tolist() == [0, 2, 4]
    assert every.values.shape == (3, 1, 2)
    assert not np.allclose(every.values[0], every.values[-1])            # it trained in between
    assert at.values[0] == pytest.approx(np.linalg.norm(every.values[0]))


def test_cosine_schedule_decays_to_lr_final():
    seen = []
    model = LinearEnsemble(2)

    def record_lr(step, m, loss):
        seen.append(step)

    x = torch.eye(2, dtype=torch.float64)
    # with lr_final == lr the cosine schedule is constant: identical to schedule="constant"
    a, b = LinearEnsemble(2), LinearEnsemble(2)
    fit(a, (x, x[:, 0]), steps=10, optimizer="sgd", lr=0.1, lr_final=0.1, progress=False, callbacks=[record_lr])
    fit(b, (x, x[:, 0]), steps=10, optimizer="sgd", lr=0.1, schedule="constant", progress=False)
    torch.testing.assert_close(a.w, b.w)
    assert seen == list(range(11))
    # the default decays: the same number of steps moves less than the constant rate
    c = LinearEnsemble(2)
    fit(c, (x, x[:, 0]), steps=10, optimizer="sgd", lr=0.1, progress=False)
    assert (c.w - model.w).norm() < (b.w - model.w).norm()

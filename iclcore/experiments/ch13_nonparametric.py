"""Chapter 13 (minimax-optimal nonparametric ICL): pretraining, evaluation and read-outs.

* :func:`pretrain` trains one batched :class:`~iclcore.models.feature_attention.FeatureLinearAttention`
  ensemble whose members are the chapter's configurations: learned features at several context lengths n,
  frozen random features, and pretraining pools of m tasks (task diversity);
* :func:`evaluation_tasks` builds the matching evaluation samplers (fresh functions, or the members' own pools);
* :func:`baseline_risks` measures the projection estimator and the GP posterior mean on common prompts;
* :func:`basis_kernel` reads a trained model's kernel ``phi(x)^T Gamma phi(x')`` in the coordinates of the
  prior's basis, ``A^T Gamma A`` with ``phi = A psi``: its diagonal is the learned shrinkage of each
  basis function, comparable with the optimum of {eq}`eq-ch13-best-la`.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import NamedTuple

import numpy as np
import torch

from iclcore import validate
from iclcore.evaluate import Results, evaluate
from iclcore.models.feature_attention import FeatureLinearAttention
from iclcore.tasks.base import squared_error, stack
from iclcore.tasks.smooth_functions import SmoothFunctionRegression, SmoothPrior
from iclcore.theory.nonparametric import BasisAttention, GPPosteriorMean, oracle_projection, projection_gamma
from iclcore.train import fit


class Pretrained(NamedTuple):
    """What :func:`pretrain` returns: the trained ensemble, its members' training samplers, the loss history
    (steps, E) and each member's context length."""

    model: FeatureLinearAttention
    tasks: Mapping[Hashable, SmoothFunctionRegression]
    history: np.ndarray
    n_of: dict


def member_tasks(*, d: int, s: float, noise: float, ns: Sequence[int], frozen: Sequence[int] = (),
                 pools: Sequence[int] = (), pool_n: int = 32, task_seed: int = 0) -> dict:
    """The training samplers, by member name: ``("learned", n)`` for n in ``ns``, ``("frozen", n)`` for n in
    ``frozen`` (random features, only Gamma trains), ``("pool", m)`` for m in ``pools`` (learned features,
    ``pool_n`` examples, a fixed pool of m functions drawn from ``task_seed + m``). Training targets are the
    noiseless ``f(x)`` (same minimiser as noisy targets, less gradient noise)."""
    tasks = {("learned", n): SmoothFunctionRegression(d, n, s, noise, query_noise=0.0) for n in ns}
    tasks |= {("frozen", n): SmoothFunctionRegression(d, n, s, noise, query_noise=0.0) for n in frozen}
    tasks |= {("pool", m): SmoothFunctionRegression(d, pool_n, s, noise, query_noise=0.0, n_tasks=m,
                                                    task_seed=task_seed + m) for m in pools}
    if not tasks:
        raise ValueError("ns, frozen and pools are all empty: nothing to train")
    return tasks


def pretrain(tasks: Mapping[Hashable, SmoothFunctionRegression], *, n_features: int, steps: int, batch_size: int,
             lr: float, init_seed: int, data_seed: int, width: int = 32, depth: int = 2,
             freeze_all: bool = False, progress: bool = True) -> Pretrained:
    """Train one ensemble, one member per entry of ``tasks`` (see :func:`member_tasks`), with
    :func:`iclcore.train.fit`. Members named ``("frozen", n)`` keep their random features; ``freeze_all``
    freezes every member's features."""
    if not tasks:
        raise ValueError("tasks must hold at least one member")
    d = {t.d for t in tasks.values()}
    if len(d) != 1:
        raise ValueError(f"tasks: all members must share the input dimension d, got {sorted(d)}")
    learn = [not freeze_all and not (isinstance(k, tuple) and k[0] == "frozen") for k in tasks]
    model = FeatureLinearAttention(d.pop(), n_features, width=width, depth=depth, n_members=len(tasks),
                                   learn_features=learn, seed=init_seed)
    history = fit(model, stack(tasks), steps=steps, batch_size=batch_size, lr=lr, seed=data_seed,
                  progress=progress, desc=f"pretraining {len(tasks)} members")
    return Pretrained(model, tasks, history, {k: t.n for k, t in tasks.items()})


def evaluation_tasks(tasks: Mapping[Hashable, SmoothFunctionRegression], on_pool: bool = False) -> dict:
    """Evaluation samplers for the members of ``tasks``: the same n and prior, the query target ``f(x)``
    (so the squared error is the excess risk), and **fresh** functions; with ``on_pool=True`` a pool member
    is tested on its own pretraining pool instead (in-distribution risk)."""
    out = {}
    for name, t in tasks.items():
        pool = dict(n_tasks=t.n_tasks, task_seed=t.task_seed) if on_pool and t.n_tasks is not None else {}
        out[name] = SmoothFunctionRegression(t.d, t.n, t.s, t.noise, query_noise=0.0, n_freq=t.prior.n_freq,
                                             **pool)
    return out


def _fourth_power(pred: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    return ((pred - y) ** 4).mean(dim=-1)


def _with_standard_error(res: Results, n_samples: int) -> Results:
    """``risk`` (mean squared error) and ``se``, its Monte Carlo standard error, from the 2nd and 4th moments."""
    risk, m4 = res.metrics["risk"], res.metrics["m4"]
    return Results(res.members, {"risk": risk, "se": np.sqrt(np.maximum(m4 - risk**2, 0) / n_samples)})


MOMENTS = {"risk": squared_error, "m4": _fourth_power}


def model_risks(model, tasks: Mapping[Hashable, SmoothFunctionRegression], *, n_samples: int, seed: int) -> Results:
    """Excess risk (``risk``) and its standard error (``se``) of every member of ``model`` on its sampler in
    ``tasks`` (same order as the members), on ``n_samples`` prompts each."""
    res = evaluate(model, stack(tasks), MOMENTS, n_samples=n_samples, batch_size=1024, seed=seed)
    return _with_standard_error(res, n_samples)


def baseline_risks(prior: SmoothPrior, ns: Sequence[int], noise: float, *, n_samples: int, seed: int,
                   coefficient_variance=None) -> tuple[Results, dict]:
    """Monte Carlo excess risks of the oracle projection estimator (``N*(n)`` basis functions, chosen by
    :func:`~iclcore.theory.nonparametric.oracle_projection`) and of the GP posterior mean, on the **same**
    prompts at each n. Returns ``Results`` with members ``("projection", n)``, ``("GP", n)`` and the metrics
    ``"risk"`` and ``"se"`` (its standard error), and ``{n: N*(n)}``. ``coefficient_variance`` is passed to
    ``oracle_projection`` (it changes which N is used)."""
    validate.positive_int("n_samples", n_samples)
    if not ns:
        raise ValueError("ns must hold at least one context length")
    members, risks, ses, n_star = [], [], [], {}
    gp = GPPosteriorMean(prior, noise)
    for n in ns:
        n_star[n] = oracle_projection(prior, n, noise, coefficient_variance)[0]
        proj = BasisAttention(prior, projection_gamma(prior, n_star[n]))
        task = SmoothFunctionRegression(prior.d, n, prior.s, noise, query_noise=0.0, n_freq=prior.n_freq,
                                        dtype=torch.float64)
        res = evaluate(lambda Z, proj=proj: torch.cat([proj(Z), gp(Z)]), task, MOMENTS,
                       members=("projection", "GP"), n_samples=n_samples, batch_size=1024, seed=seed + n)
        res = _with_standard_error(res, n_samples)
        members += [("projection", n), ("GP", n)]
        risks += [res["projection"]["risk"], res["GP"]["risk"]]
        ses += [res["projection"]["se"], res["GP"]["se"]]
    return Results(tuple(members), {"risk": np.array(risks), "se": np.array(ses)}), n_star


def basis_kernel(features: Callable[[torch.Tensor], torch.Tensor], Gamma: torch.Tensor, prior: SmoothPrior,
                 points_per_axis: int | None = None) -> np.ndarray:
    """A feature-attention kernel ``phi(x)^T Gamma phi(x')`` in the basis coordinates of ``prior``:
    ``A^T Gamma A`` with ``A = E_x[phi(x) psi(x)^T]`` (the basis coefficients of each feature, by midpoint
    quadrature on ``points_per_axis`` points per axis, default ``8 n_freq``). ``features(x)`` maps points
    (P, d) to (E, P, N); ``Gamma`` is (E, N, N). Returns (E, J, J)."""
    Q = 8 * prior.n_freq if points_per_axis is None else validate.positive_int("points_per_axis", points_per_axis)
    if Q**prior.d > 200_000:
        raise ValueError(f"points_per_axis: {Q}^{prior.d} quadrature points is too many")
    axis = (np.arange(Q) + 0.5) / Q
    x = torch.tensor(list(itertools.product(axis, repeat=prior.d)), dtype=torch.float32)
    with torch.no_grad():
        phi = features(x).double()                                          # (E, P, N)
        A = torch.einsum("epn,pj->enj", phi, prior.basis(x.double())) / Q**prior.d
        return torch.einsum("enj,enm,emk->ejk", A, Gamma.detach().double(), A).numpy()

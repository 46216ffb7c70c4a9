"""Reference algorithms and closed forms for in-context learning of a two-layer MLP with and without its chain of
thought (Li, Sreenivasan, Giannou, Papailiopoulos & Oymak 2023); the task is {eq}`eq-ch16-task`.

* :func:`linear_floor` -- the normalised risk of the best **linear** predictor of ``y`` from ``x`` (known
  network, infinitely many examples): exactly 1/2 for the ReLU MLP ({eq}`eq-ch16-floor`);
* :func:`stepwise_least_squares` -- the chain-of-thought oracle: least squares for each step of the chain,
  ``x -> h`` (one regression per hidden unit, on the examples where that unit is active) then ``h -> y``;
* :func:`identified_probability` -- the chance that the ``x -> h`` step of a unit is identified from k examples,
  ``P(Bin(k, 1/2) >= d)`` ({eq}`eq-ch16-identified`).
"""

from __future__ import annotations

import math

import torch
from scipy import stats

from iclcore import validate
from iclcore.theory.estimators import LeastSquares


def linear_floor(act: str = "relu") -> float:
    """Normalised risk ``E(y - c^T x)^2 / Var y`` of the best linear predictor ``c = E[x y]`` ({eq}`eq-ch16-floor`).

    For ``h = sqrt(2/m) relu(U x)``: ``E[relu(u^T x) x] = u / 2``, so ``E||c||^2 = (2/m)(1/4) m d = d/2`` and
    the floor is ``(d - d/2) / d = 1/2`` for every d and m. (Only ``"relu"`` has this closed form.)
    """
    if act != "relu":
        raise ValueError(f"act must be 'relu' (the closed form is for the ReLU MLP), got {act!r}")
    return 0.5


def identified_probability(d: int, k: int) -> float:
    """``P(Bin(k, 1/2) >= d)``: the chance that one hidden unit is active on at least d of k examples, so that
    least squares on its active examples recovers its weights exactly ({eq}`eq-ch16-identified`)."""
    validate.positive_int("d", d)
    validate.int_in_range("k", k, 0, 10**9)
    return float(stats.binom.sf(d - 1, k, 0.5))


@torch.no_grad()
def stepwise_least_squares(X: torch.Tensor, H: torch.Tensor, y: torch.Tensor, own_thought: bool = True,
                           act_scale: float | None = None) -> torch.Tensor:
    """The chain-of-thought oracle on prompts X (B, n, d), H (B, n, m), y (B, n) -> predictions (B, n).

    Entry k predicts ``y_{k+1}`` from the first k examples and ``x_{k+1}``. Step ``h -> y``: minimum-norm least
    squares of y on h over the prefix, applied to the query's thought. With ``own_thought=True`` that thought is
    predicted by step ``x -> h``: for every unit j, least squares of the pre-activation ``h_ij / sqrt(2/m)`` on
    ``x_i`` over the examples where the unit is active (``h_ij > 0``; an inactive example only says the
    pre-activation is negative), then ``sqrt(2/m) relu(.)``. With ``own_thought=False`` the true ``h_{k+1}`` is
    used (the oracle of a teacher-forced chain). ReLU tasks only.
    """
    if X.dim() != 3 or H.shape[:-1] != X.shape[:-1] or y.shape != X.shape[:-1]:
        raise ValueError(f"X, H, y must be (B, n, d), (B, n, m), (B, n), got {tuple(X.shape)}, {tuple(H.shape)}, "
                         f"{tuple(y.shape)}")
    X, H, y = X.double(), H.double(), y.double()
    m = H.shape[-1]
    scale = math.sqrt(2.0 / m) if act_scale is None else act_scale
    H_query = H
    if own_thought:
        active = (H > 0).double().transpose(-1, -2).unsqueeze(-1)                 # (B, m, n, 1)
        Xa = X.unsqueeze(-3) * active                                             # (B, m, n, d)
        target = (H / scale).transpose(-1, -2)                                    # (B, m, n)
        pre = torch.zeros_like(target)
        for k in range(1, X.shape[-2]):
            u = torch.linalg.pinv(Xa[..., :k, :]) @ target[..., :k, None]         # (B, m, d, 1)
            pre[..., k] = (X[:, None, k, None, :] @ u)[..., 0, 0]
        H_query = scale * torch.relu(pre).transpose(-1, -2)                       # (B, n, m)
    out = torch.zeros_like(y)
    for k in range(1, X.shape[-2]):
        beta = torch.linalg.pinv(H[..., :k, :]) @ y[..., :k, None]
        out[..., k] = (H_query[..., k, None, :] @ beta)[..., 0, 0]
    return out


def least_squares_xy(X: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Plain ICL by least squares on (x, y) alone (a linear rule: its risk cannot go below
    :func:`linear_floor`): X (B, n, d), y (B, n) -> predictions (B, n)."""
    return LeastSquares().predict(X.double(), y.double())

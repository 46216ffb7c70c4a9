"""One-layer softmax attention as a token selector (Tarzanagh et al. 2023a, 2023b).

Both papers study a single attention read-out of a sequence X (T x d) with a value head v:

    f(X) = <X v, softmax(X W p)>                      prompt attention, p (or W) trained   (Book eq. 3.1)
    f(X, z) = <X v, softmax(X W z)>,  W or W = K Q^T  query attention (z = x_1: self-attn)  (Book eq. 4.1)

Training W with a fixed prompt p is the query model with ``z_i = p`` for every sequence, so the two classes
cover "p or W trained". Every model follows the book's ensemble convention: ``n_models=E`` independent
parameter copies (leading dimension E) trained as one batch; data carry the same leading dimension.

**Numerics.** Once the softmax saturates (1 - s_max below ~1e-16) the usual softmax backward,
ds/da = s (g - <s, g>), subtracts two numbers equal to machine precision and the gradient direction becomes
rounding noise. :func:`attention_readout` therefore writes the output *relative to the currently selected
token* alpha = argmax_t a_t,

    f = (Xv)_alpha + sum_{t != alpha} s_t ((Xv)_t - (Xv)_alpha),   s_t = exp(a_t - logsumexp(a)),   (Book eq. 3.6)

which is the same function, but whose autograd gradient is a sum of small, accurately computed terms.
``stable=False`` gives the textbook ``(softmax(a) * Xv).sum()`` for comparison.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm

from iclcore import validate
from iclcore.optim import NormalizedGD

LOSSES = ("logistic", "exponential", "correlation")


def attention_readout(scores: torch.Tensor, values: torch.Tensor, stable: bool | torch.Tensor = True) -> torch.Tensor:
    """``sum_t softmax(scores)_t * values_t`` over the last dimension (eq. 3.6 when ``stable``).

    ``stable`` may also be a boolean tensor over the leading (model) dimension, to run stable and naive
    members side by side in one batch.
    """
    if isinstance(stable, torch.Tensor):
        mask = stable.view(-1, *([1] * (scores.dim() - 2)))
        return torch.where(mask, attention_readout(scores, values, True), attention_readout(scores, values, False))
    if not stable:
        return (torch.softmax(scores, dim=-1) * values).sum(-1)
    alpha = scores.detach().argmax(dim=-1, keepdim=True)
    log_s = scores - torch.logsumexp(scores, dim=-1, keepdim=True)
    v_alpha = values.gather(-1, alpha)
    return v_alpha.squeeze(-1) + (log_s.exp() * (values - v_alpha)).sum(-1)


def classification_loss(pred: torch.Tensor, Y: torch.Tensor, loss: str | list[str] = "logistic") -> torch.Tensor:
    """Mean over sequences of l(Y_i f_i) for each model: pred, Y (E, n) -> (E,).

    ``logistic``: log(1 + e^{-u}); ``exponential``: e^{-u}; ``correlation``: -u (all strictly decreasing).
    A list of E names gives each model its own loss (to compare losses in one batched run).
    """
    if not isinstance(loss, str):
        if len(loss) != pred.shape[0]:
            raise ValueError(f"a list of losses needs one name per model ({pred.shape[0]}), got {len(loss)}")
        per_loss = {name: classification_loss(pred, Y, name) for name in set(loss)}
        return torch.stack([per_loss[name][e] for e, name in enumerate(loss)])
    u = Y * pred
    if loss == "logistic":
        return F.softplus(-u).mean(-1)
    if loss == "exponential":
        return torch.exp(-u).mean(-1)
    if loss == "correlation":
        return (-u).mean(-1)
    raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")


def _stable_flag(stable, E: int) -> bool | torch.Tensor:
    if isinstance(stable, bool):
        return stable
    flags = torch.as_tensor(list(stable), dtype=torch.bool)
    if flags.shape != (E,):
        raise ValueError(f"stable must be a bool or {E} bools (one per model), got {len(flags)}")
    return flags


def _init(shape, init_scale, g, dtype):
    return nn.Parameter(init_scale * torch.randn(*shape, generator=g, dtype=dtype))


class PromptAttention(nn.Module):
    """``f(X) = <X v, softmax(X W p)>`` with a trained prompt p (eq. 3.1).

    Parameters
    ----------
    d : token dimension.
    n_models : number E of independent models (leading dimension of p).
    W : fixed key matrix, shape (d, d) or (E, d, d); ``None`` is the identity (keys = tokens).
    train_v : also train the value head v (the joint (v, p) problem); otherwise v is passed to forward.
    init_scale, seed : p (and v) start at N(0, init_scale^2), drawn from ``seed``.
    stable : use the argmax-relative read-out (eq. 3.6); ``False`` is the naive softmax; a sequence of E
        booleans chooses per member (stable and naive runs in one batch).
    dtype : float64 by default: the softmax saturates in these experiments.

    ``forward(X, v=None)``: X (E, n, T, d) -> f (E, n).
    """

    def __init__(self, d: int, n_models: int = 1, W=None, train_v: bool = False, init_scale: float = 0.01,
                 seed: int = 0, stable: bool | list[bool] = True, dtype: torch.dtype = torch.float64):
        super().__init__()
        self.d = validate.positive_int("d", d)
        self.n_models = E = validate.positive_int("n_models", n_models)
        validate.positive("init_scale", init_scale)
        g = torch.Generator().manual_seed(seed)
        self.stable = _stable_flag(stable, E)
        self.p = _init((E, d), init_scale, g, dtype)
        self.v = _init((E, d), init_scale, g, dtype) if train_v else None
        W = torch.eye(d, dtype=dtype) if W is None else torch.as_tensor(W, dtype=dtype)
        if W.shape not in ((d, d), (E, d, d)):
            raise ValueError(f"W must have shape ({d}, {d}) or ({E}, {d}, {d}), got {tuple(W.shape)}")
        self.register_buffer("W", W.expand(E, d, d).clone())

    def _check(self, X: torch.Tensor) -> None:
        if X.dim() != 4 or X.shape[0] not in (1, self.n_models) or X.shape[-1] != self.d:
            raise ValueError(f"X must have shape ({self.n_models}, n, T, {self.d}), got {tuple(X.shape)}")

    def keys(self, X: torch.Tensor) -> torch.Tensor:
        """Keys ``X W``, shape (E, n, T, d)."""
        return torch.einsum("entd,edk->entk", X, self.W)

    def scores(self, X: torch.Tensor) -> torch.Tensor:
        """Attention scores ``X W p``, shape (E, n, T)."""
        self._check(X)
        return torch.einsum("entk,ek->ent", self.keys(X), self.p)

    def attention(self, X: torch.Tensor) -> torch.Tensor:
        """The attention map softmax(X W p), shape (E, n, T)."""
        return torch.softmax(self.scores(X), dim=-1)

    def forward(self, X: torch.Tensor, v: torch.Tensor | None = None) -> torch.Tensor:
        head = self.v if self.v is not None else v
        if head is None:
            raise ValueError("pass the value head v (E, d) or build the model with train_v=True")
        values = torch.einsum("entd,ed->ent", X, head.expand(self.n_models, self.d))
        return attention_readout(self.scores(X), values, self.stable)

    def direction_parameter(self) -> torch.Tensor:
        """The parameter whose direction converges to the att-SVM: p, shape (E, d)."""
        return self.p.detach().clone()


class SoftmaxAttention1L(nn.Module):
    """``f(X, z) = <X v, softmax(X W z)>`` with ``W`` trained directly or as ``W = K Q^T`` (eq. 4.1).

    Parameters
    ----------
    d : token dimension.
    param : ``"W"`` (train the d x d matrix) or ``"KQ"`` (train K, Q of shape d x m).
    m : inner width of K, Q (default d; m < d forces rank(W) <= m).
    n_models, init_scale, seed, stable, dtype : as in :class:`PromptAttention` (init N(0, init_scale^2);
        not zero: the factorised model has a saddle at K = Q = 0).

    ``forward(X, z, v)``: X (E, n, T, d), queries z (E, n, d), head v (E, d) -> f (E, n).
    """

    def __init__(self, d: int, param: str = "W", m: int | None = None, n_models: int = 1,
                 init_scale: float = 0.01, seed: int = 0, stable: bool | list[bool] = True,
                 dtype: torch.dtype = torch.float64):
        super().__init__()
        self.d = validate.positive_int("d", d)
        self.n_models = E = validate.positive_int("n_models", n_models)
        if param not in ("W", "KQ"):
            raise ValueError(f"param must be 'W' or 'KQ', got {param!r}")
        validate.positive("init_scale", init_scale)
        g = torch.Generator().manual_seed(seed)
        self.param = param
        if param == "W":
            self.W_ = _init((E, d, d), init_scale, g, dtype)
        else:
            m = d if m is None else validate.int_in_range("m", m, 1, d)
            self.K = _init((E, d, m), init_scale, g, dtype)
            self.Q = _init((E, d, m), init_scale, g, dtype)
        self.stable = _stable_flag(stable, E)

    def weight(self) -> torch.Tensor:
        """The bilinear score matrix W (= K Q^T for the factorised model), shape (E, d, d)."""
        return self.W_ if self.param == "W" else self.K @ self.Q.transpose(-1, -2)

    def scores(self, X: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """Scores ``x_t^T W z``, shape (E, n, T)."""
        if X.dim() != 4 or X.shape[-1] != self.d or z.shape != X.shape[:2] + (self.d,):
            raise ValueError(f"X must be (E, n, T, {self.d}) and z (E, n, {self.d}), got {tuple(X.shape)}, "
                             f"{tuple(z.shape)}")
        return torch.einsum("entd,edk,enk->ent", X, self.weight(), z)

    def attention(self, X: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """The attention map softmax(X W z), shape (E, n, T)."""
        return torch.softmax(self.scores(X, z), dim=-1)

    def forward(self, X: torch.Tensor, z: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        values = torch.einsum("entd,ed->ent", X, v)
        return attention_readout(self.scores(X, z), values, self.stable)

    def direction_parameter(self) -> torch.Tensor:
        """The matrix whose direction converges to the att-SVM: W (or K Q^T), shape (E, d, d)."""
        return self.weight().detach().clone()


@dataclass
class TrainResult:
    """What :func:`train_token_selection` records.

    ``steps`` (R,) are the recorded iterations; ``params`` (R, E, ...) the direction parameter (p or W)
    at those iterations; ``values`` (R, E, d) the value head when it is trained (else ``None``);
    ``loss`` (steps, E) the per-model training loss at every step.
    """

    steps: np.ndarray
    params: np.ndarray
    values: np.ndarray | None
    loss: np.ndarray


def rescaled_surrogate(model: nn.Module, data, loss: str | list[str] = "logistic") -> torch.Tensor:
    """A per-model surrogate whose gradient is ``exp(-m_e) * grad L_e`` (same direction), shape (E,).

    With v fixed, ``grad f_i = sum_{t != alpha} (c_t - c_alpha) s_t grad(log s_t)`` with c = X v; every term
    carries a factor s_t that underflows to exactly 0 once the score gaps pass ~745 (float64), which
    happens within ~1000 steps for the factorised model (its norm grows quadratically). Dividing all s_t of
    model e by ``exp(m_e)``, m_e = max_{i, t != alpha} log s_it, *before* exponentiating keeps the largest
    term at 1. Normalised GD only uses the direction, so the step is unchanged where the plain gradient is
    representable and still defined where it has underflowed.
    """
    if getattr(model, "v", None) is not None:
        raise ValueError("the rescaled surrogate needs a fixed value head (train_v=False)")
    if isinstance(model, SoftmaxAttention1L):
        scores = model.scores(data.X, data.z)
    else:
        scores = model.scores(data.X)
    values = torch.einsum("entd,ed->ent", data.X, data.v)
    with torch.enable_grad():                       # dL_e/df_i at the current point
        f = attention_readout(scores.detach(), values).requires_grad_(True)
        (dL_df,) = torch.autograd.grad(classification_loss(f, data.Y, loss).sum(), f)
    alpha = scores.detach().argmax(dim=-1, keepdim=True)
    log_s = scores - torch.logsumexp(scores, dim=-1, keepdim=True)
    log_s = log_s.scatter(-1, alpha, float("-inf"))                 # drop t = alpha
    m = log_s.detach().flatten(1).max(dim=1).values.view(-1, 1, 1)
    s_hat = torch.exp(log_s - m)
    f_hat = (s_hat * (values - values.gather(-1, alpha))).sum(-1)   # e^{-m} (f - c_alpha)
    return (dL_df * f_hat).sum(-1)


def _predict(model: nn.Module, data) -> torch.Tensor:
    if isinstance(model, SoftmaxAttention1L):
        return model(data.X, data.z, data.v)
    return model(data.X, None if model.v is not None else data.v)


def train_token_selection(model: nn.Module, data, steps: int, lr: float = 0.1, loss: str | list[str] = "logistic",
                          record: list[int] | np.ndarray | None = None, max_norm: float | None = None,
                          progress: bool = False, desc: str = "normalised GD", rescale: bool = False) -> TrainResult:
    """Train all E models on their own instance of ``data`` with normalised GD (eq. 3.5), full batch.

    The objective is the sum over models of each model's mean loss, and the step is normalised per model
    and per parameter block, so this is exactly E independent runs done in one batched pass.
    ``record`` lists iterations (0 = initialisation) at which the direction parameter is stored (default:
    only the last). ``max_norm`` projects onto ``||block|| <= max_norm`` (regularisation path).
    ``rescale`` steps along :func:`rescaled_surrogate` (same direction, immune to exp underflow; fixed v only).
    """
    validate.positive_int("steps", steps)
    record = np.array([steps] if record is None else sorted(set(int(r) for r in record)))
    if record.min() < 0 or record.max() > steps:
        raise ValueError(f"record must hold iterations in [0, {steps}], got {record.tolist()}")
    if getattr(model, "n_models", None) != data.X.shape[0]:
        raise ValueError(f"model has {getattr(model, 'n_models', None)} members but data has "
                         f"{data.X.shape[0]} instances")
    opt = NormalizedGD([p for p in model.parameters() if p.requires_grad], lr=lr, max_norm=max_norm)
    params, values, losses = [], [], []

    def snapshot():
        params.append(model.direction_parameter().cpu().numpy())
        if getattr(model, "v", None) is not None and isinstance(model.v, nn.Parameter):
            values.append(model.v.detach().cpu().numpy().copy())

    if 0 in record:
        snapshot()
    for step in tqdm(range(1, steps + 1), desc=desc, disable=not progress, mininterval=0.5):
        per_model = classification_loss(_predict(model, data), data.Y, loss)
        opt.zero_grad(set_to_none=True)
        (rescaled_surrogate(model, data, loss) if rescale else per_model).sum().backward()
        opt.step()
        losses.append(per_model.detach())
        if step in record:
            snapshot()
    return TrainResult(record, np.stack(params), np.stack(values) if values else None,
                       torch.stack(losses).cpu().numpy())


def selected_tokens(model: nn.Module, data) -> torch.Tensor:
    """The token each model attends to most, ``argmax_t`` of its attention map, shape (E, n)."""
    with torch.no_grad():
        if isinstance(model, SoftmaxAttention1L):
            return model.scores(data.X, data.z).argmax(-1)
        return model.scores(data.X).argmax(-1)


def _single_parameter(model: nn.Module) -> nn.Parameter:
    params = [p for p in model.parameters() if p.requires_grad]
    if len(params) != 1:
        raise ValueError("regularization_path needs a model with one trained tensor (p, or W with param='W')")
    return params[0]


def regularization_path(make_model, data, radii, steps: int = 500, restarts: int = 8, lr: float = 0.1,
                        seed: int = 0, loss: str = "logistic", progress: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """The regularisation path ``p_R = argmin_{||p|| <= R} L(p)`` for each radius R (Tarzanagh et al. 2023a).

    The ball problem is non-convex, so for every instance and radius we run projected normalised GD
    (eq. 3.5 with ``max_norm=R``) from ``restarts`` starts -- the best solution of the previous radius (warm
    start) and ``restarts - 1`` random points on the sphere of radius R -- and keep the one with the lowest
    loss. ``make_model(n_models, seed)`` builds a model with a single trained tensor (``PromptAttention`` or
    ``SoftmaxAttention1L(param="W")``). Returns the path (len(radii), E, ...) and its losses (len(radii), E).
    """
    from iclcore.tasks.token_selection import repeat_instances

    K = validate.positive_int("restarts", restarts)
    radii = [validate.positive("radius", R) for R in radii]
    E = data.X.shape[0]
    big = repeat_instances(data, K)                       # member e*K + k is restart k of instance e
    model = make_model(E * K, seed)
    theta = _single_parameter(model)
    g = torch.Generator().manual_seed(seed + 1)
    best = None
    path, path_loss = [], []
    for R in tqdm(radii, desc="regularisation path", disable=not progress):
        with torch.no_grad():
            start = torch.randn(theta.shape, generator=g, dtype=theta.dtype)
            start *= R / start.flatten(1).norm(dim=1).view(-1, *([1] * (theta.dim() - 1)))
            if best is not None:
                start.view(E, K, *theta.shape[1:])[:, 0] = best
            theta.copy_(start)
        train_token_selection(model, big, steps, lr=lr, loss=loss, max_norm=R)
        with torch.no_grad():
            final = classification_loss(_predict(model, big), big.Y, loss).view(E, K)
            k_best = final.argmin(dim=1)
            best = theta.detach().view(E, K, *theta.shape[1:])[torch.arange(E), k_best].clone()
        path.append(best.cpu().numpy())
        path_loss.append(final[torch.arange(E), k_best].cpu().numpy())
    return np.stack(path), np.stack(path_loss)

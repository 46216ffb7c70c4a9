"""One-layer softmax attention as a token selector (Tarzanagh et al. 2023a, 2023b).

Both papers study a single attention read-out of a sequence X (T x d) with a value head v:

* :class:`PromptAttention`, ``f(X) = <X v, softmax(X W p)>`` with a trained prompt p ({eq}`eq-ch3-model`);
* :class:`SoftmaxAttention1L`, ``f(X, z) = <X v, softmax(X W z)>`` with a query token z and the key-query
  matrix W trained directly or as ``W = K Q^T`` ({eq}`eq-ch4-model`).

Training W with a fixed prompt p is the query model with ``z_i = p`` for every sequence, so the two classes
cover "p or W trained". Both follow the book's ensemble convention: ``n_members=E`` independent parameter
copies (leading dimension E), trained as one batch on data with the same leading dimension.

**Numerics.** Once the softmax saturates (1 - s_max below ~1e-16) the usual softmax backward,
ds/da = s (g - <s, g>), subtracts two numbers equal to machine precision and the gradient direction becomes
rounding noise. :func:`attention_readout` therefore writes the output *relative to the currently selected
token* alpha = argmax_t a_t ({eq}`eq-ch3-stable`),

    f = (Xv)_alpha + sum_{t != alpha} s_t ((Xv)_t - (Xv)_alpha),   s_t = exp(a_t - logsumexp(a)),

which is the same function, but whose autograd gradient is a sum of small, accurately computed terms.
``stable=False`` gives the textbook ``(softmax(a) * Xv).sum()`` for comparison.
"""

from __future__ import annotations

import torch
from torch import nn

from iclcore import validate


def attention_readout(scores: torch.Tensor, values: torch.Tensor, stable: bool = True) -> torch.Tensor:
    """``sum_t softmax(scores)_t * values_t`` over the token dimension ({eq}`eq-ch3-stable` when ``stable``).

    ``scores`` (..., T); ``values`` (..., T) (scalar values -> (...)) or (..., T, k) (vector values, e.g. the
    tokens themselves -> the attention-weighted token (..., k)).
    """
    vector = values.dim() == scores.dim() + 1
    if not stable:
        s = torch.softmax(scores, dim=-1)
        return (s[..., None] * values).sum(-2) if vector else (s * values).sum(-1)
    alpha = scores.detach().argmax(dim=-1, keepdim=True)
    log_s = scores - torch.logsumexp(scores, dim=-1, keepdim=True)
    if vector:
        v_alpha = values.gather(-2, alpha[..., None].expand(*alpha.shape, values.shape[-1]))
        return v_alpha.squeeze(-2) + (log_s.exp()[..., None] * (values - v_alpha)).sum(-2)
    v_alpha = values.gather(-1, alpha)
    return v_alpha.squeeze(-1) + (log_s.exp() * (values - v_alpha)).sum(-1)


def _init(shape, init_scale: float, g: torch.Generator, dtype: torch.dtype) -> nn.Parameter:
    return nn.Parameter(init_scale * torch.randn(*shape, generator=g, dtype=dtype))


class PromptAttention(nn.Module):
    """``f(X) = <X v, softmax(X W p)>`` with a trained prompt p ({eq}`eq-ch3-model`).

    Parameters
    ----------
    d : token dimension.
    n_members : number E of independent members (leading dimension of p).
    W : fixed key matrix, shape (d, d) or (E, d, d); ``None`` is the identity (keys = tokens).
    train_v : also train the value head v (the joint (v, p) problem); otherwise v is passed to forward.
    init_scale, seed : p (and v) start at N(0, init_scale^2), drawn from ``seed``.
    stable : use the argmax-relative read-out ({eq}`eq-ch3-stable`); ``False`` is the textbook softmax.
    dtype : float64 by default: the softmax saturates in these experiments.

    ``forward(X, v=None)``: X (E, n, T, d), v (E, d) -> f (E, n).
    """

    def __init__(self, d: int, n_members: int = 1, W=None, train_v: bool = False, init_scale: float = 0.01,
                 seed: int = 0, stable: bool = True, dtype: torch.dtype = torch.float64):
        super().__init__()
        self.d = validate.positive_int("d", d)
        self.n_members = E = validate.positive_int("n_members", n_members)
        validate.positive("init_scale", init_scale)
        if not isinstance(stable, bool):
            raise ValueError(f"stable must be a bool, got {stable!r}")
        g = torch.Generator().manual_seed(seed)
        self.stable = stable
        self.p = _init((E, d), init_scale, g, dtype)
        self.v = _init((E, d), init_scale, g, dtype) if train_v else None
        W = torch.eye(d, dtype=dtype) if W is None else torch.as_tensor(W, dtype=dtype)
        if W.shape not in ((d, d), (E, d, d)):
            raise ValueError(f"W must have shape ({d}, {d}) or ({E}, {d}, {d}), got {tuple(W.shape)}")
        self.register_buffer("W", W.expand(E, d, d).clone())

    def _check(self, X: torch.Tensor) -> None:
        if X.dim() != 4 or X.shape[0] not in (1, self.n_members) or X.shape[-1] != self.d:
            raise ValueError(f"X must have shape ({self.n_members}, n, T, {self.d}), got {tuple(X.shape)}")

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

    @torch.no_grad()
    def selected_tokens(self, X: torch.Tensor) -> torch.Tensor:
        """The token each member attends to most, ``alpha_i = argmax_t (X W p)_{it}``, shape (E, n)."""
        return self.scores(X).argmax(-1)

    def forward(self, X: torch.Tensor, v: torch.Tensor | None = None) -> torch.Tensor:
        head = self.v if self.v is not None else v
        if head is None:
            raise ValueError("v: pass the value head v (E, d) or build the model with train_v=True")
        values = torch.einsum("entd,ed->ent", X, head.expand(self.n_members, self.d))
        return attention_readout(self.scores(X), values, self.stable)


class SoftmaxAttention1L(nn.Module):
    """``f(X, z) = <X v, softmax(X W z)>`` with ``W`` trained directly or as ``W = K Q^T`` ({eq}`eq-ch4-model`).

    Parameters
    ----------
    d : token dimension.
    param : ``"W"`` (train the d x d matrix) or ``"KQ"`` (train K, Q of shape d x m).
    m : inner width of K, Q (default d; m < d forces rank(W) <= m).
    head : ``"linear"`` (the value head v of {eq}`eq-ch4-model`) or ``"relu"``: the nonlinear head
        ``f = 1^T ReLU(V^T X^T softmax(X W z))`` of {eq}`eq-ch4-relu-head`, with a value matrix V.
    n_members, init_scale, seed, stable, dtype : as in :class:`PromptAttention` (init N(0, init_scale^2);
        not zero: the factorised model has a saddle at K = Q = 0).

    ``forward(X, z, v)``: X (E, n, T, d), queries z (E, n, d), value head v (E, d) -- or, for ``head="relu"``,
    the value matrix V (E, d, h) -- -> f (E, n).
    """

    def __init__(self, d: int, param: str = "W", m: int | None = None, n_members: int = 1,
                 init_scale: float = 0.01, seed: int = 0, stable: bool = True, head: str = "linear",
                 dtype: torch.dtype = torch.float64):
        super().__init__()
        self.d = validate.positive_int("d", d)
        self.n_members = E = validate.positive_int("n_members", n_members)
        if param not in ("W", "KQ"):
            raise ValueError(f"param must be 'W' or 'KQ', got {param!r}")
        if head not in ("linear", "relu"):
            raise ValueError(f"head must be 'linear' or 'relu', got {head!r}")
        self.head = head
        validate.positive("init_scale", init_scale)
        if not isinstance(stable, bool):
            raise ValueError(f"stable must be a bool, got {stable!r}")
        g = torch.Generator().manual_seed(seed)
        self.param = param
        if param == "W":
            self.W_ = _init((E, d, d), init_scale, g, dtype)
        else:
            m = d if m is None else validate.int_in_range("m", m, 1, d)
            self.K = _init((E, d, m), init_scale, g, dtype)
            self.Q = _init((E, d, m), init_scale, g, dtype)
        self.stable = stable

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

    @torch.no_grad()
    def selected_tokens(self, X: torch.Tensor, z: torch.Tensor) -> torch.Tensor:
        """The token each member attends to most, ``alpha_i = argmax_t x_{it}^T W z_i``, shape (E, n)."""
        return self.scores(X, z).argmax(-1)

    def forward(self, X: torch.Tensor, z: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        if self.head == "relu":
            u = attention_readout(self.scores(X, z), X, self.stable)          # attended token, (E, n, d)
            return torch.relu(torch.einsum("end,edh->enh", u, v)).sum(-1)
        values = torch.einsum("entd,ed->ent", X, v)
        return attention_readout(self.scores(X, z), values, self.stable)

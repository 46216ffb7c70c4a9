"""In-context autoregressive sequences ``s_{t+1} = W s_t`` with a fresh ``W`` per sequence (Sander et al. 2024).

Every sequence draws its own context matrix ``W`` and start ``s_0``, then rolls out
``s_{t+1} = W s_t + noise * eps_t`` ({eq}`eq-ch7-ar`). To predict the next state a model must infer ``W`` from
the sequence itself: in-context autoregressive learning. The families of ``W``:

``"commuting"``  (d even) rotations by i.i.d. angles ``theta_j`` in a shared basis,
                 ``W = blockdiag(R(theta_1), ..., R(theta_{d/2}))``: all such W commute;
``"orthogonal"`` Haar-random orthogonal d x d matrices (they do not commute);
``"unitary"``    complex diagonal ``W = diag(exp(i theta_j))``, j = 1..d (complex states).

Angles are uniform on ``[angle_center - pi*angle_spread, angle_center + pi*angle_spread]``:
``angle_spread=1`` is the uniform law on the circle, a small spread concentrates W around one rotation.

Two token formats ({eq}`eq-ch7-tokens`):

``"augmented"``  ``e_t = (0, s_t, s_{t-1})`` in R^{3d}, t = 1..T; position t predicts ``s_{t+1}``.
``"masked"``     the same width with the ``s_{t-1}`` slot zeroed: ``e_t = (0, s_t, 0)`` (augmentation removed).
``"plain"``      the states themselves, ``s_0, ..., s_{T-1}`` (width d); position t = 1..T-1 predicts ``s_{t+1}``.

Targets carry one extra channel, the **loss weight** of each position: ``targets[..., :d]`` is the next state,
``targets[..., d]`` is 1 for the positions that count (``t <= horizon``) and 0 otherwise. One sampler length
thus serves members trained on different horizons, and :func:`sequence_risk` is the metric that reads it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np
import torch

from iclcore import validate

FAMILIES = ("commuting", "orthogonal", "unitary")
TOKENS = ("augmented", "masked", "plain")
STARTS = ("random_phase", "fixed")


def check_angles(angle_spread: float, angle_center: float) -> tuple[float, float]:
    """Validate the angle law: ``angle_spread`` in (0, 1], ``angle_center`` finite."""
    spread = validate.in_interval("angle_spread", angle_spread, 0.0, 1.0)
    if spread == 0.0:
        raise ValueError("angle_spread must be in (0, 1], got 0.0")
    if not np.isfinite(angle_center):
        raise ValueError(f"angle_center must be a finite angle, got {angle_center!r}")
    return spread, float(angle_center)


def check_block_norms(block_norms, d: int) -> np.ndarray:
    """Block norms ``r_j`` of the start (one per 2-D rotation block, d/2 of them); default equal with
    ``||s_0|| = 1``. Returned as float64 normalised so that ``sum r_j^2 = 1``."""
    m = d // 2
    if block_norms is None:
        return np.full(m, 1 / math.sqrt(m))
    r = np.asarray(block_norms, dtype=np.float64)
    if r.shape != (m,):
        raise ValueError(f"block_norms must hold d/2 = {m} norms, got shape {r.shape}")
    if not np.all(np.isfinite(r)) or r.min() <= 0:
        raise ValueError(f"block_norms must be finite and > 0, got {r.tolist()}")
    return r / np.sqrt((r**2).sum())


def sample_angles(n_angles: int, batch_size: int, generator: torch.Generator, angle_spread: float = 1.0,
                  angle_center: float = 0.0, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """I.i.d. angles ``theta`` of shape (B, n_angles), uniform on ``center ± pi * spread``."""
    validate.positive_int("n_angles", n_angles)
    validate.positive_int("batch_size", batch_size)
    spread, center = check_angles(angle_spread, angle_center)
    u = torch.rand(batch_size, n_angles, generator=generator, dtype=torch.float64)
    return (center + math.pi * spread * (2 * u - 1)).to(dtype)


def block_rotation(theta: torch.Tensor) -> torch.Tensor:
    """``W = blockdiag(R(theta_1), ..., R(theta_m))``, shape (B, 2m, 2m), from angles (B, m)."""
    if theta.dim() != 2:
        raise ValueError(f"theta must have shape (B, m), got {tuple(theta.shape)}")
    B, m = theta.shape
    c, s = torch.cos(theta), torch.sin(theta)
    W = theta.new_zeros(B, m, 2, m, 2)
    idx = torch.arange(m)
    W[:, idx, 0, idx, 0], W[:, idx, 0, idx, 1] = c, -s
    W[:, idx, 1, idx, 0], W[:, idx, 1, idx, 1] = s, c
    return W.reshape(B, 2 * m, 2 * m)


def haar_orthogonal(d: int, batch_size: int, generator: torch.Generator,
                    dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """Haar-random orthogonal matrices (B, d, d) (QR of a Gaussian matrix with the sign fix)."""
    validate.positive_int("d", d)
    validate.positive_int("batch_size", batch_size)
    G = torch.randn(batch_size, d, d, generator=generator, dtype=torch.float64)
    Q, R = torch.linalg.qr(G)
    signs = torch.sign(torch.diagonal(R, dim1=-2, dim2=-1))
    signs[signs == 0] = 1
    return (Q * signs[:, None, :]).to(dtype)


def roll_out(W: torch.Tensor, s0: torch.Tensor, n_steps: int, noise: float = 0.0,
             generator: torch.Generator | None = None) -> torch.Tensor:
    """States ``s_0, ..., s_{n_steps}`` of ``s_{t+1} = W s_t + noise * eps_t`` ({eq}`eq-ch7-ar`), shape
    (B, n_steps + 1, d). ``W`` (B, d, d) real or complex (then ``eps`` is standard complex Gaussian)."""
    validate.positive_int("n_steps", n_steps)
    validate.nonnegative("noise", noise)
    if W.dim() != 3 or W.shape[-1] != W.shape[-2] or s0.shape != W.shape[:2]:
        raise ValueError(f"W must have shape (B, d, d) and s0 (B, d), got {tuple(W.shape)} and {tuple(s0.shape)}")
    if noise > 0 and generator is None:
        raise ValueError("generator must be given when noise > 0")
    states = [s0]
    s = s0
    for _ in range(n_steps):
        s = torch.einsum("bij,bj->bi", W, s)
        if noise > 0:
            eps = torch.randn(s.shape, generator=generator, dtype=torch.float64)
            if s.is_complex():
                eps = torch.complex(eps, torch.randn(s.shape, generator=generator, dtype=torch.float64)) / math.sqrt(2)
            s = s + noise * eps.to(s.dtype)
        states.append(s)
    return torch.stack(states, dim=1)


def augment(states: torch.Tensor, previous: bool = True) -> torch.Tensor:
    """Augmented tokens ``e_t = (0, s_t, s_{t-1})`` for t = 1..n from states ``s_0..s_n`` (B, n+1, d):
    shape (B, n, 3d) ({eq}`eq-ch7-tokens`). ``previous=False`` zeroes the ``s_{t-1}`` slot."""
    if states.dim() != 3 or states.shape[1] < 2:
        raise ValueError(f"states must have shape (B, n+1, d) with n >= 1, got {tuple(states.shape)}")
    cur, prev = states[:, 1:], states[:, :-1]
    return torch.cat([torch.zeros_like(cur), cur, prev if previous else torch.zeros_like(prev)], dim=-1)


class RotationSequences:
    """Sampler of in-context autoregressive sequences; ``task(batch_size, generator) -> (tokens, targets)``.

    Parameters
    ----------
    d : state dimension (even for ``family="commuting"``: d/2 rotation blocks; complex dimension for "unitary").
    T : number of tokens (T >= 2). Augmented/masked tokens: positions t = 1..T, targets ``s_2..s_{T+1}``;
        plain tokens ``s_0..s_{T-1}``: positions t = 1..T-1, targets ``s_2..s_T``.
    tokens : "augmented", "masked" or "plain" (see the module docstring).
    family : "commuting", "orthogonal" or "unitary".
    start : "random_phase" (each block ``r_j (cos phi_j, sin phi_j)`` with uniform phases; for "orthogonal" a
        uniform unit vector) or "fixed" (the official code's ``s_0 = 1/sqrt(d)``; for "unitary" all ones).
        "unitary" states have modulus-one coordinates (``|s_{0,k}| = 1``).
    block_norms : norms ``r_j`` of the d/2 blocks of ``s_0`` (rescaled to ``||s_0|| = 1``); default equal.
    angle_spread, angle_center : the angle law (see the module docstring).
    noise : standard deviation of the innovation ``eps_t`` in {eq}`eq-ch7-ar` (>= 0).
    horizon : positions ``t <= horizon`` get loss weight 1, later ones 0 (default: all).
    dtype : dtype of the returned tensors (for "unitary" a real dtype is promoted to the complex one of the
        same precision; a complex dtype for real families lets them be stacked with unitary members).

    Returns ``tokens`` (B, T, 3d) [augmented, masked] or (B, T, d) [plain] and ``targets``
    (B, T, d+1) [augmented, masked] or (B, T-1, d+1) [plain]: next state, then loss weight.
    """

    def __init__(self, d: int, T: int, tokens: str = "augmented", family: str = "commuting",
                 start: str = "random_phase", block_norms: Sequence[float] | None = None,
                 angle_spread: float = 1.0, angle_center: float = 0.0, noise: float = 0.0,
                 horizon: int | None = None, dtype: torch.dtype = torch.float32):
        self.d = validate.positive_int("d", d)
        self.T = validate.positive_int("T", T)
        if T < 2:
            raise ValueError(f"T must be >= 2 (a sequence needs a context and a next state), got {T}")
        if tokens not in TOKENS:
            raise ValueError(f"tokens must be one of {TOKENS}, got {tokens!r}")
        if family not in FAMILIES:
            raise ValueError(f"family must be one of {FAMILIES}, got {family!r}")
        if start not in STARTS:
            raise ValueError(f"start must be one of {STARTS}, got {start!r}")
        if family == "commuting" and d % 2:
            raise ValueError(f"d must be even for family='commuting' (2-D rotation blocks), got {d}")
        if family == "unitary" and tokens != "plain":
            raise ValueError("tokens must be 'plain' for family='unitary' (complex states)")
        if block_norms is not None and family != "commuting":
            raise ValueError("block_norms applies to family='commuting' only")
        self.tokens, self.family, self.start = tokens, family, start
        self.block_norms = check_block_norms(block_norms, d) if family == "commuting" else None
        self.angle_spread, self.angle_center = check_angles(angle_spread, angle_center)
        self.noise = validate.nonnegative("noise", noise)
        n_pos = T if tokens != "plain" else T - 1
        self.horizon = n_pos if horizon is None else validate.int_in_range("horizon", horizon, 1, n_pos)
        self.n_positions = n_pos
        self.dtype = dtype

    @property
    def token_dim(self) -> int:
        """Width of a token: 3d (augmented, masked) or d (plain)."""
        return self.d if self.tokens == "plain" else 3 * self.d

    def context_matrices(self, batch_size: int, generator: torch.Generator) -> torch.Tensor:
        """A batch of context matrices W (B, d, d) of the sampler's family (complex for "unitary")."""
        d = self.d
        if self.family == "orthogonal":
            return haar_orthogonal(d, batch_size, generator, torch.float64)
        n_angles = d if self.family == "unitary" else d // 2
        theta = sample_angles(n_angles, batch_size, generator, self.angle_spread, self.angle_center,
                              torch.float64)
        if self.family == "unitary":
            return torch.diag_embed(torch.polar(torch.ones_like(theta), theta))
        return block_rotation(theta)

    def starts(self, batch_size: int, generator: torch.Generator) -> torch.Tensor:
        """A batch of starts s_0 (B, d)."""
        d, B = self.d, batch_size
        if self.family == "unitary":
            if self.start == "fixed":
                return torch.ones(B, d, dtype=torch.complex128)
            phi = 2 * math.pi * torch.rand(B, d, generator=generator, dtype=torch.float64)
            return torch.polar(torch.ones_like(phi), phi)
        if self.start == "fixed":
            if self.family == "commuting":
                r = torch.from_numpy(self.block_norms).repeat_interleave(2) / math.sqrt(2)
                return r.expand(B, d).clone()
            return torch.full((B, d), 1 / math.sqrt(d), dtype=torch.float64)
        if self.family == "orthogonal":
            g = torch.randn(B, d, generator=generator, dtype=torch.float64)
            return g / g.norm(dim=-1, keepdim=True)
        phi = 2 * math.pi * torch.rand(B, d // 2, generator=generator, dtype=torch.float64)
        r = torch.from_numpy(self.block_norms)
        return torch.stack([r * torch.cos(phi), r * torch.sin(phi)], dim=-1).reshape(B, d)

    def states(self, batch_size: int, generator: torch.Generator) -> torch.Tensor:
        """Whole sequences of states, float64/complex128: ``s_0..s_{T+1}`` (B, T+2, d) for augmented/masked
        tokens, ``s_0..s_T`` (B, T+1, d) for plain tokens."""
        validate.positive_int("batch_size", batch_size)
        n_steps = self.T + (1 if self.tokens != "plain" else 0)
        if self.noise == 0 and self.family != "orthogonal":
            return self._closed_form_states(batch_size, generator, n_steps)
        W = self.context_matrices(batch_size, generator)
        s0 = self.starts(batch_size, generator)
        return roll_out(W, s0, n_steps, self.noise, generator)

    def _closed_form_states(self, batch_size: int, generator: torch.Generator, n_steps: int) -> torch.Tensor:
        """Noiseless rotations in closed form, ``s_t = W^t s_0`` blockwise (same draws as the roll-out)."""
        n_angles = self.d if self.family == "unitary" else self.d // 2
        theta = sample_angles(n_angles, batch_size, generator, self.angle_spread, self.angle_center,
                              torch.float64)
        s0 = self.starts(batch_size, generator)
        t = torch.arange(n_steps + 1, dtype=torch.float64)[None, :, None]
        if self.family == "unitary":
            return s0[:, None, :] * torch.polar(torch.ones_like(t * theta[:, None]), t * theta[:, None])
        blocks = s0.reshape(batch_size, 1, n_angles, 2)
        c, s = torch.cos(t * theta[:, None]), torch.sin(t * theta[:, None])   # (B, n+1, m)
        x, y = blocks[..., 0], blocks[..., 1]
        return torch.stack([c * x - s * y, s * x + c * y], dim=-1).reshape(batch_size, n_steps + 1, self.d)

    def __call__(self, batch_size: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        s = self.states(batch_size, generator)
        if self.tokens == "plain":
            tokens, nxt = s[:, :-1], s[:, 2:]
        else:
            tokens, nxt = augment(s[:, :-1], previous=self.tokens == "augmented"), s[:, 2:]
        weight = (torch.arange(1, self.n_positions + 1) <= self.horizon).to(nxt.dtype)
        targets = torch.cat([nxt, weight.expand(batch_size, -1)[..., None]], dim=-1)
        dtype = self.dtype
        if self.family == "unitary" and not dtype.is_complex:
            dtype = torch.complex128 if dtype == torch.float64 else torch.complex64
        return tokens.to(dtype), targets.to(dtype)


def sequence_risk(pred: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """Risk per member ({eq}`eq-ch7-risk`): the mean over the batch and over the weighted positions of
    ``||s_{t+1} - s_hat_{t+1}||^2`` (summed over coordinates; complex states use ``|.|^2``).

    ``pred`` (E, B, P, d) or (B, P, d); ``targets`` (E, B, P, d+1) or (B, P, d+1), last channel = weight.
    Returns (E,) (or (1,) without a member axis).
    """
    if pred.dim() == 3:
        pred = pred.unsqueeze(0)
    if pred.dim() != 4 or targets.shape[-1] != pred.shape[-1] + 1 or targets.shape[-3:-1] != pred.shape[-3:-1]:
        raise ValueError(f"pred must be (E, B, P, d) and targets (..., B, P, d+1), got {tuple(pred.shape)} and "
                         f"{tuple(targets.shape)}")
    nxt, w = targets[..., :-1], targets[..., -1].real
    err = (pred - nxt).abs().pow(2).sum(-1)                       # (E, B, P)
    return (err * w).sum(-1).mean(-1) / w[..., 0, :].sum(-1).clamp_min(1)


def position_risk(t: int) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """The metric ``E ||s_{t+1} - s_hat_{t+1}||^2`` at position ``t`` alone (t = 1 is the first prediction),
    per member, shape (E,). Use one per position with :func:`iclcore.evaluate.evaluate`."""
    t = validate.positive_int("t", t)

    def metric(pred: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        if pred.dim() == 3:
            pred = pred.unsqueeze(0)
        if t > pred.shape[-2]:
            raise ValueError(f"t must be <= the number of positions {pred.shape[-2]}, got {t}")
        return (pred[..., t - 1, :] - targets[..., t - 1, :-1]).abs().pow(2).sum(-1).mean(-1)

    return metric

"""Complex diagonal autoregressive sequences ``s_{t+1} = W s_t`` with a chosen law of the start (Zheng et al. 2024).

Every sequence draws ``W = diag(exp(i theta_1), ..., exp(i theta_d))`` with i.i.d. angles uniform on the circle
and a start ``s_0 in C^d`` from one of the laws below, then rolls out ``s_t = W^t s_0`` ({eq}`eq-ch11-ar`).
The **law of the start** is the knob of the chapter: it decides whether the trained layer is one gradient step
on the in-context least-squares problem, and whether that step recovers the next state.

``"gaussian"``      real Gaussian coordinates ``s_{0j} ~ N(0, scale^2)`` (imaginary part 0), as in the authors'
                    code; the moduli ``|s_{0j}|`` vary, so the learned step cannot undo them all;
``"sparse"``        one coordinate ``j`` (uniform), set to ``± scale`` (random sign), the others 0: the paper's
                    Example 4.1;
``"unit_modulus"``  every coordinate of modulus ``scale`` with an independent uniform phase;
``"ones"``          the fixed start ``scale * (1, ..., 1)`` for every sequence (the authors' "full-one" start):
                    the same moduli as ``"unit_modulus"`` without its symmetry.

``modulus_spread = w`` in [0, 1) multiplies the modulus of every non-zero coordinate by an independent
``1 + w u``, ``u`` uniform on [-1, 1] (for ``"sparse"`` and ``"unit_modulus"``; 0 leaves the laws above).

Tokens (the book's indexing, as in {eq}`eq-ch7-tokens`): ``e_t = (0, s_t, conj(s_{t-1}))`` in C^{3d}, t = 1..T;
position t predicts ``s_{t+1}``. The previous state enters **conjugated**, so that a linear-attention score
``e_tau^T W_KQ e_t`` that pairs the key's third slot with the query's second slot is the complex inner product
``s_{tau-1}^* A s_t`` of the paper's ``E E^*``. ``tokens="masked"`` zeroes that slot. Targets carry the loss
weight as one extra channel, exactly as :class:`iclcore.tasks.autoregressive.RotationSequences`, so
:func:`iclcore.tasks.autoregressive.sequence_risk` and ``position_risk`` are the metrics.
"""

from __future__ import annotations

import math

import torch

from iclcore import validate
from iclcore.tasks.autoregressive import sample_angles

START_LAWS = ("gaussian", "sparse", "unit_modulus", "ones")
TOKENS = ("augmented", "masked")


def check_start(start: str, scale: float, modulus_spread: float) -> tuple[str, float, float]:
    """Validate a start law: ``start`` in :data:`START_LAWS`, ``scale`` > 0, ``modulus_spread`` in [0, 1)
    (and 0 for the laws without a modulus to spread)."""
    if start not in START_LAWS:
        raise ValueError(f"start must be one of {START_LAWS}, got {start!r}")
    scale = validate.positive("scale", scale)
    spread = validate.in_interval("modulus_spread", modulus_spread, 0.0, 1.0)
    if spread == 1.0:
        raise ValueError("modulus_spread must be in [0, 1) (a modulus 1 + w u must stay > 0), got 1.0")
    if spread > 0 and start not in ("sparse", "unit_modulus"):
        raise ValueError(f"modulus_spread applies to 'sparse' and 'unit_modulus' only, got start={start!r}")
    return start, scale, spread


def sample_start(start: str, d: int, batch_size: int, generator: torch.Generator, scale: float = 1.0,
                 modulus_spread: float = 0.0) -> torch.Tensor:
    """A batch of starts ``s_0`` (B, d), complex128, from one of the laws of the module docstring."""
    d = validate.positive_int("d", d)
    B = validate.positive_int("batch_size", batch_size)
    start, scale, spread = check_start(start, scale, modulus_spread)
    if start == "gaussian":
        g = torch.randn(B, d, generator=generator, dtype=torch.float64)
        return (scale * g).to(torch.complex128)
    if start == "ones":
        return torch.full((B, d), scale, dtype=torch.complex128)
    if start == "sparse":
        j = torch.randint(d, (B,), generator=generator)
        sign = 2.0 * torch.randint(2, (B,), generator=generator).to(torch.float64) - 1.0
        modulus = torch.zeros(B, d, dtype=torch.float64)
        modulus[torch.arange(B), j] = scale * sign
        phase = torch.zeros(B, d, dtype=torch.float64)
    else:                                                            # unit_modulus
        modulus = torch.full((B, d), scale, dtype=torch.float64)
        phase = 2 * math.pi * torch.rand(B, d, generator=generator, dtype=torch.float64)
    if spread > 0:
        u = 2 * torch.rand(B, d, generator=generator, dtype=torch.float64) - 1
        modulus = modulus * (1 + spread * u)
    return torch.polar(modulus.abs(), phase + math.pi * (modulus < 0))


class DiagonalARSequences:
    """Sampler of complex diagonal AR sequences; ``task(batch_size, generator) -> (tokens, targets)``.

    Parameters
    ----------
    d : complex dimension of the state (d >= 1).
    T : number of tokens (T >= 2); positions t = 1..T predict ``s_2..s_{T+1}``.
    start, scale, modulus_spread : the law of ``s_0`` (module docstring).
    tokens : "augmented" ``(0, s_t, conj(s_{t-1}))`` or "masked" ``(0, s_t, 0)``.
    horizon : positions ``t <= horizon`` get loss weight 1, later ones 0 (default: all).
    dtype : a complex dtype for the returned tensors (default complex64).

    Returns ``tokens`` (B, T, 3d) and ``targets`` (B, T, d+1): next state, then loss weight.
    """

    def __init__(self, d: int, T: int, start: str = "gaussian", scale: float = 1.0, modulus_spread: float = 0.0,
                 tokens: str = "augmented", horizon: int | None = None, dtype: torch.dtype = torch.complex64):
        self.d = validate.positive_int("d", d)
        self.T = validate.positive_int("T", T)
        if T < 2:
            raise ValueError(f"T must be >= 2 (a sequence needs a context and a next state), got {T}")
        self.start, self.scale, self.modulus_spread = check_start(start, scale, modulus_spread)
        if tokens not in TOKENS:
            raise ValueError(f"tokens must be one of {TOKENS}, got {tokens!r}")
        if not dtype.is_complex:
            raise ValueError(f"dtype must be a complex dtype, got {dtype}")
        self.tokens, self.dtype = tokens, dtype
        self.horizon = T if horizon is None else validate.int_in_range("horizon", horizon, 1, T)

    def states(self, batch_size: int, generator: torch.Generator) -> torch.Tensor:
        """Whole sequences ``s_0..s_{T+1}``, shape (B, T+2, d), complex128 (``s_t = W^t s_0`` in closed form)."""
        validate.positive_int("batch_size", batch_size)
        theta = sample_angles(self.d, batch_size, generator, dtype=torch.float64)           # (B, d)
        s0 = sample_start(self.start, self.d, batch_size, generator, self.scale, self.modulus_spread)
        t = torch.arange(self.T + 2, dtype=torch.float64)[None, :, None]
        angle = t * theta[:, None, :]
        return s0[:, None, :] * torch.polar(torch.ones_like(angle), angle)

    def __call__(self, batch_size: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        s = self.states(batch_size, generator)
        cur, prev = s[:, 1:-1], s[:, :-2]
        prev = prev.conj() if self.tokens == "augmented" else torch.zeros_like(prev)
        tokens = torch.cat([torch.zeros_like(cur), cur, prev], dim=-1)
        weight = (torch.arange(1, self.T + 1) <= self.horizon).to(s.dtype)
        targets = torch.cat([s[:, 2:], weight.expand(batch_size, -1)[..., None]], dim=-1)
        return tokens.to(self.dtype), targets.to(self.dtype)

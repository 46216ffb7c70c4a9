"""Trajectories of random stable linear dynamical systems (Li, Ildiz, Papailiopoulos & Oymak 2023, Sec. on
dynamical systems).

Every sequence draws its own system matrix ``A`` (d x d) with i.i.d. N(0, 1) entries, rescaled so that its
spectral radius (largest eigenvalue modulus) is ``radius`` < 1, and rolls out

    s_{t+1} = A s_t + noise * w_t,   w_t ~ N(0, I_d),   s_1 ~ N(0, start^2 I_d)     ({eq}`eq-ch12-lds`)

(``start=0`` begins at rest, as the paper's code does). To predict the next state a learner must infer ``A``
from the transitions ``(s_t, s_{t+1})`` it has already seen: in-context learning on dependent data.

The sampler returns the states ``s_1, ..., s_T`` (B, T, d) as inputs and the next states ``s_2, ..., s_{T+1}``
(B, T, d) as targets: position t predicts ``s_{t+1}``. Score it with
:func:`iclcore.tasks.regression_prompts.prefix_risk` (errors summed over the d coordinates).
"""

from __future__ import annotations

import torch

from iclcore import validate


def stable_matrices(batch_size: int, d: int, radius: float, generator: torch.Generator,
                    dtype: torch.dtype = torch.float32) -> torch.Tensor:
    """``A`` (B, d, d): i.i.d. N(0, 1) entries rescaled to spectral radius ``radius`` (in (0, 1))."""
    validate.positive_int("batch_size", batch_size)
    validate.positive_int("d", d)
    validate.in_interval("radius", radius, 0.0, 1.0)
    if not 0.0 < radius < 1.0:
        raise ValueError(f"radius must be in (0, 1) for a stable system, got {radius!r}")
    A = torch.randn(batch_size, d, d, generator=generator, dtype=torch.float64)
    rho = torch.linalg.eigvals(A).abs().amax(-1)
    return (A * (radius / rho)[:, None, None]).to(dtype)


class LinearDynamics:
    """Sampler of trajectories of random stable linear systems ({eq}`eq-ch12-lds`);
    ``task(batch_size, generator) -> (S, S_next)``.

    Parameters
    ----------
    d : state dimension (fully observed).
    T : number of states the learner sees (positions t = 1..T, each predicting ``s_{t+1}``).
    radius : spectral radius of ``A``, in (0, 1).
    noise : process-noise standard deviation.
    start : standard deviation of the initial state (0: start at rest).
    dtype : dtype of the returned tensors.

    Returns ``S`` (B, T, d) and ``S_next`` (B, T, d). A learner that knew ``A`` would have the one-step risk
    ``d * noise^2`` at every position (the noise floor).
    """

    def __init__(self, d: int, T: int, radius: float = 0.9, noise: float = 0.1, start: float = 1.0,
                 dtype: torch.dtype = torch.float32):
        self.d = validate.positive_int("d", d)
        self.T = validate.positive_int("T", T)
        validate.in_interval("radius", radius, 0.0, 1.0)
        if not 0.0 < radius < 1.0:
            raise ValueError(f"radius must be in (0, 1) for a stable system, got {radius!r}")
        self.radius = float(radius)
        self.noise = validate.nonnegative("noise", noise)
        self.start = validate.nonnegative("start", start)
        self.dtype = dtype

    def __call__(self, batch_size: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        B = validate.positive_int("batch_size", batch_size)
        A = stable_matrices(B, self.d, self.radius, generator, torch.float64)
        w = torch.randn(B, self.T, self.d, generator=generator, dtype=torch.float64)
        s = self.start * torch.randn(B, self.d, generator=generator, dtype=torch.float64)
        states = [s]
        for t in range(self.T):
            s = (A @ s.unsqueeze(-1)).squeeze(-1) + self.noise * w[:, t]
            states.append(s)
        S = torch.stack(states, dim=1).to(self.dtype)                    # (B, T+1, d)
        return S[:, :-1], S[:, 1:]

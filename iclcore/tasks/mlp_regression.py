"""In-context learning of a random two-layer MLP, with or without its hidden layer written out (Li, Sreenivasan,
Giannou, Papailiopoulos & Oymak 2023, "Dissecting chain-of-thought").

Every prompt has its own network: ``U in R^{m x d}`` and ``beta in R^m`` with i.i.d. N(0, 1) entries, and n
examples

    x_i ~ N(0, I_d),    h_i = sqrt(2/m) act(U x_i) in R^m,    y_i = beta^T h_i        ({eq}`eq-ch16-task`)

The hidden activations ``h_i`` are the **chain of thought**: a CoT prompt shows ``x_i, h_i, y_i`` for every
example, a plain ICL prompt only ``x_i, y_i``. With ``act = relu`` the scaling gives ``E h_ij^2 = d/m`` and
``Var y = d``, whatever m; risks in the chapter are divided by d.

:class:`MLPRegression` returns the whole chain ``P = [x_i; h_i; y_i]`` (B, n, d+m+1) as inputs and as targets;
the model decides what it shows (:class:`iclcore.models.cot_gpt.CoTGPT`).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from iclcore import validate

ACTIVATIONS = ("relu", "tanh")


class MLPRegression:
    """Sampler of two-layer-MLP prompts with their hidden layer; ``task(batch_size, generator) -> (P, P)``.

    Parameters
    ----------
    d : input dimension (>= 1).
    m : hidden width, the length of the chain of thought per example (>= 1).
    n : examples per prompt (>= 1).
    act : ``"relu"`` (the paper's default) or ``"tanh"``.
    dtype : dtype of the returned tensors.

    Returns ``P`` (B, n, d+m+1) = ``[x_i; h_i; y_i]`` twice (inputs and targets). ``split(P)`` gives back
    ``(X (B, n, d), H (B, n, m), y (B, n))``.
    """

    def __init__(self, d: int, m: int, n: int, act: str = "relu", dtype: torch.dtype = torch.float32):
        self.d = validate.positive_int("d", d)
        self.m = validate.positive_int("m", m)
        self.n = validate.positive_int("n", n)
        if act not in ACTIVATIONS:
            raise ValueError(f"act must be one of {ACTIVATIONS}, got {act!r}")
        self.act, self.dtype = act, dtype

    @property
    def width(self) -> int:
        """Width ``d + m + 1`` of one example's chain ``[x; h; y]``."""
        return self.d + self.m + 1

    def networks(self, batch_size: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        """One network per prompt: ``U`` (B, m, d) and ``beta`` (B, m), i.i.d. N(0, 1)."""
        B = validate.positive_int("batch_size", batch_size)
        U = torch.randn(B, self.m, self.d, generator=generator, dtype=self.dtype)
        beta = torch.randn(B, self.m, generator=generator, dtype=self.dtype)
        return U, beta

    def hidden(self, X: torch.Tensor, U: torch.Tensor) -> torch.Tensor:
        """``h = sqrt(2/m) act(U x)`` for X (B, n, d), U (B, m, d) -> (B, n, m)."""
        pre = X @ U.transpose(-1, -2)
        return math.sqrt(2.0 / self.m) * (torch.relu(pre) if self.act == "relu" else torch.tanh(pre))

    def __call__(self, batch_size: int, generator: torch.Generator) -> tuple[torch.Tensor, torch.Tensor]:
        U, beta = self.networks(batch_size, generator)
        X = torch.randn(U.shape[0], self.n, self.d, generator=generator, dtype=self.dtype)
        H = self.hidden(X, U)
        y = H @ beta.unsqueeze(-1)
        P = torch.cat([X, H, y], dim=-1)
        return P, P

    def split(self, P: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``P`` (..., n, d+m+1) -> ``X`` (..., n, d), ``H`` (..., n, m), ``y`` (..., n)."""
        if P.shape[-1] != self.width:
            raise ValueError(f"P must have last dimension d+m+1 = {self.width}, got {tuple(P.shape)}")
        return P[..., : self.d], P[..., self.d: self.d + self.m], P[..., -1]


class ChainLoss:
    """Pretraining loss of a model reading MLP prompts ({eq}`eq-ch16-loss`), one value per member, shape (E,).

    ``pred`` (E, B, n, m+1) as returned by :class:`iclcore.models.cot_gpt.CoTGPT` (thoughts, then the label);
    ``P`` (B, n, d+m+1) or (E, B, n, d+m+1). The loss is ``(mean (y_i - y_hat_i)^2 + thoughts * mean
    ||h_i - h_hat_i||^2) / d``, averaged over prompts and positions i (``Var y = E||h||^2 = d``, so both parts
    start near 1). ``thoughts=0`` trains on labels only (plain ICL), ``thoughts=1`` is CoT-I/O.

    Every call appends the label part (E,) to ``labels``: the y-loss, the quantity whose speed the chapter
    compares, even when the thoughts are trained too.
    """

    def __init__(self, d: int, m: int, thoughts: float = 1.0):
        self.d = validate.positive_int("d", d)
        self.m = validate.positive_int("m", m)
        self.thoughts = validate.nonnegative("thoughts", thoughts)
        self.labels: list[torch.Tensor] = []

    def __call__(self, pred: torch.Tensor, P: torch.Tensor) -> torch.Tensor:
        d, m = self.d, self.m
        if pred.dim() != 4 or pred.shape[-1] != m + 1 or P.shape[-1] != d + m + 1 or pred.shape[-2] != P.shape[-2]:
            raise ValueError(f"pred must be (E, B, n, {m + 1}) and P (B, n, {d + m + 1}) with the same n, got "
                             f"{tuple(pred.shape)} and {tuple(P.shape)}")
        y_part = ((pred[..., m] - P[..., -1]) ** 2).mean(dim=(-2, -1)) / d
        self.labels.append(y_part.detach())
        if not self.thoughts:
            return y_part
        h_part = ((pred[..., :m] - P[..., d: d + m]) ** 2).sum(-1).mean(dim=(-2, -1)) / d
        return y_part + self.thoughts * h_part

    def label_history(self) -> np.ndarray:
        """The recorded label losses, (calls, E) as a numpy array."""
        if not self.labels:
            raise ValueError("nothing was recorded: pass this loss to fit first")
        return torch.stack(self.labels).cpu().numpy()

"""Malach's linear (and shallow-MLP) auto-regressive next-token predictors, and decoding from them.

The model of {cite:t}`malach2024autoregressive` ({eq}`eq-ch17-linear`): token ids ``x_1..x_T`` are embedded,
``e_t = E[x_t] in R^d``, the embeddings are concatenated into one vector of ``R^{Td}``, and **one** linear map
``W in R^{Td x Td}`` whose blocks above the diagonal are zero (output block t sees input blocks s <= t) gives

    h_t = sum_{s <= t} W[t, s] e_s,     logits_t = U h_t      (U: (V, d), the output embedding).

The block mask multiplies the weight **in every forward pass** (as in the official code), so no training step
can let position t read a later token. There is no bias, as in the official layer (a bias is redundant anyway:
one-hot rows sum to one). Variants:

* ``d=None``: the **one-hot** variant ``logits_t = sum_{s<=t} W[t, s] onehot(x_s)`` (d = V, no embeddings),
  the simplest linear next-token predictor, used for parity;
* ``mlp=True``: the paper's shallow MLP, ``logits_t = U relu(A_t relu(h_t))`` with a per-position
  ``A_t in R^{d x d}`` ({eq}`eq-ch17-mlp`);
* ``mask="causal" | "diagonal" | "none"``: the block-lower-triangular mask; each position sees only its own
  token (a bigram model); no mask at all (position t sees the future: a leak, the chapter's break switch).

Ensemble convention: ``n_members=E`` independent copies (every parameter has a leading E); ``forward`` takes
token ids (B, T) (shared) or (E, B, T) and returns logits (E, B, T, V).
"""

from __future__ import annotations

import math

import torch
from torch import nn

from iclcore import validate

MASKS = ("causal", "diagonal", "none")


def block_mask(T: int, d: int, mask: str = "causal") -> torch.Tensor:
    """The (T d, T d) 0/1 mask of the linear map: block (t, s) is kept iff s <= t ("causal"), s == t
    ("diagonal") or always ("none")."""
    validate.positive_int("T", T)
    validate.positive_int("d", d)
    if mask not in MASKS:
        raise ValueError(f"mask must be one of {MASKS}, got {mask!r}")
    t = torch.arange(T)
    keep = {"causal": t[:, None] >= t[None, :], "diagonal": t[:, None] == t[None, :],
            "none": torch.ones(T, T, dtype=torch.bool)}[mask]
    return keep.repeat_interleave(d, 0).repeat_interleave(d, 1).float()


class LinearAR(nn.Module):
    """A linear auto-regressive next-token predictor ({eq}`eq-ch17-linear`), or the shallow MLP
    ({eq}`eq-ch17-mlp`); see the module docstring.

    Parameters
    ----------
    V : vocabulary size (token ids in [0, V)).
    T : context length (number of positions; inputs must have exactly T tokens).
    d : embedding width, or ``None`` for the one-hot variant (d = V, no embeddings).
    mlp : add ``relu -> per-position Linear(d, d) -> relu`` before the output embedding (the paper's MLP).
    mask : ``"causal"`` (default), ``"diagonal"`` or ``"none"``.
    n_members : number E of independent copies.
    seed : seed of the initial weights (N(0, 1/fan_in) entries).
    """

    def __init__(self, V: int, T: int, d: int | None = None, *, mlp: bool = False, mask: str = "causal",
                 n_members: int = 1, seed: int = 0):
        super().__init__()
        self.V = validate.int_in_range("V", V, 2, 1_000_000)
        self.T = validate.positive_int("T", T)
        self.onehot = d is None
        self.d = V if d is None else validate.positive_int("d", d)
        if self.onehot and mlp:
            raise ValueError("mlp needs an embedding width d (the one-hot variant is linear)")
        if not isinstance(mlp, bool):
            raise ValueError(f"mlp must be a bool, got {mlp!r}")
        E = self.n_members = validate.positive_int("n_members", n_members)
        self.mlp, self.mask_kind = mlp, mask
        D = self.T * self.d
        self.register_buffer("mask", block_mask(self.T, self.d, mask))
        g = torch.Generator().manual_seed(seed)
        # fan-in of block row t is (t+1) d under the causal mask; a 1/sqrt(T d) scale keeps every row O(1)
        self.W = nn.Parameter(torch.randn(E, D, D, generator=g) / math.sqrt(D))
        if not self.onehot:
            self.embed = nn.Parameter(torch.randn(E, self.V, self.d, generator=g))
            self.unembed = nn.Parameter(torch.randn(E, self.d, self.V, generator=g) / math.sqrt(self.d))
        if mlp:
            self.A = nn.Parameter(torch.randn(E, self.T, self.d, self.d, generator=g) / math.sqrt(self.d))

    @property
    def n_effective(self) -> int:
        """Number of weights the mask leaves free in the linear map, per member: T(T+1)/2 d^2 (causal)."""
        return int(self.mask.sum().item())

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """Token ids (B, T) or (E, B, T) -> next-token logits (E, B, T, V)."""
        E, T, V, d = self.n_members, self.T, self.V, self.d
        if tokens.dim() == 2:
            tokens = tokens.expand(E, *tokens.shape)
        if tokens.dim() != 3 or tokens.shape[0] != E or tokens.shape[-1] != T:
            raise ValueError(f"tokens must have shape (B, {T}) or ({E}, B, {T}), got {tuple(tokens.shape)}")
        if tokens.dtype not in (torch.int64, torch.int32) or tokens.min() < 0 or tokens.max() >= V:
            raise ValueError(f"tokens must be integer ids in [0, {V})")
        B = tokens.shape[1]
        if self.onehot:
            x = nn.functional.one_hot(tokens.long(), V).to(self.W.dtype)             # (E, B, T, V)
        else:
            x = torch.gather(self.embed[:, None].expand(E, B, V, d), 2,
                             tokens.long()[..., None].expand(E, B, T, d))              # (E, B, T, d)
        h = torch.bmm(x.reshape(E, B, T * d), (self.W * self.mask).transpose(1, 2)).reshape(E, B, T, d)
        if self.mlp:
            h = torch.relu(torch.einsum("ebti,etji->ebtj", torch.relu(h), self.A))
        return h if self.onehot else h @ self.unembed[:, None]


@torch.no_grad()
def complete(model: nn.Module, tokens: torch.Tensor, start: int, *, temperature: float = 0.0,
             generator: torch.Generator | None = None) -> torch.Tensor:
    """Auto-regressive decoding: keep ``tokens[..., :start]`` and write positions ``start..L-1`` one at a time,
    each from the model's prediction at the position before ({eq}`eq-ch17-generate`).

    ``tokens`` (B, L) or (E, B, L) with ``L = model.T + 1`` (a full sequence: the model reads its first T
    tokens; what is at positions >= start is ignored). ``temperature = 0`` is greedy (argmax);
    ``temperature > 0`` samples from softmax(logits / temperature) with ``generator``. Returns (E, B, L) ids.
    This is **free generation**: the model reads its own earlier outputs, never the true ones (teacher forcing
    would hide the compounding of errors).
    """
    E, T = getattr(model, "n_members", 1), model.T
    seq = tokens.clone().long()
    if seq.dim() == 2:
        seq = seq.expand(E, *seq.shape).clone()
    if seq.dim() != 3 or seq.shape[-1] != T + 1:
        raise ValueError(f"tokens must have shape (B, {T + 1}) or ({E}, B, {T + 1}) (model.T + 1), "
                         f"got {tuple(tokens.shape)}")
    validate.int_in_range("start", start, 1, T)
    validate.nonnegative("temperature", temperature)
    if temperature > 0 and generator is None:
        raise ValueError("generator is needed when temperature > 0")
    seq[..., start:] = 0
    for t in range(start, T + 1):
        logits = model(seq[..., :T])[..., t - 1, :]
        if temperature == 0:
            seq[..., t] = logits.argmax(-1)
        else:
            p = torch.softmax(logits.double() / temperature, -1)
            seq[..., t] = torch.multinomial(p.reshape(-1, p.shape[-1]), 1, generator=generator).reshape(p.shape[:-1])
    return seq

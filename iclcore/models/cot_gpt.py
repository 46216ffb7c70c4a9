"""A transformer that reads MLP prompts with or without their chain of thought (Li, Sreenivasan, Giannou,
Papailiopoulos & Oymak 2023), on the :class:`iclcore.models.vector_gpt.VectorGPT` backbone.

An example is the chain ``x_i -> h_i -> y_i`` ({eq}`eq-ch16-task`). The model reads it as one token per step:

* ``cot=True`` (CoT-I/O): ``x_1, h_1, y_1, x_2, h_2, y_2, ...`` (3n tokens); the hidden layer ``h_i`` is
  predicted at the token of ``x_i`` and the label ``y_i`` at the token of ``h_i`` ({eq}`eq-ch16-tokens`);
* ``cot=False`` (plain ICL): ``x_1, y_1, x_2, y_2, ...`` (2n tokens); ``y_i`` is predicted at the token of ``x_i``.

A step's content ``c_t`` sits in its own slot of ``[x; h; y]`` (width d+m+1, zeros elsewhere), so one linear
read-in acts as the paper's separate read-ins for x, h and y. The token is ``[c_t; c_{t-1}; e_type]``: with
``pair=True`` it also carries the previous step (the ``h_i`` token holds ``(x_i, h_i)``, the ``y_i`` token
``(h_i, y_i)``), which spares a small model the previous-token head it would otherwise have to learn first
(the book's choice, as in {eq}`eq-ch12-tokens`); ``e_type`` is the one-hot token type (x, h or y).
"""

from __future__ import annotations

import torch
from torch import nn

from iclcore import validate
from iclcore.models.vector_gpt import VectorGPT

TYPES = ("x", "h", "y")


class CoTGPT(nn.Module):
    """:class:`VectorGPT` on MLP prompts ``P = [x_i; h_i; y_i]`` (B, n, d+m+1), E members batched.

    Parameters
    ----------
    d, m, n : input dimension, hidden width (the thought per example), examples per prompt.
    cot : show the thoughts ``h_i`` (CoT-I/O, 3n tokens) or not (plain ICL, 2n tokens).
    pair : each token also carries the previous step's content (see the module docstring).
    d_model, n_layers, n_heads, n_members, attention, seed : as in :class:`VectorGPT`.

    ``forward(P)``: P (B, n, d+m+1) or (E, B, n, d+m+1) -> (E, B, n, m+1): entry ``[..., i, :m]`` is the
    predicted thought of example i (read at its x-token; meaningless for ``cot=False``), ``[..., i, m]`` the
    predicted label (read at its h-token, or at its x-token for ``cot=False``). Every prediction sees the earlier
    examples whole; with ``cot=True`` the label prediction also sees ``h_i`` as given in P (teacher forcing):
    :meth:`generate` writes the model's own thought there instead.
    """

    def __init__(self, d: int, m: int, n: int, cot: bool = True, pair: bool = True, d_model: int = 32,
                 n_layers: int = 2, n_heads: int = 2, n_members: int = 1, attention: bool = True, seed: int = 0):
        super().__init__()
        self.d = validate.positive_int("d", d)
        self.m = validate.positive_int("m", m)
        self.n = validate.positive_int("n", n)
        self.cot, self.pair = bool(cot), bool(pair)
        self.steps = 3 if self.cot else 2
        self.width = d + m + 1
        self.gpt = VectorGPT(2 * self.width + 3, m + 1, d_model, n_layers, n_heads, self.steps * n, n_members,
                             attention, seed)

    @property
    def n_members(self) -> int:
        return self.gpt.n_members

    def _check(self, P: torch.Tensor) -> None:
        if P.dim() not in (3, 4) or P.shape[-1] != self.width or P.shape[-2] > self.n:
            raise ValueError(f"P must have shape (B, n, {self.width}) or (E, B, n, {self.width}) with n <= "
                             f"{self.n} (d + m + 1 = {self.width}: a thought shorter or longer than m = {self.m} "
                             f"does not fit), got {tuple(P.shape)}")

    def tokens(self, P: torch.Tensor) -> torch.Tensor:
        """The token sequence ({eq}`eq-ch16-tokens`): P (..., n, d+m+1) -> (..., steps*n, 2(d+m+1)+3)."""
        self._check(P)
        d = self.d
        slots = [P.clone() for _ in range(self.steps)]                 # x, (h,) y contents in their own slot
        slots[0][..., d:] = 0.0
        slots[-1][..., :-1] = 0.0
        if self.cot:
            slots[1][..., :d] = 0.0
            slots[1][..., -1] = 0.0
        c = torch.stack(slots, dim=-2).reshape(*P.shape[:-2], self.steps * P.shape[-2], self.width)
        prev = torch.nn.functional.pad(c, (0, 0, 1, 0))[..., :-1, :] if self.pair else torch.zeros_like(c)
        kinds = [0, 1, 2] if self.cot else [0, 2]
        e = torch.eye(3, dtype=P.dtype)[kinds].repeat(P.shape[-2], 1).expand(*c.shape[:-1], 3)
        return torch.cat([c, prev, e], dim=-1)

    def forward(self, P: torch.Tensor) -> torch.Tensor:
        out = self.gpt(self.tokens(P))                                  # (E, B, steps*n, m+1)
        at_x = out[..., 0:: self.steps, :]
        if not self.cot:
            return at_x
        return torch.cat([at_x[..., : self.m], out[..., 1:: self.steps, self.m:]], dim=-1)

    @torch.no_grad()
    def generate(self, P: torch.Tensor) -> torch.Tensor:
        """Label predictions with the model's **own** thought for the query: (E, B, n).

        Entry k predicts ``y_{k+1}`` from the k examples before it (their thoughts as given) and ``x_{k+1}``:
        the model first predicts ``h_{k+1}`` at the token of ``x_{k+1}``, writes it into the h-token, and reads
        the label there. For ``cot=False`` this is ``forward(P)[..., m]``.
        """
        self._check(P)
        if not self.cot:
            return self(P)[..., self.m]
        E, out = self.n_members, []
        P = P.unsqueeze(0) if P.dim() == 3 else P
        for k in range(P.shape[-2]):
            prefix = P[..., : k + 1, :].expand(E, *P.shape[1:-2], k + 1, self.width).clone()
            prefix[..., k, self.d: self.d + self.m] = self(prefix)[..., k, : self.m]
            out.append(self(prefix)[..., k, self.m])
        return torch.stack(out, dim=-1)

    @torch.no_grad()
    def attention_maps(self, P: torch.Tensor) -> list[torch.Tensor]:
        """Attention weights of every layer on prompt P: one (E, B, n_heads, T, T) per layer, T = steps * n."""
        return self.gpt.attention_maps(self.tokens(P))

    def token_types(self, n: int | None = None) -> list[str]:
        """The type (``"x"``, ``"h"`` or ``"y"``) of every token of a prompt with n examples."""
        kinds = list(TYPES) if self.cot else ["x", "y"]
        return kinds * (self.n if n is None else n)


__all__ = ["CoTGPT", "TYPES"]

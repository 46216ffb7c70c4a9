"""Operations along the sequence axis that several models share: the causal mask and causal convolution."""

from __future__ import annotations

import torch


def causal_mask(T: int, device=None) -> torch.Tensor:
    """Boolean (T, T) matrix, True where key j is visible to query i (j <= i)."""
    return torch.ones(T, T, dtype=torch.bool, device=device).tril()


def causal_conv(u: torch.Tensor, taps: torch.Tensor, last_only: bool = False) -> torch.Tensor:
    """Causal convolution along the sequence, per channel: ``s_t = sum_{0 <= j <= t, j < L} taps_j * u_{t-j}``.

    ``u``: (..., T, h) -- tokens before the start of the sequence count as zero, so ``s_t`` never looks ahead.
    ``taps``: (L, h) or (L, 1) (one filter shared by all channels), tap j multiplying the token j positions
    back; L may be shorter than T (a short convolution) or at least T (a long one). Returns (..., T, h).
    Leading dimensions of ``taps`` broadcast against those of ``u`` (right-aligned): an ensemble filter
    (E, L, h) on prompts (E, B, T, h) is passed as ``taps[:, None]``.

    ``last_only=True`` computes only the last position ``s_{T-1}`` (shape (..., 1, h)) in O(T) instead of
    O(T^2): what a model that reads only the query position needs.
    """
    T, L = u.shape[-2], taps.shape[-2]
    if last_only:
        m = min(T, L)
        return (taps[..., :m, :] * u.flip(-2)[..., :m, :]).sum(-2, keepdim=True)
    lag = torch.arange(T)[:, None] - torch.arange(T)[None, :]              # t - j
    valid = (lag >= 0) & (lag < L)
    K = taps[..., lag.clamp(0, L - 1), :] * valid[:, :, None]              # (..., T, T, h)
    return torch.einsum("...tjh,...jh->...th", K, u)

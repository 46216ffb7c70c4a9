"""One self-attention layer that predicts the next token as a convex combination of its input tokens.

The model of {cite:t}`li2024mechanics` ({eq}`eq-ch10-model`): a sequence of token ids ``x_1..x_T`` with
embeddings ``v_{x_t}`` (rows of a fixed (K, d) matrix) is read by one attention head whose query is the
**last** token,

    s = softmax(a),   a_t = v_{x_t}^T W v_{x_T},

and the predicted distribution of the next token is the attention mass on each vocabulary token,
``P(k | X) = sum_{t: x_t = k} s_t`` (the identity value/output head of the paper's experiments). W (d x d) is
the only trained parameter.

**Numerics.** Training drives ``||W||`` to infinity, so ``P(y | X)`` reaches 1 to machine precision. Written as
``log sum_{t: x_t=y} s_t`` (or a log-softmax), the gradient's label term is ``1 - P(y | X)`` computed as a
difference of two numbers equal to rounding: it vanishes and the direction of W drifts (the trap of the
max-margin chapters of Part II). :meth:`NextTokenAttention.forward` therefore computes the same
log-probability as a log-odds ({eq}`eq-ch10-logodds`),

    log P(k | X) = log sigmoid(l_k),   l_k = z_k - logsumexp_{j != k} z_j,
    z_k = log(count of k in X) + v_k^T W v_{x_T}    (all copies of a token share one score),

whose gradient is a product of accurately computed terms (``sigmoid(-l_k)`` and softmaxes over disjoint
sets of tokens). ``stable=False`` gives the textbook ``log_softmax(z)`` (= ``log sum_{t: x_t=k} s_t``).

Ensemble convention: ``n_members=E`` copies of W (leading dimension E); inputs ``(E, B, T)``.
"""

from __future__ import annotations

import torch
from torch import nn

from iclcore import validate


class NextTokenAttention(nn.Module):
    """``P(k | X) = sum_{t: x_t = k} softmax(a)_t`` with ``a_t = v_{x_t}^T W v_{x_T}`` ({eq}`eq-ch10-model`).

    Parameters
    ----------
    embeddings : token embeddings, shape (K, d), (1, K, d) or (E, K, d) (one vocabulary per member); fixed.
    n_members : number E of independent copies of W.
    init_scale : W starts at N(0, init_scale^2) entries (0 = zero start, the book's default).
    seed : seed of the initial W.
    stable : compute log-probabilities as log-odds ({eq}`eq-ch10-logodds`); ``False``: the textbook
        ``log_softmax`` over tokens (= ``log sum_{t: x_t=k} s_t``).
    dtype : float64 by default (the softmax saturates).

    ``forward(tokens)``: token ids (E, B, T) -> log-probabilities of the next token (E, B, K)
    (``-inf`` for tokens absent from the sequence).
    """

    def __init__(self, embeddings: torch.Tensor, n_members: int = 1, init_scale: float = 0.0, seed: int = 0,
                 stable: bool = True, dtype: torch.dtype = torch.float64):
        super().__init__()
        E = self.n_members = validate.positive_int("n_members", n_members)
        emb = torch.as_tensor(embeddings, dtype=dtype)
        if emb.dim() == 2 or (emb.dim() == 3 and emb.shape[0] == 1):
            emb = emb.expand(E, *emb.shape[-2:])
        if emb.dim() != 3 or emb.shape[0] != E or not torch.isfinite(emb).all():
            raise ValueError(f"embeddings must be a finite (K, d) or ({E}, K, d) array, got {tuple(emb.shape)}")
        self.K, self.d = emb.shape[1], emb.shape[2]
        validate.nonnegative("init_scale", init_scale)
        if not isinstance(stable, bool):
            raise ValueError(f"stable must be a bool, got {stable!r}")
        self.stable = stable
        self.register_buffer("embeddings", emb.clone())
        g = torch.Generator().manual_seed(seed)
        self.W = nn.Parameter(init_scale * torch.randn(E, self.d, self.d, generator=g, dtype=dtype))

    def _check(self, tokens: torch.Tensor) -> None:
        if tokens.dim() != 3 or tokens.shape[0] != self.n_members or tokens.dtype != torch.int64:
            raise ValueError(f"tokens must be int64 ids of shape ({self.n_members}, B, T), got "
                             f"{tuple(tokens.shape)} {tokens.dtype}")
        if tokens.numel() and (tokens.min() < 0 or tokens.max() >= self.K):
            raise ValueError(f"tokens must be ids in [0, {self.K})")

    def score_table(self) -> torch.Tensor:
        """``S[e, k, j] = v_j^T W_e v_k``: the score of key token j under query token k, (E, K, K)."""
        return (self.embeddings @ self.W @ self.embeddings.transpose(-1, -2)).transpose(-1, -2)

    def _query_scores(self, tokens: torch.Tensor) -> torch.Tensor:
        """Scores of every vocabulary token under each sequence's query, (E, B, K)."""
        self._check(tokens)
        return self.score_table()[torch.arange(self.n_members)[:, None], tokens[..., -1]]

    def scores(self, tokens: torch.Tensor) -> torch.Tensor:
        """Attention scores ``a_t = v_{x_t}^T W v_{x_T}``: (E, B, T) ids -> (E, B, T)."""
        return self._query_scores(tokens).gather(-1, tokens)

    def attention(self, tokens: torch.Tensor) -> torch.Tensor:
        """The attention map ``softmax(a)`` over positions, (E, B, T)."""
        return torch.softmax(self.scores(tokens), dim=-1)

    def token_logits(self, tokens: torch.Tensor) -> torch.Tensor:
        """``z_k = log(count of k in X) + v_k^T W v_{x_T}`` (``-inf`` for absent tokens), (E, B, K):
        ``P(k | X) = softmax(z)_k``, because all copies of a token share one score."""
        u = self._query_scores(tokens)                                           # (E, B, K)
        counts = torch.zeros_like(u).scatter_add_(-1, tokens, torch.ones_like(tokens, dtype=u.dtype))
        return torch.where(counts > 0, u + counts.clamp_min(1).log(), -torch.inf)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        z = self.token_logits(tokens)                                            # (E, B, K)
        if not self.stable:
            return torch.log_softmax(z, dim=-1)
        # l_k = z_k - logsumexp_{j != k} z_j. For the top token k: a logsumexp without k (plus a term
        # e^{z_k - 1e4}, zero next to any real token, that keeps it finite when k is alone). For the others
        # p_k <= 1/2, so logsumexp_{j != k} z_j = logsumexp(z) + log1p(-p_k) is accurate.
        top = z.detach().argmax(-1, keepdim=True)
        is_top = torch.zeros_like(z, dtype=torch.bool).scatter_(-1, top, True)
        lse = torch.logsumexp(z, dim=-1, keepdim=True)
        p_rest = torch.where(is_top, 0.0, (z - lse).exp())
        others = torch.where(is_top, z.gather(-1, top) - 1e4, z)
        logit = torch.where(is_top, z - torch.logsumexp(others, -1, keepdim=True), z - lse - torch.log1p(-p_rest))
        return nn.functional.logsigmoid(logit)

    @torch.no_grad()
    def probs(self, tokens: torch.Tensor) -> torch.Tensor:
        """The predicted next-token distribution ``P(k | X)``, (E, B, K) (attention mass per token)."""
        return self(tokens).exp()

"""One self-attention layer whose output head is tied to its embeddings: the model of
{cite:t}`ildiz2024markov` ({eq}`eq-ch8-model`).

A prompt of token ids ``x_1..x_T`` is embedded as the rows of ``X = [e_{x_1}; ...; e_{x_T}]`` (T x d), with
``e_j`` the j-th row of a fixed embedding matrix ``E`` (K x d, rank K <= d). The last token is the query;
the attention output is mapped back to the vocabulary by the output head ``C`` (K x d):

    f(X) = C X^T softmax(X W e_{x_T} + b),          C E^T = I_K   (weight tying),

with the trained attention weights ``W`` (d x d) and an optional position bias ``b`` (one logit offset per
position, {eq}`eq-ch8-positional`). Because ``C e_j = onehot(j)``, ``f(X)`` is a probability vector: the
attention mass on each vocabulary token. Writing ``W~ = E W^T E^T`` (K x K; row i = the query token, column
j = the key token) it equals the context-conditioned Markov chain {eq}`eq-ch8-ccmc`,
``f_j(X) = m_j e^{W~[x_T, j]} / sum_l m_l e^{W~[x_T, l]}``.

``E`` defaults to the identity (d = K); ``embedding="random"`` draws a random full-rank E (d >= K) and sets
``C = (E E^T)^{-1} E``, the tied head. ``untied=True`` replaces C by a random head (for the unit test that
the equivalence needs the tying).

Ensemble convention: ``n_members=E`` independent copies of W (leading dimension E). ``forward(tokens)``
takes int64 ids (B, T) or (E, B, T) and returns next-token probabilities (E, B, K).
"""

from __future__ import annotations

import torch
from torch import nn

from iclcore import validate


class TiedEmbeddingAttention(nn.Module):
    """``f(X) = C X^T softmax(X W e_{x_T} + b)`` with ``C E^T = I_K`` ({eq}`eq-ch8-model`).

    Parameters
    ----------
    K : vocabulary size.
    d_model : embedding width d >= K (default K).
    n_members : number E of independent copies of W.
    embedding : ``"identity"`` (E = I, needs d = K) or ``"random"`` (Gaussian E, then C = (E E^T)^{-1} E).
    n_ctx : longest prompt; with ``positional=True`` a trained position bias b (n_ctx,) starting at 0.
    positional : add the position bias b to the attention logits.
    untied : use a random output head instead of the tied C (breaks the CCMC equivalence).
    init_scale, seed : W starts at N(0, init_scale^2 / d) entries (0 = zero start, the default; the
        maximum-likelihood problem is convex in W~).
    dtype : parameter dtype (float64 by default: the CCMC comparisons are at 1e-10).
    """

    def __init__(self, K: int, d_model: int | None = None, n_members: int = 1, embedding: str = "identity",
                 n_ctx: int = 64, positional: bool = False, untied: bool = False, init_scale: float = 0.0,
                 seed: int = 0, dtype: torch.dtype = torch.float64):
        super().__init__()
        K = self.K = validate.positive_int("K", K)
        d = self.d_model = K if d_model is None else validate.int_in_range("d_model", d_model, K, 10**6)
        E = self.n_members = validate.positive_int("n_members", n_members)
        self.n_ctx = validate.positive_int("n_ctx", n_ctx)
        validate.nonnegative("init_scale", init_scale)
        if embedding not in ("identity", "random"):
            raise ValueError(f"embedding must be 'identity' or 'random', got {embedding!r}")
        if embedding == "identity" and d != K:
            raise ValueError(f"d_model must equal K={K} for embedding='identity', got {d}")
        g = torch.Generator().manual_seed(seed)
        emb = torch.eye(K, dtype=dtype) if embedding == "identity" else \
            torch.randn(K, d, generator=g, dtype=dtype) / d**0.5
        head = torch.linalg.solve(emb @ emb.T, emb)                           # C = (E E^T)^{-1} E: C E^T = I
        if untied:
            head = torch.randn(K, d, generator=g, dtype=dtype)
        self.register_buffer("embedding", emb)
        self.register_buffer("head", head)
        self.W = nn.Parameter(init_scale / d**0.5 * torch.randn(E, d, d, generator=g, dtype=dtype))
        self.pos_bias = nn.Parameter(torch.zeros(E, self.n_ctx, dtype=dtype)) if positional else None

    def _tokens(self, tokens: torch.Tensor) -> torch.Tensor:
        if tokens.dim() == 2:
            tokens = tokens.expand(self.n_members, *tokens.shape)
        if tokens.dim() != 3 or tokens.shape[0] != self.n_members or tokens.dtype != torch.int64:
            raise ValueError(f"tokens must be int64 ids of shape (B, T) or ({self.n_members}, B, T), got "
                             f"{tuple(tokens.shape)} {tokens.dtype}")
        if tokens.shape[-1] > self.n_ctx and self.pos_bias is not None:
            raise ValueError(f"tokens: prompts may hold at most n_ctx={self.n_ctx} tokens, got {tokens.shape[-1]}")
        if tokens.numel() and (tokens.min() < 0 or tokens.max() >= self.K):
            raise ValueError(f"tokens must be ids in [0, {self.K})")
        return tokens

    def attention(self, tokens: torch.Tensor) -> torch.Tensor:
        """The attention map ``softmax(X W e_{x_T} + b)`` over positions: ids (E, B, T) -> (E, B, T)."""
        tokens = self._tokens(tokens)
        return self._attention(self.embedding[tokens], tokens.shape[-1])

    def _attention(self, X: torch.Tensor, T: int) -> torch.Tensor:
        Wq = X[:, :, -1, :] @ self.W.transpose(-1, -2)                        # (E, B, d): rows (W x_T)^T
        scores = (X * Wq[:, :, None, :]).sum(-1)                              # (E, B, T): x_t^T W x_T
        if self.pos_bias is not None:
            scores = scores + self.pos_bias[:, None, :T]
        return torch.softmax(scores, dim=-1)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """Next-token probabilities ``C X^T s``: ids (B, T) or (E, B, T) -> (E, B, K)."""
        tokens = self._tokens(tokens)
        X = self.embedding[tokens]                                            # (E, B, T, d)
        s = self._attention(X, tokens.shape[-1])
        return (s[..., None] * X).sum(-2) @ self.head.T                       # C X^T s, (E, B, K)

    def scores(self) -> torch.Tensor:
        """The CCMC score matrix ``W~ = E W^T E^T``, (E, K, K): row i is the last (query) token."""
        return self.embedding @ self.W.transpose(-1, -2) @ self.embedding.T

    @torch.no_grad()
    def set_scores(self, W_tilde: torch.Tensor) -> TiedEmbeddingAttention:
        """Set W so that :meth:`scores` equals ``W_tilde`` ((K, K) or (E, K, K)); returns the model."""
        Wt = torch.as_tensor(W_tilde, dtype=self.W.dtype)
        if Wt.shape[-2:] != (self.K, self.K) or Wt.dim() not in (2, 3):
            raise ValueError(f"W_tilde must have shape ({self.K}, {self.K}) or (E, {self.K}, {self.K}), "
                             f"got {tuple(Wt.shape)}")
        pinv = torch.linalg.pinv(self.embedding)                              # (d, K): E pinv = I_K
        self.W.copy_((pinv @ Wt @ pinv.T).transpose(-1, -2).expand_as(self.W))
        return self

"""Drivers of Chapter 10 (mechanics of next-token prediction): measurements on trained
:class:`iclcore.models.next_token_attention.NextTokenAttention` ensembles, the priority-graph figure, and the
retraining behind the chapter's live panel. Imported only by the chapter (and its tests).
"""

from __future__ import annotations

from collections.abc import Sequence

import networkx as nx
import numpy as np
import plotly.graph_objects as go
import torch

from iclcore import validate
from iclcore.models.next_token_attention import NextTokenAttention
from iclcore.tasks.token_priority import TokenPriorityTask, log_prob_nll, token_embeddings
from iclcore.theory import token_priority as tp
from iclcore.train import fit

SCC_COLORS = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2"]


def decomposition_history(theory: tp.NextTokenTheory, weights: np.ndarray) -> dict[str, np.ndarray]:
    """:meth:`NextTokenTheory.decompose` at every recorded step: weights (R, E, d, d) -> {name: (R, E)}."""
    parts = [theory.decompose(W) for W in np.asarray(weights)]
    return {k: np.stack([p[k] for p in parts]) for k in parts[0]}


def outside_masks(tokens: torch.Tensor, labels: torch.Tensor, K: int) -> torch.Tensor:
    """For training data (E, n, T), (E, n): the vocabulary tokens outside each sequence's label SCC, bool
    (E, n, K) (absent tokens included: they get no attention anyway)."""
    X, y = tokens.numpy(), labels.numpy()
    return torch.as_tensor(~np.stack([tp.label_scc_mask(X[e], y[e], K) for e in range(len(X))]))


def fresh_masks(theory: tp.NextTokenTheory, tokens: torch.Tensor, K: int) -> tuple[np.ndarray, np.ndarray]:
    """For new sequences (E, B, T): the tokens of the highest-priority SCC present (by the training graphs),
    bool (E, B, K), and where that SCC is defined, bool (E, B)."""
    out = [tp.top_scc_mask(tokens[e].numpy(), theory.graphs[e], K) for e in range(tokens.shape[0])]
    return np.stack([m for m, _ in out]), np.stack([d for _, d in out])


def composition_gap(probs: np.ndarray, theory: tp.NextTokenTheory, tokens: torch.Tensor, top: np.ndarray,
                    embeddings) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Soft composition, model against theory ({eq}`eq-ch10-compose`), per member and sequence.

    Returns ``(model, theory, tv)``: the model's distribution renormalised over the top SCC (E, B, K), the
    prediction of ``W^fin`` over the same tokens (E, B, K), and their total variation distance (E, B).
    """
    V = np.asarray(embeddings, dtype=np.float64)
    V = np.broadcast_to(V, (len(top),) + V.shape[-2:]) if V.ndim == 2 or V.shape[0] == 1 else V
    model = np.where(top, probs, 0.0)
    tot = model.sum(-1, keepdims=True)
    model = np.divide(model, tot, out=np.zeros_like(model), where=tot > 0)
    theory_p = np.stack([tp.soft_composition(theory.W_fin[e], tokens[e].numpy(), top[e], V[e])
                         for e in range(len(top))])
    return model, theory_p, 0.5 * np.abs(model - theory_p).sum(-1)


def priority_graph_figure(G: nx.DiGraph, title: str = "", levels: Sequence[int] | None = None) -> go.Figure:
    """Draw a priority graph: nodes on a circle, coloured by SCC (in priority order), arrows for edges (thick and
    coloured inside an SCC, thin and grey between SCCs).

    ``levels`` (optional, one per token id) is printed under each node (a generator's planted level).
    """
    comps = tp.strongly_connected_components(G)
    index = {t: i for i, c in enumerate(comps) for t in c}
    nodes = sorted(G.nodes)
    angle = {t: np.pi / 2 - 2 * np.pi * i / len(nodes) for i, t in enumerate(nodes)}
    pos = {t: (np.cos(a), np.sin(a)) for t, a in angle.items()}
    fig = go.Figure()
    for i, j in G.edges:
        (x0, y0), (x1, y1) = pos[i], pos[j]
        inside = index[i] == index[j]                               # an edge inside one SCC: thick, coloured
        fig.add_annotation(x=x0 + 0.88 * (x1 - x0), y=y0 + 0.88 * (y1 - y0), ax=x0 + 0.12 * (x1 - x0),
                           ay=y0 + 0.12 * (y1 - y0), xref="x", yref="y", axref="x", ayref="y", showarrow=True,
                           arrowhead=2, arrowsize=1.2, arrowwidth=2.4 if inside else 1.2,
                           arrowcolor=SCC_COLORS[index[i] % len(SCC_COLORS)] if inside else "#9a9a9a")
    for c, comp in enumerate(comps):
        members = sorted(comp)
        text = [f"{t}" + (f"<br>level {levels[t]}" if levels is not None else "") for t in members]
        fig.add_scatter(x=[pos[t][0] for t in members], y=[pos[t][1] for t in members], mode="markers+text",
                        text=text, textposition="middle center", textfont=dict(color="white", size=12),
                        marker=dict(size=44 if levels is not None else 34, color=SCC_COLORS[c % len(SCC_COLORS)]),
                        name=f"SCC {c + 1}: {{{', '.join(map(str, members))}}}")
    fig.update_layout(title=title, height=420, xaxis=dict(visible=False, range=[-1.4, 1.4]),
                      yaxis=dict(visible=False, range=[-1.3, 1.3], scaleanchor="x"), legend_title="priority order")
    return fig


def retrain_priority(K: int = 8, T: int = 5, n: int = 1000, ties: Sequence[int] = (2, 3), steps: int = 1500,
                     lr: float = 0.3, seed: int = 0, n_test: int = 2000, progress: bool = True) -> dict:
    """Train one model on a planted-priority data set and measure it on fresh sequences (the live panel).

    Returns a dict with ``task``, ``model``, ``theory``, the ``decomposition`` of the final W, the mean
    attention mass outside the top SCC (``outside``) and the mean total variation of the soft composition on
    tied sequences (``tv``).
    """
    validate.positive_int("steps", steps)
    task = TokenPriorityTask(K, T, tie_sizes=tuple(ties), seed=seed)
    X, y = task.dataset(n, seed + 1)
    V = token_embeddings(K, K)
    theory = tp.next_token_theory(X, y, V)
    model = NextTokenAttention(V)
    fit(model, (X, y), steps=steps, optimizer="ngd", lr=lr, loss=log_prob_nll, seed=seed, progress=progress,
        desc="planted priority")
    Xt, _ = task.dataset(n_test, seed + 2)
    P = model.probs(Xt).numpy()
    top, defined = fresh_masks(theory, Xt, K)
    _, _, tv = composition_gap(P, theory, Xt, top, V)
    tied = defined & (top.sum(-1) >= 2)
    return {"task": task, "model": model, "theory": theory, "decomposition": theory.decompose(model.W.detach()),
            "outside": float((P * ~top).sum(-1)[defined].mean()),
            "tv": float(tv[tied].mean()) if tied.any() else float("nan")}

"""Driver of Chapter 18 (task superposition): train on one task at a time, measure mixed prompts, task vectors.

* :func:`train_retrieval_gpt` -- a :class:`iclcore.models.VectorGPT` trained by :func:`iclcore.train.fit` on
  single-task :class:`iclcore.tasks.PositionRetrieval` prompts;
* :func:`single_task_accuracy`, :func:`mixture_probs` -- the probability of each task's answer on mixed prompts
  ({eq}`eq-ch18-share`);
* :class:`MajorityVote` -- a rule that cannot mix: it reads the task of every demonstration and answers the
  majority task with probability one (a break switch);
* :func:`hidden_state`, :func:`task_vectors`, :func:`patched_logits` -- task vectors ({eq}`eq-ch18-taskvec`):
  the mean residual state at the query token after a block's attention, centred on neutral prompts, added
  back into neutral prompts.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from iclcore import validate
from iclcore.models import VectorGPT
from iclcore.tasks.base import make_generator
from iclcore.tasks.superposition import PositionRetrieval, answer_cross_entropy, answer_probs
from iclcore.train import fit


def train_retrieval_gpt(task: PositionRetrieval, *, d_model: int = 64, n_layers: int = 2, n_heads: int = 4,
                        steps: int = 500, lr: float = 3e-3, batch_size: int = 256, seed: int = 0,
                        progress: bool = True) -> tuple[VectorGPT, np.ndarray]:
    """Train a VectorGPT on single-task prompts of ``task`` (cross-entropy of the query's answer); returns the
    model (in eval mode) and the loss history (steps,)."""
    model = VectorGPT(task.d_in, task.K, d_model=d_model, n_layers=n_layers, n_heads=n_heads,
                      max_len=task.n_range[1] + 1, seed=seed)
    hist = fit(model, task, steps=steps, lr=lr, batch_size=batch_size, loss=answer_cross_entropy, seed=seed + 1,
               progress=progress, desc="one task per prompt")
    return model.eval(), hist[:, 0]


@torch.no_grad()
def single_task_accuracy(model: nn.Module, task: PositionRetrieval, n: int, n_prompts: int = 2000,
                         seed: int = 0) -> float:
    """Argmax accuracy on single-task prompts with n demonstrations (every task equally often)."""
    g = make_generator(seed)
    j = torch.arange(n_prompts) % task.L
    u, xq = task.prompts(j[:, None].expand(n_prompts, n), g)
    return float((model(u)[0, :, -1].argmax(-1) == xq.gather(-1, j[:, None])[:, 0]).double().mean())


@torch.no_grad()
def mixture_probs(model: nn.Module, task: PositionRetrieval, tasks: Sequence[int], proportions, n: int,
                  n_prompts: int = 2000, seed: int = 0, temperature: float = 1.0) -> np.ndarray:
    """Probabilities of the M tasks' answers on ``n_prompts`` prompts of n demonstrations mixing ``tasks`` with
    ``proportions`` ({eq}`eq-ch18-share`): (n_prompts, M)."""
    u, answers = task.mixed(n_prompts, make_generator(seed), tasks, proportions, n)
    return answer_probs(model(u), answers, temperature)[0].numpy()


class MajorityVote(nn.Module):
    """A predictor that cannot mix: it finds each demonstration's task (the position of its answer in its
    string) and puts all probability on the query's symbol at the most frequent task (ties: the lowest
    position). Tokens (B, T, (L+1)K) -> logits (1, B, T, K) (finite: ``0`` or ``-1e4``)."""

    def __init__(self, L: int, K: int):
        super().__init__()
        self.L, self.K = validate.positive_int("L", L), validate.positive_int("K", K)

    def forward(self, u: torch.Tensor) -> torch.Tensor:
        B, T, _ = u.shape
        tok = u.reshape(B, T, self.L + 1, self.K)
        match = (tok[:, :-1, : self.L] * tok[:, :-1, self.L:]).sum(-1)          # (B, n, L): 1 at the demo's task
        votes = match.sum(1) + 1e-3 * torch.arange(self.L, 0, -1)               # ties -> lowest position
        j = votes.argmax(-1)
        answer = tok[:, -1, : self.L].argmax(-1).gather(-1, j[:, None])[:, 0]   # query symbol at position j
        logits = torch.full((1, B, T, self.K), -1e4)
        logits[0, torch.arange(B), -1, answer] = 0.0
        return logits


def _check_layer(model: VectorGPT, layer: int) -> int:
    return validate.int_in_range("layer", layer, 1, len(model.blocks))


@torch.no_grad()
def hidden_state(model: VectorGPT, u: torch.Tensor, layer: int) -> torch.Tensor:
    """Residual state at the last token right after the attention of block ``layer`` (1-based, before its MLP):
    tokens (B, T, d_in) -> (B, d_model)."""
    _check_layer(model, layer)
    out = {}
    hook = model.blocks[layer - 1].ln2.register_forward_pre_hook(lambda mod, inp: out.setdefault("h", inp[0]))
    try:
        model(u)
    finally:
        hook.remove()
    return out["h"][0, :, -1]


@torch.no_grad()
def patched_logits(model: VectorGPT, u: torch.Tensor, layer: int, delta: torch.Tensor) -> torch.Tensor:
    """Logits (1, B, T, K) with ``delta`` (d_model,) or (B, d_model) added to the last token's residual state right
    after the attention of block ``layer`` ({eq}`eq-ch18-patch`; the attention's output is shifted by delta)."""
    _check_layer(model, layer)

    def add(mod, inp, h):
        h = h.clone()
        h[:, :, -1] += delta
        return h

    hook = model.blocks[layer - 1].proj.register_forward_hook(add)
    try:
        return model(u)
    finally:
        hook.remove()


@torch.no_grad()
def task_vectors(model: VectorGPT, task: PositionRetrieval, layer: int, n: int, n_prompts: int = 1000,
                 seed: int = 0) -> torch.Tensor:
    """Task vectors ``v_j`` (L, d_model) ({eq}`eq-ch18-taskvec`): the mean residual state after the attention of
    block ``layer`` at the query token of single-task prompts of task j (n demonstrations), minus its mean on
    neutral prompts (n uninformative demonstrations, :meth:`PositionRetrieval.neutral`)."""
    g = make_generator(seed)
    zero = hidden_state(model, task.neutral(n_prompts, g, n)[0], layer).mean(0)
    out = []
    for j in range(task.L):
        u, _ = task.prompts(torch.full((n_prompts, n), j), g)
        out.append(hidden_state(model, u, layer).mean(0) - zero)
    return torch.stack(out)


@torch.no_grad()
def interpolation_probs(model: VectorGPT, task: PositionRetrieval, layer: int, v_a: torch.Tensor,
                        v_b: torch.Tensor, pair: tuple[int, int], lams: Sequence[float], n: int, n_prompts: int = 2000,
                        seed: int = 0) -> np.ndarray:
    """Probabilities of the two tasks' answers on neutral prompts (n uninformative demonstrations) patched with
    ``lam v_a + (1 - lam) v_b``: (len(lams), n_prompts, 2)."""
    u, xq = task.neutral(n_prompts, make_generator(seed), n)
    answers = xq[:, list(pair)]
    out = []
    for lam in lams:
        lam = validate.in_interval("lam", lam, 0.0, 1.0)
        out.append(answer_probs(patched_logits(model, u, layer, lam * v_a + (1 - lam) * v_b), answers)[0].numpy())
    return np.stack(out)

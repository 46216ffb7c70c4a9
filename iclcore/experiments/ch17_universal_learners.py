"""Drivers of Chapter 17 (auto-regressive next-token predictors are universal learners): train Malach's linear
and shallow-MLP next-token predictors on chain-of-thought data and measure them by **free generation**.
Imported only by the chapter (and its tests).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch

from iclcore import validate
from iclcore.models.linear_ar import LinearAR, complete
from iclcore.tasks.base import make_generator, stack
from iclcore.tasks.cot import PARITY_MODES, MultiplicationCoT, ParityCoT, answer_correct, split_pairs
from iclcore.tasks.recall import IGNORE, lm_loss, token_accuracy
from iclcore.train import Snapshot, fit


def adamw(weight_decay: float = 0.1):
    """AdamW with weight decay, as the official configs (a factory for :func:`iclcore.train.fit`)."""
    return lambda params, lr: torch.optim.AdamW(params, lr=lr, weight_decay=weight_decay)


def train_parity(n: int, modes: Sequence[str] = tuple(PARITY_MODES), train_modes: Sequence[str] | None = None, *,
                 steps: int = 300, batch_size: int = 512, lr: float = 0.05, mask: str = "causal", seed: int = 0,
                 snapshot_every: int | None = None, progress: bool = True):
    """One batched one-hot :class:`LinearAR` per CoT mode, trained on fresh parity sequences of n bits.

    ``train_modes`` (default ``modes``): the data each member is trained on (the break switch trains a CoT
    member on answer-only data). All members share the context of the longest mode. ``snapshot_every``: record
    each member's teacher-forced accuracy at every CoT position (on a fixed batch) every k steps.
    Returns ``(model, info)`` with ``info = {"L": padded length, "snapshots": Snapshot | None}``.
    """
    validate.positive_int("n", n)
    train_modes = list(modes) if train_modes is None else list(train_modes)
    if len(train_modes) != len(modes):
        raise ValueError(f"train_modes must have one entry per mode ({len(modes)}), got {len(train_modes)}")
    L = max(ParityCoT(n, m).seq_len for m in list(modes) + train_modes)
    data = stack({m: ParityCoT(n, tm, length=L) for m, tm in zip(modes, train_modes, strict=True)})
    model = LinearAR(3, L - 1, None, mask=mask, n_members=len(modes), seed=seed)
    snap = None
    if snapshot_every:
        probe = stack({m: ParityCoT(n, m, length=L) for m in modes})(512, make_generator(seed + 7))

        def per_position(mdl):
            x, y = probe
            hit = (mdl(x).argmax(-1) == y).float()
            return torch.where(y != IGNORE, hit, torch.nan)[..., n:].nanmean(1)   # (E, L - 1 - n)
        snap = Snapshot(per_position, every=snapshot_every)
    fit(model, data, steps=steps, lr=lr, batch_size=batch_size, loss=lm_loss, seed=seed + 1,
        callbacks=[snap] if snap else (), progress=progress, desc=f"parity n={n}")
    return model, {"L": L, "snapshots": snap}


def parity_scores(model: LinearAR, n: int, modes: Sequence[str], L: int, n_test: int = 1000,
                  seed: int = 0) -> dict[str, dict[str, float]]:
    """For each mode (member): ``answer`` = accuracy of the final answer under free (greedy) generation,
    ``teacher_forced`` = per-token accuracy of the CoT tokens when the true prefix is given."""
    out = {}
    for i, m in enumerate(modes):
        task = ParityCoT(n, m, length=L)
        seq = task.sequences(n_test, make_generator(seed + i))
        full = torch.nn.functional.pad(seq, (0, L - seq.shape[1]))
        gen = complete(model, full, task.question)[i]
        x, y = task(n_test, make_generator(seed + 100 + i))
        with torch.no_grad():
            tf = token_accuracy(model(x)[i:i + 1], y)
        out[m] = {"answer": answer_correct(gen[:, :task.seq_len], seq, 1).double().mean().item(),
                  "teacher_forced": tf.item(), "cot_tokens": task.cot}
    return out


def xor_per_token_bound(n: int) -> float:
    """Best teacher-forced per-token accuracy of a linear next-token predictor on the ``xor`` chain of n bits:
    z_1 = x_1 is free, every later z_k is the XOR of two free bits, of which a linear threshold gets at most
    3 of 4 right ({eq}`eq-ch17-xor-bound`): ``(1 + 3 (n - 1) / 4) / n``."""
    validate.positive_int("n", n)
    return (1 + 0.75 * (n - 1)) / n


def train_multiplication(modes: Sequence[str], digits_a: int = 2, digits_b: int = 2, *, d: int = 32,
                         steps: int = 500, batch_size: int = 128, lr: float = 3e-3, train_modes=None,
                         seed: int = 0, progress: bool = True) -> dict[str, dict[str, float]]:
    """Train one shallow-MLP :class:`LinearAR` per format on the training pairs and score exact match of the
    answer under free generation on the training and held-out pairs. ``train_modes``: the format each model is
    trained on (default: its own; the break switch removes the CoT). Returns
    ``{mode: {"train": acc, "held_out": acc, "cot_tokens": int, "T": int}}``."""
    train_modes = list(modes) if train_modes is None else list(train_modes)
    train_pairs, test_pairs = split_pairs(digits_a, digits_b)
    m = digits_a + digits_b
    out = {}
    for k, (mode, tmode) in enumerate(zip(modes, train_modes, strict=True)):
        task = MultiplicationCoT(train_pairs, digits_a, digits_b, tmode)
        model = LinearAR(12, task.seq_len - 1, d, mlp=True, seed=seed + 10 * k)
        fit(model, task, steps=steps, lr=lr, batch_size=batch_size, loss=lm_loss, optimizer=adamw(),
            seed=seed + 10 * k + 1, progress=progress, desc=f"multiplication ({mode})")
        scores = {}
        for name, pairs in [("train", train_pairs[:2000]), ("held_out", test_pairs)]:
            seq = task.sequences(pairs)
            scores[name] = answer_correct(complete(model, seq, task.question)[0], seq, m).double().mean().item()
        out[mode] = scores | {"cot_tokens": task.cot, "T": task.seq_len - 1}
    return out


def story_samples(model: LinearAR, vocab: Sequence[str], prompt: str, n_samples: int, temperature: float,
                  seed: int = 0) -> list[list[str]]:
    """``n_samples`` continuations of ``prompt`` (words of ``vocab``) sampled at ``temperature`` to fill the
    model's context; returns lists of words."""
    ids = [list(vocab).index(w) for w in prompt.split()]
    seq = torch.zeros(n_samples, model.T + 1, dtype=torch.long)
    seq[:, :len(ids)] = torch.tensor(ids)
    gen = complete(model, seq, len(ids), temperature=temperature, generator=make_generator(seed))[0]
    return [[vocab[int(i)] for i in row] for row in gen]


def parity_curve(snap: Snapshot, n: int, modes: Sequence[str]) -> dict[str, np.ndarray]:
    """Snapshots of :func:`train_parity` -> {mode: (R, positions) per-position accuracy (NaN where the mode
    writes nothing)}."""
    vals = snap.values
    return {m: vals[:, i] for i, m in enumerate(modes)}

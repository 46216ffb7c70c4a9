"""Bad input of Chapter 17 (auto-regressive universal learners): the linear next-token predictor, decoding,
the chain-of-thought tasks, the story judges and the chapter's drivers."""

import numpy as np
import torch

from iclcore.experiments.ch17_universal_learners import train_parity, xor_per_token_bound
from iclcore.models import LinearAR, block_mask, complete
from iclcore.tasks import (
    MultiplicationCoT,
    ParityCoT,
    answer_correct,
    multiplication_sequences,
    ngram_cross_entropy,
    parity_sequences,
    split_pairs,
)
from iclcore.tasks.cot import mult_cot_length, next_token_pairs, parity_cot_length

_model = LinearAR(3, 4, None)
_seq = torch.zeros(2, 5, dtype=torch.long)

CASES = [
    (block_mask, (0, 2), {}, "T"),
    (block_mask, (3, 2), {"mask": "upper"}, "mask"),
    (LinearAR, (1, 4), {}, "V"),
    (LinearAR, (3, 0), {}, "T"),
    (LinearAR, (3, 4, 0), {}, "d"),
    (LinearAR, (3, 4, None), {"mlp": True}, "mlp"),
    (LinearAR, (3, 4, 2), {"mask": "future"}, "mask"),
    (LinearAR, (3, 4), {"n_members": 0}, "n_members"),
    (_model, (torch.zeros(2, 5, dtype=torch.long),), {}, "tokens"),
    (_model, (torch.full((2, 4), 3),), {}, "tokens"),
    (complete, (_model, torch.zeros(2, 4, dtype=torch.long), 1), {}, "tokens"),
    (complete, (_model, _seq, 0), {}, "start"),
    (complete, (_model, _seq, 1), {"temperature": -1.0}, "temperature"),
    (complete, (_model, _seq, 1), {"temperature": 0.5}, "generator"),
    (parity_cot_length, (0, "xor"), {}, "n"),
    (parity_cot_length, (3, "cot"), {}, "mode"),
    (parity_sequences, (torch.full((2, 3), 2), "xor"), {}, "bits"),
    (ParityCoT, (0, "gates"), {}, "n"),
    (ParityCoT, (4, "gates"), {"length": 10}, "length"),          # the CoT (3n = 12 tokens) does not fit
    (ParityCoT(3, "xor").sequences, (0, torch.Generator()), {}, "batch_size"),
    (next_token_pairs, (_seq, 2, 3), {}, "length"),
    (mult_cot_length, (0, 2, "direct"), {}, "digits_a"),
    (mult_cot_length, (2, 0, "direct"), {}, "digits_b"),
    (mult_cot_length, (2, 2, "long"), {}, "mode"),
    (multiplication_sequences, (torch.tensor([100]), torch.tensor([3]), 2, 1, "direct"), {}, "digits_a"),
    (split_pairs, (5, 1), {}, "digits_a"),
    (split_pairs, (1, 1), {"held_out": 1.5}, "held_out"),
    (MultiplicationCoT, (torch.zeros(3), 1, 1, "direct"), {}, "pairs"),
    (MultiplicationCoT, (torch.zeros(3, 2), 1, 1, "running"), {"length": 4}, "length"),
    (answer_correct, (_seq, _seq, 0), {}, "width"),
    (answer_correct, (_seq[:, :3], _seq, 1), {}, "generated"),
    (ngram_cross_entropy, (np.zeros(10, int), np.zeros(10, int), 3), {"order": 4}, "order"),
    (ngram_cross_entropy, (np.zeros(10, int), np.full(10, 5), 3), {}, "test"),
    (xor_per_token_bound, (0,), {}, "n"),
    (train_parity, (4, ["xor", "gates"], ["none"]), {}, "train_modes"),
]

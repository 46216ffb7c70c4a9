"""Bad input of "Dissecting chain-of-thought": the MLP task, its loss, the CoT model, references, drivers."""

import numpy as np
import torch

from iclcore.experiments.ch16_dissecting_cot import filtering_mass, steps_to_reach, thought_risk
from iclcore.models.cot_gpt import CoTGPT
from iclcore.tasks.mlp_regression import ChainLoss, MLPRegression
from iclcore.theory.cot import identified_probability, linear_floor, stepwise_least_squares

_task = MLPRegression(2, 2, 4)
_P = torch.zeros(3, 4, 5)
_cot = CoTGPT(2, 2, 4, d_model=8, n_heads=2)
_icl = CoTGPT(2, 2, 4, cot=False, d_model=8, n_heads=2)

CASES = [
    (MLPRegression, (0, 2, 4), {}, "d"),
    (MLPRegression, (2, 0, 4), {}, "m"),
    (MLPRegression, (2, 2, 0), {}, "n"),
    (MLPRegression, (2, 2, 4), {"act": "sigmoid"}, "act"),
    (_task, (0, torch.Generator()), {}, "batch_size"),
    (_task.split, (torch.zeros(3, 4, 4),), {}, "P"),
    (ChainLoss, (2, 0), {}, "m"),
    (ChainLoss, (2, 2), {"thoughts": -1.0}, "thoughts"),
    (ChainLoss(2, 2), (torch.zeros(1, 3, 4, 2), _P), {}, "pred"),
    (CoTGPT, (0, 2, 4), {}, "d"),
    (CoTGPT, (2, 0, 4), {}, "m"),
    (CoTGPT, (2, 2, 0), {}, "n"),
    (_cot, (torch.zeros(3, 4, 4),), {}, "P"),              # a thought shorter than m
    (_cot, (torch.zeros(3, 5, 5),), {}, "P"),              # more examples than the model was built for
    (_cot.generate, (torch.zeros(3, 4, 6),), {}, "P"),
    (linear_floor, ("tanh",), {}, "act"),
    (identified_probability, (0, 3), {}, "d"),
    (identified_probability, (2, -1), {}, "k"),
    (stepwise_least_squares, (torch.zeros(3, 4, 2), torch.zeros(3, 5, 2), torch.zeros(3, 4)), {}, "X, H, y"),
    (thought_risk, (_icl, _task), {}, "model"),
    (filtering_mass, (_cot, _P, "z", "y"), {}, "query"),
    (filtering_mass, (_icl, _P, "x", "h"), {}, "key"),
    (filtering_mass, (_cot, _P, "h", "y"), {"skip_first": 4}, "skip_first"),
    (steps_to_reach, (np.ones(10), 0.3), {"window": 50}, "history"),
    (steps_to_reach, (np.ones(100), 0.3), {"window": 0}, "window"),
]

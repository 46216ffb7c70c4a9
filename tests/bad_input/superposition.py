"""Bad input of the task-superposition chapter's code: proportions, samplers, read-outs, task-vector sites."""

import torch

from iclcore.experiments.ch18_task_superposition import hidden_state, patched_logits
from iclcore.models import VectorGPT
from iclcore.tasks import PositionRetrieval, answer_probs, make_generator, task_counts

G = make_generator(0)
TASK = PositionRetrieval(3, 6)
MODEL = VectorGPT(24, 6, d_model=8, n_layers=2, n_heads=2, max_len=9)
U = torch.zeros(2, 3, 24)

CASES = [
    (task_counts, ((-0.2, 1.2), 5), {}, "proportions"),
    (task_counts, ((0.3, 0.3), 5), {}, "proportions"),
    (task_counts, ((0.5, 0.5), 0), {}, "n"),
    (TASK.mixed, (4, G, (0, 2), (0.7, 0.7), 6), {}, "proportions"),
    (TASK.mixed, (4, G, (0, 2), (-0.5, 1.5), 6), {}, "proportions"),
    (TASK.mixed, (4, G, (0, 2), (1.0,), 6), {}, "proportions"),
    (TASK.mixed, (4, G, (0, 0), (0.5, 0.5), 6), {}, "tasks"),
    (PositionRetrieval, (1, 6), {}, "L"),
    (PositionRetrieval, (4, 3), {}, "K"),
    (PositionRetrieval, (3, 6, (0, 4)), {}, "n_range"),
    (answer_probs, (torch.zeros(1, 2, 3, 6), torch.zeros(2, 1, dtype=torch.long)), {"temperature": 0.0},
     "temperature"),
    (hidden_state, (MODEL, U, 3), {}, "layer"),
    (patched_logits, (MODEL, U, 0, torch.zeros(8)), {}, "layer"),
]

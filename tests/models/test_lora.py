"""LoRA, LoRA on linear attention's score matrix, and per-member rank masks."""

import numpy as np
import torch

from iclcore.models import LinearAttention, LoRA, LoRAAttention, mask_factor_rank
from iclcore.tasks import LinearRegression, make_generator, stack
from iclcore.train import fit


def test_lora_starts_at_base_and_respects_ranks():
    base = torch.randn(3, 5, 4, generator=make_generator(0))
    lora = LoRA(base, rank=[0, 1, 3], seed=1)
    torch.testing.assert_close(lora(), base)
    with torch.no_grad():
        lora.U.normal_(generator=make_generator(2))
    assert [torch.linalg.matrix_rank(dw).item() for dw in lora.delta()] == [0, 1, 3]
    assert LoRA(torch.zeros(5, 4), rank=2)().shape == (1, 5, 4)


def test_lora_attention_equals_base_at_start_and_adapts_only_the_score():
    base = LinearAttention(5, seed=2)
    Z, _ = LinearRegression(4, 6)(7, make_generator(3))
    adapted = LoRAAttention(base, rank=[0, 2])
    torch.testing.assert_close(adapted(Z), base(Z).expand(2, -1))
    torch.testing.assert_close(adapted.effective_preconditioner(), base.effective_preconditioner().expand(2, -1, -1))
    assert {n for n, p in adapted.named_parameters()} == {"score.U", "score.V"}


def test_lora_attention_adapts_one_member_of_an_ensemble():
    base = LinearAttention(5, n_members=3, value="label", seed=4)
    Z, _ = LinearRegression(4, 6)(5, make_generator(5))
    adapted = LoRAAttention(base, rank=[0, 1], member=2)
    torch.testing.assert_close(adapted(Z), base(Z)[2:].expand(2, -1))


def test_lora_training_moves_only_the_adapted_members():
    base = LinearAttention(4, value="label", seed=6)
    adapted = LoRAAttention(base, rank=[0, 2], seed=7)
    task = stack({"frozen": LinearRegression(3, 6), "rank 2": LinearRegression(3, 6, Sigma_beta=4 * np.eye(3))})
    fit(adapted, task, steps=30, batch_size=64, progress=False)
    delta = adapted.score.delta()
    assert torch.count_nonzero(delta[0]) == 0 and torch.linalg.matrix_rank(delta[1]).item() == 2


def test_mask_factor_rank_keeps_ranks_through_training():
    d = 4
    model = mask_factor_rank(LinearAttention(d + 1, n_members=3, seed=1), [1, 2, 5])
    fit(model, stack([LinearRegression(d, 8)] * 3), steps=30, batch_size=64, progress=False)
    assert [torch.linalg.matrix_rank(A).item() for A in model.score_matrix()] == [1, 2, 5]

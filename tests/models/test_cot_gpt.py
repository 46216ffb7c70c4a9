"""CoTGPT: token layout, causality (no prediction sees its own target), generation, attention maps."""

import torch

from iclcore.models.cot_gpt import CoTGPT
from iclcore.models.vector_gpt import VectorGPT
from iclcore.tasks.base import make_generator
from iclcore.tasks.mlp_regression import MLPRegression

D, M, N = 2, 3, 4
TASK = MLPRegression(D, M, N)


def _prompt():
    return TASK(3, make_generator(0))[0]


def test_tokens_hold_each_step_and_the_previous_one():
    model = CoTGPT(D, M, N, d_model=8)
    P = _prompt()
    tok = model.tokens(P)
    C = D + M + 1
    assert tok.shape == (3, 3 * N, 2 * C + 3)
    X, H, y = TASK.split(P)
    torch.testing.assert_close(tok[:, 1, D: D + M], H[:, 0])                 # h_1 token: h_1 in its slot
    torch.testing.assert_close(tok[:, 1, C: C + D], X[:, 0])                 # ... and x_1 as the previous step
    torch.testing.assert_close(tok[:, 2, C - 1], y[:, 0])                    # y_1 token: y_1
    torch.testing.assert_close(tok[:, 2, C + D: C + D + M], H[:, 0])         # ... and h_1
    assert tok[:, 0::3, -3].eq(1).all() and tok[:, 1::3, -2].eq(1).all() and tok[:, 2::3, -1].eq(1).all()
    icl = CoTGPT(D, M, N, cot=False, d_model=8).tokens(P)
    assert icl.shape == (3, 2 * N, 2 * C + 3) and icl[..., D: D + M].eq(0).all()
    assert not CoTGPT(D, M, N, pair=False, d_model=8).tokens(P)[..., C: 2 * C].any()


def test_no_prediction_sees_its_target():
    """Changing y_i (or h_i) must not change the prediction of y_i (of h_i), for both formats."""
    for cot in (True, False):
        model = CoTGPT(D, M, N, cot=cot, d_model=8, n_layers=2, seed=3)
        P = _prompt()
        base = model(P)
        for i in range(N):
            Q = P.clone()
            Q[:, i, -1] += 5.0
            out = model(Q)
            torch.testing.assert_close(out[..., i, M], base[..., i, M])
            torch.testing.assert_close(out[..., :i, :], base[..., :i, :])
            if cot:
                Q = P.clone()
                Q[:, i, D: D + M] += 5.0
                torch.testing.assert_close(model(Q)[..., i, :M], base[..., i, :M])


def test_generate_uses_the_models_own_thought():
    model = CoTGPT(D, M, N, d_model=8, n_members=2, seed=1)
    P = _prompt()
    gen = model.generate(P)
    assert gen.shape == (2, 3, N)
    k = 2                                          # by hand: write h_hat_{k+1} into the query's h-token
    prefix = P[:, : k + 1].clone().expand(2, 3, k + 1, D + M + 1).clone()
    prefix[..., k, D: D + M] = model(prefix)[..., k, :M]
    torch.testing.assert_close(gen[..., k], model(prefix)[..., k, M])
    icl = CoTGPT(D, M, N, cot=False, d_model=8)
    torch.testing.assert_close(icl.generate(P), icl(P)[..., M])


def test_attention_maps_are_causal_and_match_the_forward_pass():
    model = CoTGPT(D, M, N, d_model=8, n_layers=2, n_heads=2, n_members=2)
    maps = model.attention_maps(_prompt())
    assert len(maps) == 2 and maps[0].shape == (2, 3, 2, 3 * N, 3 * N)
    torch.testing.assert_close(maps[0].sum(-1), torch.ones(2, 3, 2, 3 * N))
    assert maps[0].triu(1).abs().max() == 0
    # the weights reproduce the block's attention output
    gpt: VectorGPT = model.gpt
    u = model.tokens(_prompt()).unsqueeze(0).expand(2, -1, -1, -1)
    h = gpt.read_in(u) + gpt.pos[:, :, : u.shape[-2]]
    block = gpt.blocks[0]
    E, B, T, Dm = h.shape
    v = block.qkv(block.ln1(h)).reshape(E, B, T, 3, 2, Dm // 2)[..., 2, :, :].permute(0, 1, 3, 2, 4)
    mixed = (maps[0] @ v).transpose(2, 3).reshape(E, B, T, Dm)
    torch.testing.assert_close(block.proj(mixed), block.attend(block.ln1(h)), atol=1e-5, rtol=1e-4)

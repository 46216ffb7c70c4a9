import pytest
import torch

from iclcore.models import (
    BilinearSoftmax,
    CausalSelfAttention,
    ModelStack,
    NeedleAttention,
    SelectiveAttention,
    TinyGPT,
    lm_loss,
)
from iclcore.models.attention import PositionTemperature, TokenTemperature, ValueTemperature, rope
from iclcore.tasks import NeedleRetrieval, make_generator


@pytest.mark.parametrize("cls, kwargs", [
    (CausalSelfAttention, {}), (CausalSelfAttention, {"rope": True}),
    (SelectiveAttention, {}), (SelectiveAttention, {"value_temp": True, "rope": True}),
])
def test_attention_interface_shapes_and_causality(cls, kwargs):
    torch.manual_seed(0)
    attn = cls(16, 4, **kwargs)
    h = torch.randn(3, 9, 16)
    out = attn(h)
    assert out.shape == h.shape
    h2 = h.clone()
    h2[:, 5:] = torch.randn(3, 4, 16)           # the future must not change the past
    torch.testing.assert_close(attn(h2)[:, :5], out[:, :5])
    a = attn.attention_map(h)
    assert a.shape == (3, 4, 9, 9)
    torch.testing.assert_close(a.sum(-1), torch.ones(3, 4, 9))
    assert torch.all(a.triu(1) == 0)


def test_forward_equals_attention_map_times_values():
    torch.manual_seed(1)
    attn = SelectiveAttention(12, 3, value_temp=True)
    for p in attn.parameters():                 # move the temperatures away from 1
        p.data.add_(0.3 * torch.randn_like(p))
    h = torch.randn(2, 7, 12)
    _, _, v = attn._qkv(h)
    manual = attn.proj((attn.attention_map(h) @ v).transpose(1, 2).reshape(h.shape))
    torch.testing.assert_close(attn(h), manual)


def test_ssa_starts_as_vanilla_and_temperatures_are_one():
    torch.manual_seed(2)
    van = CausalSelfAttention(8, 2)
    ssa = SelectiveAttention(8, 2, value_temp=True, pos_temp=False)
    ssa.load_state_dict(van.state_dict(), strict=False)
    h = torch.randn(2, 5, 8)
    torch.testing.assert_close(ssa(h), van(h))
    torch.testing.assert_close(ssa.query_temperature(h), torch.ones(2, 2, 5))
    torch.testing.assert_close(ssa.value_temperature(h), torch.ones(2, 2, 5))


def test_temperature_formulas():
    tok = TokenTemperature(3, 2)
    torch.testing.assert_close(tok(torch.randn(4, 6, 3)), torch.ones(4, 2, 6))
    pos = PositionTemperature(2, slope=0.5, learn=False)
    torch.testing.assert_close(pos(torch.tensor([1.0, 8.0])), torch.tensor([[1.0, 1 + 0.5 * 2.0794415]] * 2))
    assert not any(p.requires_grad for p in pos.parameters())
    val = ValueTemperature(3, 1)
    val.c.data.fill_(10.0)
    assert torch.all(val(torch.zeros(1, 2, 3)) > 1.99)
    ssa = SelectiveAttention(4, 1, token_temp=False, pos_slope=0.5)
    tau = ssa.query_temperature(torch.zeros(1, 4, 4))[0, 0]
    torch.testing.assert_close(tau, 1 + 0.5 * torch.log(torch.arange(1.0, 5.0)))


def test_rope_preserves_norm_and_is_relative():
    q, k = torch.randn(1, 6, 8), torch.randn(1, 6, 8)
    torch.testing.assert_close(rope(q).norm(dim=-1), q.norm(dim=-1))
    # the score of (i, j) depends on i - j only: shift both sequences by one position
    s = rope(q) @ rope(k).transpose(-1, -2)
    q2, k2 = torch.cat([torch.zeros(1, 1, 8), q], 1), torch.cat([torch.zeros(1, 1, 8), k], 1)
    s2 = rope(q2) @ rope(k2).transpose(-1, -2)
    torch.testing.assert_close(s2[:, 1:, 1:], s, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("attention", ["vanilla", "ssa", lambda d, h: CausalSelfAttention(d, h)])
@pytest.mark.parametrize("pos", ["learned", "none"])
def test_tinygpt_shapes_causality_and_determinism(attention, pos):
    idx = torch.randint(0, 30, (2, 12), generator=make_generator(0))
    m = TinyGPT(30, 16, 2, 2, 32, attention=attention, pos_encoding=pos, seed=3)
    out = m(idx)
    assert out.shape == (2, 12, 30)
    idx2 = idx.clone()
    idx2[:, 8:] = 0
    torch.testing.assert_close(m(idx2)[:, :8], out[:, :8])
    torch.testing.assert_close(TinyGPT(30, 16, 2, 2, 32, attention=attention, pos_encoding=pos, seed=3)(idx), out)
    assert len(m.attention_maps(idx)) == 2 and m.attention_maps(idx)[0].shape == (2, 2, 12, 12)
    assert lm_loss(out, idx).shape == (1,)


def test_tinygpt_leaves_global_rng_alone():
    torch.manual_seed(5)
    a = torch.rand(1)
    torch.manual_seed(5)
    TinyGPT(10, 8, 1, 2, 8, seed=9)
    assert torch.rand(1) == a


def test_ssa_gpt_has_few_extra_parameters():
    van = sum(p.numel() for p in TinyGPT(100, 64, 2, 4, 128).parameters())
    ssa = sum(p.numel() for p in TinyGPT(100, 64, 2, 4, 128, attention="ssa").parameters())
    assert 0 < ssa - van < 0.01 * van


def test_lm_loss_is_cross_entropy_and_trains():
    logits = torch.randn(2, 5, 7)
    targets = torch.randint(0, 7, (2, 5))
    ref = torch.nn.functional.cross_entropy(logits.reshape(-1, 7), targets.reshape(-1))
    torch.testing.assert_close(lm_loss(logits, targets)[0], ref)
    targets[0, 0] = -100
    assert torch.isfinite(lm_loss(logits, targets)).all()


def test_bilinear_softmax_represents_tempered_rows():
    X = torch.nn.functional.normalize(torch.randn(6, 3, dtype=torch.float64), dim=-1)
    m = BilinearSoftmax(3, token_temp=True).double()
    logp = m(X)
    torch.testing.assert_close(logp.exp().sum(-1), torch.ones(6, dtype=torch.float64))
    tau = m.temperature(X)
    torch.testing.assert_close(logp, torch.log_softmax(tau[:, None] * (X @ m.W @ X.T), -1))
    assert BilinearSoftmax(3, token_temp=False).temperature(X).eq(1).all()
    assert m.normalized_weight_norm(X) == pytest.approx(m.W.norm().item())   # tau = 1 at init


def test_needle_attention_and_geometry():
    task = NeedleRetrieval(8, 20, noise=0.0)
    Z, y, t = task.sample(5, make_generator(0))
    m = NeedleAttention(8, pos_temp=True, pos_slope=0.3)
    assert m(Z).shape == (5,)
    assert m.temperature(20) == pytest.approx(1 + 0.3 * torch.log(torch.tensor(20.0)).item(), rel=1e-5)
    s = m.scores(Z) / m.temperature(20)
    target_logit, kappa = m.query_geometry(Z, t)
    torch.testing.assert_close(s[torch.arange(5), t], target_logit)
    assert torch.all(kappa >= s.abs().max(-1).values - 1e-5)       # |w^T x| <= ||w|| for unit keys
    stack = ModelStack([m, NeedleAttention(8, pos_temp=False)])
    assert stack(Z).shape == (2, 5)


@pytest.mark.parametrize("call, match", [
    (lambda: CausalSelfAttention(10, 3), "divisible"),
    (lambda: CausalSelfAttention(0, 1), "d_model must be"),
    (lambda: CausalSelfAttention(6, 2, rope=True), "even head size"),
    (lambda: CausalSelfAttention(8, 2)(torch.zeros(2, 3, 5)), "h must have shape"),
    (lambda: PositionTemperature(1, slope=0.0), "slope must be"),
    (lambda: TinyGPT(10, 8, 1, 2, 8, attention="mamba"), "attention must be"),
    (lambda: TinyGPT(10, 8, 1, 2, 8, pos_encoding="alibi"), "pos_encoding must be"),
    (lambda: TinyGPT(10, 8, 1, 2, 8, attention=lambda d, h: CausalSelfAttention(d, h), pos_encoding="rope"),
     "built-in attention only"),
    (lambda: TinyGPT(10, 8, 1, 2, 8)(torch.zeros(1, 9, dtype=torch.long)), "max_len"),
    (lambda: NeedleAttention(4, pos_temp=False)(torch.zeros(2, 3, 4)), "Z must have shape"),
    (lambda: ModelStack([]), "at least one model"),
])
def test_bad_input_raises(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_needle_report_matches_theory_for_an_ideal_model():
    """W_q = W_k = sqrt(d) * 3 I: logit 9 x_q^T x_j; the spherical closed form should track the measurement."""
    from iclcore.models import needle_report
    d = 8
    m = NeedleAttention(d, pos_temp=False)
    with torch.no_grad():
        m.W_q.copy_(3 * d**0.25 * torch.eye(d))
        m.W_k.copy_(3 * d**0.25 * torch.eye(d))
    r = needle_report(m, [16, 128], noise=0.0, n_prompts=500)
    assert set(r) == {"mass", "mass_theory", "mass_equal", "mse", "tau"}
    assert r["mass"][0] > r["mass"][1]                              # dilution
    assert abs(r["mass"] - r["mass_theory"]).max() < 0.03
    assert r["mass_equal"][1] > r["mass"][1] + 0.05                 # the naive formula is too optimistic
    with pytest.raises(ValueError, match="ns must hold"):
        needle_report(m, [1, 8])

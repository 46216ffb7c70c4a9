import pytest
import torch

from iclcore.models import BilinearSoftmax, CausalSelfAttention, Ensemble, NeedleAttention, SelectiveAttention
from iclcore.models.selective_attention import PositionTemperature, TokenTemperature, ValueTemperature, rope
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


def test_ssa_without_position_part_starts_exactly_as_vanilla():
    torch.manual_seed(2)
    van = CausalSelfAttention(8, 2)
    ssa = SelectiveAttention(8, 2, value_temp=True, pos_temp=False)
    ssa.load_state_dict(van.state_dict(), strict=False)
    h = torch.randn(2, 5, 8)
    torch.testing.assert_close(ssa(h), van(h))
    torch.testing.assert_close(ssa.query_temperature(h), torch.ones(2, 2, 5))
    torch.testing.assert_close(ssa.value_temperature(h), torch.ones(2, 2, 5))


def test_position_part_starts_at_its_initial_slope_not_at_one():
    """The docstring's promise: token and value temperatures start at 1, the position factor at 1 + c log i."""
    ssa = SelectiveAttention(8, 2, value_temp=True)                 # default pos_slope = 0.1
    inv_temp = ssa.query_temperature(torch.randn(1, 6, 8))[0]
    torch.testing.assert_close(inv_temp, (1 + 0.1 * torch.log(torch.arange(1.0, 7.0))).expand(2, 6))
    assert inv_temp[0, 0] == 1.0 and inv_temp[0, -1] > 1.1


def test_temperature_formulas():
    tok = TokenTemperature(3, 2)
    torch.testing.assert_close(tok(torch.randn(4, 6, 3)), torch.ones(4, 2, 6))
    tok.u.data.fill_(1.0)
    x = torch.tensor([[[0.5, 0.0, 0.0]]])
    expected = torch.nn.functional.softplus(torch.tensor(0.5 + tok.c[0].item())) / 1.0
    torch.testing.assert_close(tok(x)[0, :, 0], expected.expand(2))
    pos = PositionTemperature(2, slope=0.5, learn=False)
    torch.testing.assert_close(pos(torch.tensor([1.0, 8.0])), torch.tensor([[1.0, 1 + 0.5 * 2.0794415]] * 2))
    assert not any(p.requires_grad for p in pos.parameters())
    val = ValueTemperature(3, 1)
    val.c.data.fill_(10.0)
    assert torch.all(val(torch.zeros(1, 2, 3)) > 1.99)
    ssa = SelectiveAttention(4, 1, token_temp=False, pos_slope=0.5)
    inv_temp = ssa.query_temperature(torch.zeros(1, 4, 4))[0, 0]
    torch.testing.assert_close(inv_temp, 1 + 0.5 * torch.log(torch.arange(1.0, 5.0)))


def test_rope_preserves_norm_and_is_relative():
    q, k = torch.randn(1, 6, 8), torch.randn(1, 6, 8)
    torch.testing.assert_close(rope(q).norm(dim=-1), q.norm(dim=-1))
    # the score of (i, j) depends on i - j only: shift both sequences by one position
    s = rope(q) @ rope(k).transpose(-1, -2)
    q2, k2 = torch.cat([torch.zeros(1, 1, 8), q], 1), torch.cat([torch.zeros(1, 1, 8), k], 1)
    s2 = rope(q2) @ rope(k2).transpose(-1, -2)
    torch.testing.assert_close(s2[:, 1:, 1:], s, atol=1e-5, rtol=1e-5)


def test_bilinear_softmax_represents_tempered_rows_and_the_normalised_norm_is_scale_free():
    X = torch.nn.functional.normalize(torch.randn(6, 3, dtype=torch.float64), dim=-1)
    m = BilinearSoftmax(3, token_temp=True).double()
    logp = m(X)
    torch.testing.assert_close(logp.exp().sum(-1), torch.ones(6, dtype=torch.float64))
    inv_temp = m.temperature(X)
    torch.testing.assert_close(logp, torch.log_softmax(inv_temp[:, None] * (X @ m.W @ X.T), -1))
    assert BilinearSoftmax(3, token_temp=False).temperature(X).eq(1).all()
    assert m.normalized_weight_norm(X).item() == pytest.approx(m.W.norm().item())   # inv_temp = 1 at init
    # move a factor 3 from W into the temperature (u = 0: inv_temp is the constant softplus(c) / softplus(c_0))
    before, norm_before, raw_before = m(X), m.normalized_weight_norm(X).item(), m.W.norm().item()
    with torch.no_grad():
        target = 3 * torch.nn.functional.softplus(m.inv_temp.c)                  # inv_temp = 3
        m.inv_temp.c.copy_(target + torch.log(-torch.expm1(-target)))           # softplus^-1
        m.W.div_(3.0)
    torch.testing.assert_close(m.temperature(X), torch.full((6,), 3.0, dtype=torch.float64))
    torch.testing.assert_close(m(X), before)                                # the same model ...
    assert m.W.norm().item() == pytest.approx(raw_before / 3)             # ... a third of the raw norm ...
    assert m.normalized_weight_norm(X).item() == pytest.approx(norm_before)  # ... the same normalised norm


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
    pair = Ensemble({"SSA": m, "vanilla": NeedleAttention(8, pos_temp=False)})
    assert pair(Z).shape == (2, 5)


def test_needle_value_temperature_scales_each_value():
    Z, _ = NeedleRetrieval(4, 6, noise=0.0)(3, make_generator(1))
    plain = NeedleAttention(4, pos_temp=False, seed=2)
    gated = NeedleAttention(4, pos_temp=False, seed=2, value_temp=True)
    torch.testing.assert_close(gated(Z), plain(Z))                  # inv_temp_v = 1 at init
    with torch.no_grad():
        gated.inv_temp_v.u.fill_(1.0)
    scale = 2 * torch.sigmoid(Z[:, :-1, :-1].sum(-1))
    torch.testing.assert_close(gated.value_scale(Z), scale)
    torch.testing.assert_close(gated(Z), (plain.attention_map(Z) * scale * Z[:, :-1, -1]).sum(-1))

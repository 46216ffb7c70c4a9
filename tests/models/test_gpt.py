import pytest
import torch

from iclcore.models import CausalSelfAttention, TinyGPT
from iclcore.tasks import lm_loss, make_generator
from iclcore.train import fit


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
    attn, h = m.first_attention(idx)
    assert attn is m.blocks[0].attn and h.shape == (2, 12, 16)


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


def test_ssa_gpt_without_temperatures_is_the_vanilla_gpt():
    idx = torch.randint(0, 20, (3, 10), generator=make_generator(1))
    van = TinyGPT(20, 16, 2, 2, 16, seed=4)
    ssa = TinyGPT(20, 16, 2, 2, 16, attention="ssa", attn_kwargs=dict(token_temp=False, pos_temp=False), seed=4)
    torch.testing.assert_close(ssa(idx), van(idx))


@pytest.mark.parametrize("attention", ["vanilla", "ssa"])
def test_tinygpt_learns_a_rule_that_needs_attention(attention):
    """Predict the first token of the sequence at every position: impossible without attending back to it.
    A trained model gets it right; the untrained one is at chance (1/8)."""
    def sample(batch_size, generator):
        first = torch.randint(0, 8, (batch_size, 1), generator=generator)
        idx = torch.cat([first, torch.randint(8, 16, (batch_size, 7), generator=generator)], dim=1)
        return idx, first.expand(-1, 8)

    model = TinyGPT(16, 16, 1, 2, 8, attention=attention, seed=0)
    idx, targets = sample(512, make_generator(1))
    acc = lambda: (model(idx).argmax(-1) == targets).float().mean().item()  # noqa: E731
    assert acc() < 0.3
    history = fit(model, sample, steps=150, lr=1e-2, batch_size=64, loss=lm_loss, seed=2, progress=False)
    assert history.shape == (150, 1) and history[-10:].mean() < 0.1 * history[:10].mean()
    assert acc() > 0.95

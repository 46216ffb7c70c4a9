import math

import torch

from iclcore.models import CAT, CATAttention, CausalConv1d, TinyGPT, cat_block
from iclcore.models.sequence_ops import causal_conv
from iclcore.tasks import Copying, make_generator


def test_causal_conv1d_known_values_and_causality():
    conv = CausalConv1d(d=2, window=3)
    with torch.no_grad():
        conv.weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.0, 10.0]]))  # ch 0: identity, ch 1: lags 1, 2
    h = torch.arange(1.0, 5.0).repeat(2, 1).T.unsqueeze(0)                        # tokens 1, 2, 3, 4 on both
    out = conv(h)[0]
    torch.testing.assert_close(out[:, 0], torch.tensor([1.0, 2.0, 3.0, 4.0]))
    torch.testing.assert_close(out[:, 1], torch.tensor([0.0, 1.0, 2.0 + 10.0, 3.0 + 20.0]))
    x = torch.randn(3, 7, 4)
    conv = CausalConv1d(4, window=3, one_dim=True)
    assert conv.weight.shape == (3, 1)
    y = x.clone()
    y[:, 5:] = torch.randn(3, 2, 4)                                               # change the future only
    torch.testing.assert_close(conv(x)[:, :5], conv(y)[:, :5])


def test_causal_conv1d_is_the_shared_causal_convolution():
    conv = CausalConv1d(5, window=4)
    h = torch.randn(2, 9, 5)
    torch.testing.assert_close(conv(h), causal_conv(h, conv.weight))


def test_cat_attention_interface_causality_and_vanilla_limit():
    torch.manual_seed(0)
    attn = CATAttention(d_model=8, n_heads=2, window=3)
    h = torch.randn(4, 6, 8)
    assert attn(h).shape == (4, 6, 8)
    a = attn.attention_map(h)
    assert a.shape == (4, 2, 6, 6)
    torch.testing.assert_close(a.sum(-1), torch.ones(4, 2, 6))
    assert torch.all(a.triu(1) == 0)
    g = h.clone()
    g[:, 4:] += 1.0
    torch.testing.assert_close(attn(h)[:, :4], attn(g)[:, :4])
    plain = CATAttention(8, 1, conv_on="")                                        # no convolution
    q, k, v = plain.W_q(h), plain.W_k(h), plain.W_v(h)
    mask = torch.ones(6, 6, dtype=torch.bool).tril()
    ref = ((q @ k.transpose(1, 2) / math.sqrt(8)).masked_fill(~mask, -torch.inf).softmax(-1) @ v)
    torch.testing.assert_close(plain(h), plain.W_o(ref))


def test_a_shift_filter_on_the_keys_scores_the_previous_token():
    """With f_k = shift by one, the key at s is h_{s-1}: the score of (t, s) is q_t . W h_{s-1}."""
    attn = CATAttention(4, 1, window=2, conv_on="k")
    with torch.no_grad():
        attn.convs["k"].weight.copy_(torch.tensor([[0.0] * 4, [1.0] * 4]))
        attn.W_q.weight.copy_(torch.eye(4))
        attn.W_k.weight.copy_(torch.eye(4))
    h = torch.eye(4)[[0, 1, 2, 1]].unsqueeze(0)                                   # tokens a b c b
    s = attn.scores(h)[0, 0] * 2.0                                                # undo 1/sqrt(4)
    assert s[3, 2].item() == 1.0 and s[3, 3].item() == 0.0                        # c is preceded by b
    assert s[3, 0].item() == 0.0                                                  # nothing before position 0


def test_cat_model_and_block():
    model = CAT(vocab_size=11, d_model=8, window=2, seed=1)
    tokens = torch.randint(0, 11, (3, 7), generator=make_generator(0))
    assert model(tokens).shape == (3, 7, 11)
    torch.testing.assert_close(CAT(11, 8, window=2, seed=1)(tokens), model(tokens))
    attn, h = model.first_attention(tokens)
    assert attn is model.attn and h.shape == (3, 7, 8)
    gpt = TinyGPT(vocab_size=11, d_model=16, n_layers=1, n_heads=2, max_len=32, attention=cat_block(3),
                  pos_encoding="none", seed=0)
    tokens, _ = Copying(5, 10)(3, make_generator(0))
    assert gpt(tokens).shape == (3, 11, 11)
    assert isinstance(gpt.blocks[0].attn, CATAttention) and gpt.blocks[0].attn.window == 3

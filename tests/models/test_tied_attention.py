import numpy as np
import torch

from iclcore.models import TiedEmbeddingAttention
from iclcore.tasks import make_generator, random_scores, token_counts, uniform_prompts
from iclcore.theory import ccmc_probs


def _prompts(K=6, n=1000, T=8, seed=0):
    g = make_generator(seed)
    return random_scores(K, 1.0, g), uniform_prompts(n, T, K, g)


def test_tied_layer_is_the_ccmc_to_1e10_in_float64():
    W, X = _prompts()
    expected = ccmc_probs(W.numpy(), token_counts(X, 6).numpy(), X[:, -1].numpy())
    for emb, d in (("identity", 6), ("random", 11)):
        layer = TiedEmbeddingAttention(6, d_model=d, embedding=emb, seed=3).set_scores(W)
        with torch.no_grad():
            out = layer(X)
        assert out.shape == (1, 1000, 6)
        assert np.abs(out[0].numpy() - expected).max() < 1e-10
        torch.testing.assert_close(layer.scores()[0].detach(), W, rtol=0, atol=1e-12)


def test_scores_index_convention_rows_are_the_last_token():
    # W~[i, j] = e_j^T W e_i: with the identity embedding, W~ = W^T
    layer = TiedEmbeddingAttention(3)
    with torch.no_grad():
        layer.W.copy_(torch.arange(9.0, dtype=torch.float64).reshape(1, 3, 3))
    torch.testing.assert_close(layer.scores()[0], layer.W[0].T.detach())
    X = torch.tensor([[0, 1, 2]])                       # counts (1, 1, 1), last token 2
    with torch.no_grad():
        p = layer(X)[0, 0]
    row = layer.W[0].detach()[:, 2]                      # logits x_t^T W x_T = W[x_t, 2]
    torch.testing.assert_close(p, torch.softmax(row, 0))


def test_position_bias_gives_position_weighted_counts():
    W, X = _prompts(K=5, n=300, T=7, seed=1)
    layer = TiedEmbeddingAttention(5, n_ctx=7, positional=True).set_scores(W)
    b = torch.tensor([0.3, -1.0, 0.0, 2.0, 0.5, -0.2, 1.0], dtype=torch.float64)
    with torch.no_grad():
        layer.pos_bias.copy_(b[None])
        out = layer(X)[0].numpy()
    expected = ccmc_probs(W.numpy(), token_counts(X, 5, weights=b.exp()).numpy(), X[:, -1].numpy())
    assert np.abs(out - expected).max() < 1e-10


def test_untied_head_breaks_the_equivalence():
    W, X = _prompts(K=4, n=200, seed=2)
    layer = TiedEmbeddingAttention(4, d_model=6, embedding="random", untied=True, seed=0).set_scores(W)
    with torch.no_grad():
        out = layer(X)[0].numpy()
    expected = ccmc_probs(W.numpy(), token_counts(X, 4).numpy(), X[:, -1].numpy())
    assert np.abs(out - expected).max() > 1e-2


def test_ensemble_members_equal_separate_models():
    g = make_generator(5)
    W = random_scores(4, 1.0, g, n=3)
    X = uniform_prompts(50, 6, 4, g)
    ens = TiedEmbeddingAttention(4, n_members=3).set_scores(W)
    with torch.no_grad():
        together = ens(X)
        for e in range(3):
            alone = TiedEmbeddingAttention(4).set_scores(W[e])(X)[0]
            torch.testing.assert_close(together[e], alone, rtol=0, atol=1e-14)
    assert torch.allclose(together.sum(-1), torch.ones(3, 50, dtype=torch.float64))
    assert torch.allclose(ens.attention(X).sum(-1), torch.ones(3, 50, dtype=torch.float64))

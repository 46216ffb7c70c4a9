"""LinearAR (Chapter 17): the block mask is causal, the one-hot variant is linear in the one-hot prefix, members are
independent, and free generation reads the model's own tokens."""

import numpy as np
import torch

from iclcore.models import LinearAR, block_mask, complete
from iclcore.tasks import make_generator


def test_block_mask_counts_the_paper_parameters():
    m = block_mask(4, 3)
    assert m.shape == (12, 12) and m.sum() == 4 * 5 / 2 * 9
    assert block_mask(4, 3, "diagonal").sum() == 4 * 9 and block_mask(4, 3, "none").sum() == 144
    # the paper's multiplication model: T = 307, d = 128 -> about 775M effective weights
    assert abs(307 * 308 / 2 * 128**2 - 7.75e8) < 0.01e8


def test_causal_model_never_reads_the_future():
    torch.manual_seed(0)
    for mlp, d in ((False, None), (False, 4), (True, 4)):
        model = LinearAR(5, 6, d, mlp=mlp, n_members=2, seed=1)
        x = torch.randint(0, 5, (3, 6), generator=make_generator(0))
        y = x.clone()
        y[:, 4:] = (y[:, 4:] + 1) % 5                       # change the tokens at positions 4, 5
        a, b = model(x), model(y)
        assert a.shape == (2, 3, 6, 5)
        assert torch.allclose(a[..., :4, :], b[..., :4, :]) and not torch.allclose(a[..., 4:, :], b[..., 4:, :])
    leaky = LinearAR(5, 6, None, mask="none", seed=1)
    assert not torch.allclose(leaky(x)[..., :4, :], leaky(y)[..., :4, :])


def test_onehot_variant_is_the_masked_weight_applied_to_the_onehot_prefix():
    model = LinearAR(3, 4, None, seed=2)
    x = torch.tensor([[0, 2, 1, 1]])
    onehot = torch.nn.functional.one_hot(x, 3).float().reshape(1, -1)
    expected = (onehot @ (model.W[0] * block_mask(4, 3)).T).reshape(1, 4, 3)
    assert torch.allclose(model(x)[0], expected, atol=1e-6)
    assert model.n_effective == 4 * 5 / 2 * 9


def test_members_are_independent_copies():
    ens = LinearAR(4, 5, 3, mlp=True, n_members=2, seed=3)
    x = torch.randint(0, 4, (2, 7, 5), generator=make_generator(1))
    out = ens(x)
    single = LinearAR(4, 5, 3, mlp=True, n_members=1, seed=3)
    with torch.no_grad():
        for name, p in single.named_parameters():
            p.copy_(getattr(ens, name)[1:2])
    assert torch.allclose(out[1], single(x[1])[0], atol=1e-5)


def test_complete_copies_with_a_hand_built_model():
    # weights that copy the token two positions back: position t predicts x_{t-1}  (block (t, t-1) = identity)
    model = LinearAR(3, 5, None, seed=0)
    with torch.no_grad():
        model.W.zero_()
        for t in range(1, 5):
            model.W[0, 3 * t:3 * t + 3, 3 * (t - 1):3 * t] = 10 * torch.eye(3)
    seq = torch.tensor([[2, 1, 0, 0, 0, 0]])
    out = complete(model, seq, 2)[0, 0].tolist()
    assert out == [2, 1, 2, 1, 2, 1]
    sampled = complete(model, seq, 2, temperature=0.01, generator=make_generator(0))[0, 0].tolist()
    assert sampled == out


def test_training_reduces_the_loss_on_a_linear_task():
    from iclcore.tasks import ParityCoT, lm_loss
    from iclcore.train import fit
    task = ParityCoT(4, "or-xor")
    model = LinearAR(3, task.seq_len - 1, None, seed=0)
    hist = fit(model, task, steps=150, lr=0.05, batch_size=256, loss=lm_loss, progress=False)
    assert hist[-1].item() < 0.1 * hist[0].item()
    assert np.isfinite(hist).all()

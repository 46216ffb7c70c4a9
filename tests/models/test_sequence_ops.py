import torch
import torch.nn.functional as F

from iclcore.models.sequence_ops import causal_conv, causal_mask


def _reference(u, taps):
    T, L = u.shape[-2], taps.shape[-2]
    return sum(taps[..., j: j + 1, :] * F.pad(u, (0, 0, j, 0))[..., :T, :] for j in range(min(L, T)))


def test_causal_conv_matches_the_shifted_sum_short_and_long():
    g = torch.Generator().manual_seed(0)
    u = torch.randn(2, 3, 6, 4, generator=g, dtype=torch.float64)
    for L in (1, 3, 6, 9):
        taps = torch.randn(L, 4, generator=g, dtype=torch.float64)
        torch.testing.assert_close(causal_conv(u, taps), _reference(u, taps))
    ens = torch.randn(2, 1, 3, 4, generator=g, dtype=torch.float64)      # per-member filters
    torch.testing.assert_close(causal_conv(u, ens), _reference(u, ens))


def test_causal_conv_never_looks_ahead():
    u = torch.zeros(1, 5, 1)
    u[0, 3] = 1.0
    out = causal_conv(u, torch.ones(5, 1))
    assert out[0, :3].abs().sum() == 0 and torch.all(out[0, 3:] == 1)


def test_causal_mask():
    m = causal_mask(3)
    assert m.tolist() == [[True, False, False], [True, True, False], [True, True, True]]


def test_last_only_equals_the_last_row_of_the_full_convolution():
    g = torch.Generator().manual_seed(1)
    u = torch.randn(2, 3, 6, 4, generator=g, dtype=torch.float64)
    for taps in (torch.randn(3, 4, generator=g, dtype=torch.float64),
                 torch.randn(9, 4, generator=g, dtype=torch.float64),
                 torch.randn(2, 1, 7, 4, generator=g, dtype=torch.float64)):
        torch.testing.assert_close(causal_conv(u, taps, last_only=True), causal_conv(u, taps)[..., -1:, :])

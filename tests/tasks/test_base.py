import pytest
import torch

from iclcore.tasks import make_generator, squared_error, stack


def _prompts(T, D, fill):
    def sample(b, g):
        return torch.full((b, T, D), fill) + 0 * torch.randn(b, T, D, generator=g), torch.full((b,), fill)
    return sample


def test_stack_left_pads_shorter_prompts_with_zero_tokens():
    s = stack({"short": _prompts(2, 3, 1.0), "long": _prompts(4, 3, 2.0)})
    Z, y = s(5, make_generator(0))
    assert Z.shape == (2, 5, 4, 3) and y.shape == (2, 5) and s.members == ("short", "long")
    assert torch.all(Z[0, :, :2] == 0) and torch.all(Z[0, :, 2:] == 1) and torch.all(Z[1] == 2)
    assert s["long"] is s.samplers[1]


def test_stack_pads_features_before_the_label_column():
    Z, _ = stack([_prompts(2, 2, 1.0), _prompts(2, 4, 2.0)], pad_features=True)(3, make_generator(0))
    assert Z.shape == (2, 3, 2, 4)
    assert torch.all(Z[0, ..., 0] == 1) and torch.all(Z[0, ..., 1:3] == 0) and torch.all(Z[0, ..., 3] == 1)
    with pytest.raises(ValueError, match="same token width"):
        stack([_prompts(2, 2, 1.0), _prompts(2, 4, 2.0)])(3, make_generator(0))


def test_stack_draws_from_one_generator_in_member_order():
    def noise(b, g):
        return torch.randn(b, 1, 1, generator=g), torch.zeros(b)
    Z, _ = stack([noise, noise])(4, make_generator(3))
    g = make_generator(3)
    first, second = torch.randn(4, 1, 1, generator=g), torch.randn(4, 1, 1, generator=g)
    assert torch.equal(Z[0], first) and torch.equal(Z[1], second)


def test_squared_error_is_per_member():
    pred = torch.tensor([[1.0, 1.0], [0.0, 2.0]])
    assert squared_error(pred, torch.tensor([1.0, 0.0])).tolist() == [0.5, 2.5]

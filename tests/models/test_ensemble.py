import pytest
import torch

from iclcore.models import Ensemble


def test_ensemble_stacks_outputs_and_names_members():
    a, b = torch.nn.Linear(3, 2), torch.nn.Linear(3, 2)
    ens = Ensemble({"a": a, "b": b})
    x = torch.randn(5, 3)
    out = ens(x)
    assert out.shape == (2, 5, 2) and torch.equal(out[1], b(x)) and ens.member("a") is a


def test_split_inputs_gives_each_member_its_own_input():
    ens = Ensemble([torch.nn.Identity(), torch.nn.Identity()], split_inputs=True)
    x = torch.randn(2, 4)
    assert torch.equal(ens(x), x) and ens.members == (0, 1)
    with pytest.raises(ValueError, match="one input per member"):
        ens(torch.randn(3, 4))

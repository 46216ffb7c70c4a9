"""Chapter 17 drivers: a tiny parity run learns the threshold chain and not the XOR chain; the bound's values;
sampling fills the context; multiplication scores come back per format."""

import numpy as np
import pytest

from iclcore.experiments.ch17_universal_learners import (
    parity_curve,
    parity_scores,
    story_samples,
    train_multiplication,
    train_parity,
    xor_per_token_bound,
)
from iclcore.models import LinearAR


def test_xor_bound_values():
    assert xor_per_token_bound(1) == 1.0
    assert xor_per_token_bound(12) == pytest.approx((1 + 0.75 * 11) / 12)


def test_small_parity_run():
    modes = ["xor", "or-xor"]
    model, info = train_parity(6, modes, steps=150, batch_size=256, seed=0, snapshot_every=50, progress=False)
    s = parity_scores(model, 6, modes, info["L"], n_test=300, seed=1)
    assert s["or-xor"]["answer"] > 0.95 and s["xor"]["answer"] < 0.7
    assert s["xor"]["teacher_forced"] <= xor_per_token_bound(6) + 0.03
    curves = parity_curve(info["snapshots"], 6, modes)
    assert curves["xor"].shape[0] == 4 and np.isnan(curves["xor"][-1, 6:]).all()


def test_story_samples_and_multiplication_shapes():
    vocab = ("a", "b", "c")
    words = story_samples(LinearAR(3, 5, 4, seed=0), vocab, "a b", 4, temperature=1.0, seed=0)
    assert len(words) == 4 and all(len(w) == 6 and w[:2] == ["a", "b"] for w in words)
    out = train_multiplication(["direct"], 1, 1, d=8, steps=5, batch_size=16, progress=False)
    assert set(out["direct"]) == {"train", "held_out", "cot_tokens", "T"} and out["direct"]["cot_tokens"] == 2

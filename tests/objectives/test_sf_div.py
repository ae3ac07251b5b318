"""L_fair equals the hard SF on 0/1 recommendations; L_div as Eq. 13."""

import numpy as np
import pytest
import torch

from harness import metrics
from harness.objectives import build_objective
from harness.objectives.div import min_pairwise_sq_distance
from harness.objectives.sf import soft_sf


def test_soft_sf_equals_hard_sf_for_zero_one_probabilities():
    rng = np.random.default_rng(0)
    for _ in range(20):
        n = 40
        recommended = rng.random(n) < 0.6
        user_group = rng.integers(0, 2, n)
        h = rng.random(n)
        tig = rng.random((n, 2)) < 0.3
        for denominator in ("all", "group_users"):
            hard = metrics.stereotype_fairness(recommended, user_group, h, tig, ("a", "b"), denominator)
            soft, defined = soft_sf(
                torch.tensor(recommended, dtype=torch.float64),
                torch.tensor(user_group),
                torch.tensor(h),
                torch.tensor(tig),
                2,
                denominator,
            )
            for g, name in enumerate(("a", "b")):
                if np.isnan(hard.per_group[name]):
                    assert not defined[g]
                else:
                    assert soft[g].item() == pytest.approx(hard.per_group[name])


def test_sf_loss_is_differentiable_and_absolute():
    from harness.model import Batch, Output

    score = torch.tensor([2.0, -1.0, 0.5, 3.0], requires_grad=True)
    batch = Batch(
        input_ids=None,
        attention_mask=None,
        labels=torch.tensor([1, 0, 1, 1]),
        user_group=torch.tensor([0, 0, 1, 1]),
        h=torch.tensor([0.5, 0.2, 0.1, 0.9]),
        target_in_group=torch.tensor([[1, 0], [0, 0], [0, 1], [1, 0]]).bool(),
        index=torch.arange(4),
    )
    loss = build_objective("sf").loss(None, batch, Output(score, score, score), training=True)
    assert loss.item() >= 0
    loss.backward()
    assert score.grad is not None and torch.isfinite(score.grad).all()


def test_div_min_pairwise_distance():
    vectors = torch.tensor([[0.0, 0.0], [3.0, 4.0], [0.0, 1.0]])
    assert min_pairwise_sq_distance(vectors).item() == pytest.approx(1.0)


def test_objective_option_errors():
    with pytest.raises(KeyError, match="registered objectives: .*sf"):
        build_objective("demographic_parity")
    with pytest.raises(ValueError, match=r"unknown option\(s\) \['lam'\]"):
        build_objective("sf", lam=2)
    with pytest.raises(ValueError, match="weight"):
        build_objective("div", weight=-1)

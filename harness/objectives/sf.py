"""L_fair (Eq. 12): |SF| of the batch, with SF made differentiable.

Eq. 4 counts "recommended" pairs; here each pair counts with its predicted
probability of "Yes", ``p = sigmoid(logit(Yes) - logit(No))``, so with p in {0, 1}
this equals the hard SF of ``harness.metrics.stereotype_fairness`` (tested).
A group whose soft denominator is (near) zero in a batch adds nothing that batch.

Choice: Eq. 12 writes min ||SF|| for the averaged SF (``reduce="overall"``);
``reduce="per_group"`` minimises the mean of |SF_G| instead, so that groups over-
and under-recommended cannot cancel.
"""

from __future__ import annotations

import torch

from harness.objectives.base import Objective

EPS = 1e-6


def soft_sf(
    p: torch.Tensor,
    user_group: torch.Tensor,
    h: torch.Tensor,
    target_in_group: torch.Tensor,
    n_groups: int,
    denominator: str = "all",
) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-group soft SF and which groups are defined. p, user_group, h: (B,);
    target_in_group: (B, G). Returns (G,) values and (G,) bool."""
    values, defined = [], []
    for g in range(n_groups):
        in_group = (user_group == g).to(p.dtype)
        numerator = (p * in_group * h).sum()
        pool = p if denominator == "all" else p * in_group
        count = (pool * target_in_group[:, g].to(p.dtype)).sum()
        defined.append(count > EPS)
        values.append(1.0 - numerator / count.clamp(min=EPS))
    return torch.stack(values), torch.stack(defined)


class SFLoss(Objective):
    def loss(self, model, batch, out, training):
        n_groups = batch.target_in_group.shape[1]
        values, defined = soft_sf(
            torch.sigmoid(out.score),
            batch.user_group,
            batch.h.to(out.score.dtype),
            batch.target_in_group,
            n_groups,
            self.config.denominator,
        )
        if not defined.any():
            return out.score.sum() * 0.0
        values = values[defined]
        if self.config.reduce == "overall":
            return values.mean().abs()
        return values.abs().mean()

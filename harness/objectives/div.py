"""L_div (Eq. 13): stereotype diversity of the MoS experts, maximised (so subtracted).

Eq. 13 maximises min_{i != j} ||w_i - w_j||^2 over "the weights of each
stereotype-relevant expert". Choice (``target``):
- "experts" (default): each expert's soft-prompt weights, L2-normalised before the
  distance so the term is bounded (in [0, 4]); the raw distance grows without
  bound and would swamp L_rec.
- "routing": expert n's reweighted routing weight across the batch (a (B,) vector
  per expert), i.e. experts should be used for different samples.
The loss returned is ``-min_{i != j} ||a_i - a_j||^2``.
"""

from __future__ import annotations

import torch

from harness.objectives.base import Objective


def min_pairwise_sq_distance(vectors: torch.Tensor) -> torch.Tensor:
    """(N, D) -> the smallest squared distance between two different rows."""
    distances = torch.cdist(vectors[None], vectors[None]).squeeze(0) ** 2
    off_diagonal = ~torch.eye(len(vectors), dtype=torch.bool, device=vectors.device)
    return distances[off_diagonal].min()


class DivLoss(Objective):
    def loss(self, model, batch, out, training):
        if any(a not in out.aux for a in self.needs_aux):
            raise ValueError("objective 'div' needs a head with experts (mos); drop it for this head")
        if self.config.target == "experts":
            vectors = torch.nn.functional.normalize(out.aux["experts"].flatten(1), dim=1)
        else:
            vectors = out.aux["weights"].T
        return -min_pairwise_sq_distance(vectors)

"""IFairLRS (Jiang et al. 2024), item-side: reweight each sample's L_rec by its target's item group.

The weight of a sample whose target is in item group k is the group's share among
the history items over its share among the targets, both counted over the training
split: ``r_k = (n_hist[k] / sum n_hist) / (n_target[k] / sum n_target)``. Groups
that the histories show more often than the model is asked to predict them are
up-weighted, so the fine-tuned model stops under-recommending them.

Item groups here are the stereotype groups (Eq. 3 via ``item_in_group``) plus one
"no group" class for items stereotyped to none; an item in several groups takes
the group it has the highest degree towards. (The original groups items by
popularity or genre; the paper's Table 4 compares on stereotype groups.)

Choices:
- Unclipped, the training-mean weight is already sum_k(history share of the groups
  that occur as targets), i.e. 1 unless some group is only ever in histories.
  ``max_weight`` caps r_k (a group rare among targets would otherwise dominate);
  ``normalize`` then rescales so the training-mean weight is 1 again.
- ``weight`` (lambda) tempers the reweighting: w = r ** weight, so 1 is IFairLRS and
  0 is plain L_rec. The loss term itself is 0: IFairLRS acts only through the
  weights, which L_rec reads from ``batch.weight`` (see harness.objectives.rec).
- A group that occurs among training targets but never in histories gets r = 0
  (its samples drop out of L_rec), as the ratio says; a group never among training
  targets gets r = 1 (it weights no training sample, only validation/test ones).
"""

from __future__ import annotations

import numpy as np
import torch

from harness.objectives.base import Objective


def item_groups(item_in_group: np.ndarray, degree: np.ndarray) -> np.ndarray:
    """(V, G) bool and (V, G) degree -> (V,) int in [0, G]: the item's highest-degree
    group among those it is stereotyped to, or G ("no group")."""
    n_groups = item_in_group.shape[1]
    masked = np.where(item_in_group, degree, -np.inf)
    return np.where(item_in_group.any(axis=1), masked.argmax(axis=1), n_groups)


def group_ratio(
    history: np.ndarray, target: np.ndarray, group_of_item: np.ndarray, n_classes: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """history: (N, L) item indices (-1 pads); target: (N,); group_of_item: (V,).
    Returns (C,) history share, (C,) target share and the ratio r (1 where no target)."""
    items = history[history >= 0]
    history_share = np.bincount(group_of_item[items], minlength=n_classes) / max(len(items), 1)
    target_share = np.bincount(group_of_item[target], minlength=n_classes) / max(len(target), 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(target_share > 0, history_share / target_share, 1.0)
    return history_share, target_share, ratio


class IFairLRS(Objective):
    def __init__(self, config):
        super().__init__(config)
        self.weights: torch.Tensor | None = None  # (N,) over every sample of the prepared data

    def fit(self, prepared, train_mask) -> None:
        s, m = prepared.samples, prepared.measurement
        group_of_item = item_groups(np.asarray(m.item_in_group), np.asarray(m.degree))
        n_classes = m.item_in_group.shape[1] + 1
        train_mask = np.asarray(train_mask, dtype=bool)
        self.history_share, self.target_share, self.ratio = group_ratio(
            s.history[train_mask], s.target[train_mask], group_of_item, n_classes
        )
        per_sample = np.minimum(self.ratio, self.config.max_weight)[group_of_item[s.target]]
        per_sample = per_sample**self.config.weight
        if self.config.normalize and train_mask.any():
            mean = per_sample[train_mask].mean()
            per_sample = per_sample / mean if mean > 0 else np.ones_like(per_sample)
        self.weights = torch.as_tensor(per_sample, dtype=torch.float32)

    def sample_weight(self, batch) -> torch.Tensor:
        if self.weights is None:
            raise RuntimeError("ifairlrs: call fit(prepared, train_mask) before sample_weight")
        return self.weights[batch.index.cpu()].to(batch.input_ids.device)

    def loss(self, model, batch, out, training):
        # IFairLRS acts only through sample_weight -> batch.weight -> L_rec; a connected 0 (abs: not -0.0)
        return (out.score.sum() * 0.0).abs()

"""UP5 (Hua et al. 2023), user-side: counterfactually fair prompting by adversarial learning.

A discriminator (a small MLP with its own Adam optimizer) predicts the user's
stereotype group from the pooled encoder states ``out.pooled``; the head is
trained so that it cannot. Each training call to ``loss`` first updates the
discriminator ``disc_steps`` times on ``out.pooled.detach()`` (cross-entropy on
``batch.user_group``), then returns the head's adversarial term computed with
the updated discriminator held fixed (no gradient reaches its parameters):

- ``adversary="negative_ce"`` (default, UP5's own min-max: L_rec - lambda * L_disc):
  ``-CE(disc(pooled), user_group)``. Unbounded below: the head can also win by
  making the discriminator confidently wrong, which can destabilise training.
- ``"uniform"``: ``KL(u || softmax(disc(pooled)))`` with u uniform over groups; >= 0,
  zero when the discriminator is maximally unsure.
- ``"prior"``: KL from the training split's group shares instead of uniform: with
  unbalanced groups an uninformed discriminator predicts the prior, not uniform.

The discriminator is created on the first call (input size from ``out.pooled``,
initialised from torch's RNG). ``state_dict`` holds it and its optimizer, and
loading it does not touch torch's RNG, so a resumed run continues exactly.
"""

from __future__ import annotations

import copy
from contextlib import nullcontext

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from harness.objectives.base import Objective


class UP5(Objective):
    def __init__(self, config):
        super().__init__(config)
        self.discriminator: nn.Module | None = None
        self.optimizer: torch.optim.Optimizer | None = None
        self.prior: torch.Tensor | None = None
        self._pending: dict | None = None  # a loaded state, applied once sizes and device are known

    def fit(self, prepared, train_mask) -> None:
        n_groups = len(prepared.samples.groups)
        counts = np.bincount(prepared.samples.user_group[np.asarray(train_mask, dtype=bool)], minlength=n_groups)
        self.prior = torch.as_tensor(counts / max(counts.sum(), 1), dtype=torch.float32)

    def _ensure(self, d: int, n_groups: int, device) -> None:
        if self.discriminator is not None:
            return
        state, hidden = self._pending, self.config.disc_hidden
        if state is not None and tuple(state["shape"]) != (d, n_groups):
            raise ValueError(
                f"up5: saved discriminator is for (pooled, groups) = {tuple(state['shape'])}, "
                f"this model gives {(d, n_groups)}"
            )
        # a resumed run re-creates the discriminator only to overwrite it: keep torch's RNG untouched
        with torch.random.fork_rng(devices=[]) if state is not None else nullcontext():
            self.discriminator = nn.Sequential(nn.Linear(d, hidden), nn.ReLU(), nn.Linear(hidden, n_groups))
        self.discriminator.to(device)
        self.optimizer = torch.optim.Adam(self.discriminator.parameters(), lr=self.config.disc_lr)
        if state is not None:
            self.discriminator.load_state_dict(state["discriminator"])
            self.optimizer.load_state_dict(state["optimizer"])
            self._pending = None

    def _update_discriminator(self, pooled: torch.Tensor, user_group: torch.Tensor) -> None:
        # its own backward and step, in full precision, whatever autocast the trainer runs under
        with torch.enable_grad(), torch.autocast(device_type=pooled.device.type, enabled=False):
            for _ in range(self.config.disc_steps):
                self.optimizer.zero_grad(set_to_none=True)
                F.cross_entropy(self.discriminator(pooled), user_group).backward()
                self.optimizer.step()
            self.optimizer.zero_grad(set_to_none=True)  # nothing stale for the head's backward to add to

    def _adversarial(self, logits: torch.Tensor, user_group: torch.Tensor) -> torch.Tensor:
        if self.config.adversary == "negative_ce":
            return -F.cross_entropy(logits, user_group)
        if self.config.adversary == "uniform":
            target = torch.full((logits.shape[1],), 1.0 / logits.shape[1], device=logits.device)
        elif self.prior is None:
            raise RuntimeError("up5: adversary='prior' needs fit(prepared, train_mask) first")
        else:
            target = self.prior.to(logits.device)
        entropy = -(target * target.clamp(min=1e-12).log()).sum()
        cross_entropy = -(target * torch.log_softmax(logits, dim=1)).sum(dim=1).mean()
        return cross_entropy - entropy  # KL(target || p), averaged over the batch

    def loss(self, model, batch, out, training):
        pooled = out.pooled.float()
        labels = batch.user_group.to(pooled.device).long()
        self._ensure(pooled.shape[1], batch.target_in_group.shape[1], pooled.device)
        if training:
            self._update_discriminator(pooled.detach(), labels)
        parameters = list(self.discriminator.parameters())
        for p in parameters:  # the head's term must not train the discriminator
            p.requires_grad_(False)
        try:
            logits = self.discriminator(pooled)
        finally:
            for p in parameters:
                p.requires_grad_(True)
        return self._adversarial(logits, labels)

    def state_dict(self) -> dict:
        if self.discriminator is None:
            return copy.deepcopy(self._pending) if self._pending is not None else {}
        first = self.discriminator[0]
        return copy.deepcopy(
            {
                "shape": [first.in_features, self.discriminator[2].out_features],
                "discriminator": self.discriminator.state_dict(),
                "optimizer": self.optimizer.state_dict(),
            }
        )

    def load_state_dict(self, state: dict) -> None:
        self.discriminator = self.optimizer = None
        self._pending = copy.deepcopy(state) if state else None

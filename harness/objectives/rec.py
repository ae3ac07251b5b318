"""L_rec (Eq. 11): negative log-likelihood of the label's answer token, averaged
over the batch (weighted per sample when a reweighting objective asks for it)."""

from dataclasses import dataclass

from harness.objectives.base import Objective, ObjectiveSpec, check_weight, register


@dataclass(frozen=True)
class RecOptions:
    weight: float = 1.0

    def __post_init__(self):
        check_weight("rec", self.weight)


class RecLoss(Objective):
    def loss(self, model, batch, out, training):
        if batch.weight is None:
            return out.nll.mean()
        return (batch.weight * out.nll).sum() / batch.weight.sum().clamp(min=1e-12)


SPEC = register(ObjectiveSpec("rec", RecLoss, RecOptions, "L_rec, Eq. 11"))

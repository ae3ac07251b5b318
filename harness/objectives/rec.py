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
        # mean(w * nll), as IFairLRS does: weights keep their scale across batches
        # (IFairLRS normalises them to a training mean of 1), unlike sum(w*nll)/sum(w)
        return (batch.weight * out.nll).mean()


SPEC = register(ObjectiveSpec("rec", RecLoss, RecOptions, "L_rec, Eq. 11"))

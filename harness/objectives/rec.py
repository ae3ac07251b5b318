"""L_rec (Eq. 11): negative log-likelihood of the label's answer token, averaged
over the batch (weighted per sample when a reweighting objective asks for it)."""

from harness.objectives.base import Objective


class RecLoss(Objective):
    def loss(self, model, batch, out, training):
        if batch.weight is None:
            return out.nll.mean()
        # mean(w * nll), as IFairLRS does: weights keep their scale across batches
        # (IFairLRS normalises them to a training mean of 1), unlike sum(w*nll)/sum(w)
        return (batch.weight * out.nll).mean()

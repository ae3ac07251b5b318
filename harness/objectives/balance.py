"""L_balance: the load-balancing loss of Switch Transformer (Fedus et al. 2021, Eq. 4-6) and
GShard, on MoS's router. Not in the paper: the first study (issue 30) found MoS's router
sending every test sample to one expert of four, for both groups, and nothing in Eq. 14
asks it to do otherwise.

    L_balance = N * sum_n f_n * P_n

over the batch's routed slots, one per (group prompt, sample): f_n is the share of the slots'
choices (K per slot, the experts ``route`` picked, stochastic ones included) that went to
expert n, a count with no gradient; P_n is the mean over the slots of the router's softmax
over all N logits, which carries the gradient. It is 1 when the usage and the probabilities
are uniform (its minimum where they agree), and N * P_n when every slot goes to expert n.
Through P_n the router gets a gradient whatever the gate, Eq. 7's included.

What it balances: how often each expert is used across the whole batch, all groups pooled.
It does NOT ask the groups to route apart: uniform usage is as reachable by sending every
slot anywhere at random as by giving each group its own experts. It can still help
separation: a router that must spread its slots over several experts, and whose input
tells the groups apart (``router_input="hidden"``), can do so most easily along the
group, giving each group its own experts, which one collapsed expert never can. With fewer
groups than experts (2 against 4) uniform usage also needs each group's samples split by
their content. Watch ``routing_separation`` in the diagnostics for what happened.
"""

from __future__ import annotations

import torch

from harness.objectives.base import Objective


def load_balance(logits: torch.Tensor, chosen: torch.Tensor) -> torch.Tensor:
    """logits: (..., N) the router's logits for every routed slot; chosen: (..., N) bool, the
    experts each slot was routed to -> N * sum_n f_n * P_n (a scalar; gradient through P only)."""
    n = logits.shape[-1]
    counts = chosen.reshape(-1, n).to(logits.dtype).sum(dim=0)
    usage = counts / counts.sum().clamp_min(1.0)  # f, sums to 1
    probability = torch.softmax(logits.reshape(-1, n), dim=-1).mean(dim=0)  # P
    return n * (usage.detach() * probability).sum()


class BalanceLoss(Objective):
    def loss(self, model, batch, out, training):
        if any(a not in out.aux for a in self.needs_aux):
            raise ValueError("objective 'balance' needs a head with a router (mos); drop it for this head")
        # a chosen expert's routing value is a softmax probability (> 0 unless it underflows, when
        # the expert adds nothing to the mix either); the others are exactly 0
        return load_balance(out.aux["router_logits"], out.aux["routing"] > 0)

"""Mixture-of-Stereotypes (MoS, the paper's §3).

- Multi-stereotype prompting (§3.2, Eq. 5): one prompt per stereotype group with
  the group word inserted. Only the router reads them; the language model's
  input is the recommendation prompt alone, so no user profile is needed at inference.
- Router Q (Eq. 6): a linear layer over the pooled frozen input embeddings of
  each group prompt (c_rec, c_stereotype_i) -> N expert logits.
- Top-K routing (Eq. 7): the K largest logits are chosen, zeros elsewhere.
  ``routing="stochastic"`` samples the K experts from softmax(logits) instead
  (Table 6), at training and evaluation alike (seeded). The chosen experts' values
  are set by ``gate`` (below).
- Reweighting layer R (Eq. 8): a linear layer N -> N over the routing
  probabilities averaged across groups, initialised to the identity so training
  starts from w = mean p. ``reweighting=False`` is Table 6's "w/o reweighting"
  (w = mean p). Every sample routes every group's prompt, so the output sees the router
  only through this average over groups: no loss on the output can tell which group went
  to which expert (docs/models-and-training.md, "What routing the groups apart can and
  cannot change").
- Prompt-based experts (Eq. 9, 10): N soft prompts of 5 tokens; e = sum_n w_n E_n,
  placed before the input.

Deviation from the paper's letter (an option keeps the letter):
- ``gate``: Eq. 7 gives the chosen experts the softmax over the K chosen logits. At
  K = 1 that is the constant 1, so the router gets exactly zero gradient and never
  learns, although the paper says it "is trained to assign different stereotype
  groups" to experts (the trap of renormalised top-1 gating). Default ``"switch"``:
  a chosen expert keeps its probability from the softmax over all N logits, not
  renormalised (Switch Transformer's gate), so the router learns at every K.
  ``"straight_through"`` keeps Eq. 7's values in the forward pass and takes the
  gradient of the softmax over all N logits in the backward pass. ``"eq7"`` is the
  literal Eq. 7 (no router gradient at K = 1).

Choices where the paper is ambiguous (each an option):
- What the router reads (Eq. 6's c_i = (c_rec, c_stereotype_i)): ``router_input="prompt"``
  (default) mean-pools the frozen input embeddings of group prompt i; the prompts of
  two groups differ by a few words in 100-300 tokens, so these inputs barely differ.
  ``"prompt+stereotype"`` adds c_stereotype_i = the sum of group prompt i's embeddings
  minus the neutral prompt's, i.e. about the embeddings of the inserted group words,
  so the router can tell the groups apart (Linear over 2d instead of d).
  ``"hidden"`` reads the frozen backbone's last hidden states over group prompt i (the
  encoder's for seq2seq), averaged over its real tokens: there the group word has reached
  every later token through attention, so the group is in most of what is averaged
  instead of in two tokens of 100-300. The mean, not the last token's state, is the
  choice because it means the same for both families (a T5 encoder's last token is
  "</s>", which has no special role in a bidirectional encoder) and because it is
  ``Output.pooled``, the state UP5 already reads; ``"hidden_last"`` is the last real
  token's state (for a causal LM the one that has read the whole prompt and predicts the
  answer), the same forward pooled otherwise; on SmolLM2-135M it separates the groups
  more (``benchmarks/router_input.py``: Fisher's d' along the mean group direction 4.5,
  against 3.2 for "hidden" and 2.5 for "prompt", whose inputs are also ~40x smaller).
  Either costs one frozen forward per group prompt under ``torch.no_grad``
  (``harness.model.pooled_states``; a training step ~1.7x "prompt"'s there): only Q
  learns. Not cached across epochs or prompt settings: a prompt's state moves in its last
  digits (~1e-5) with the padding of the batch it comes in, so a cache would change the numbers.
- What an expert conditions on: Eq. 9 writes E_n(c_rec), yet the experts are
  "prompt-based" and trained by prompt tuning. Default ``expert="prompt"``: E_n is a
  learned soft prompt, and c_rec reaches the output through the routing weights
  (the router reads prompts that contain c_rec). ``expert="conditioned"`` adds a
  rank-r map of the pooled c_rec embedding to each expert's prompt.
- w is used as R's linear output (``reweight_activation="none"``), the paper's
  "linear ... reweighting layer"; "softmax" normalises it.
- seq2seq: the mixed prompt goes before the encoder input only (Eq. 10);
  ``decoder_prompt=True`` also puts it before the decoder start, as prompt tuning does.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from harness.backbones.base import Backbone
from harness.config.heads import GATES
from harness.heads.base import Head
from harness.model import Batch, Prefix, pooled_embeddings, pooled_states
from harness.stereotype import routing_separation

HIDDEN_POOLS = {"hidden": "mean", "hidden_last": "last"}  # router_input -> how its hidden states are pooled


def route(logits: torch.Tensor, top_k: int, stochastic: bool, gate: str) -> torch.Tensor:
    """Eq. 7. logits: (..., N) -> routing probabilities (..., N), non-zero on the K chosen
    experts. ``gate`` (see the module docstring): "eq7", softmax over the K chosen (sums
    to 1); "switch", the softmax over all N kept on the chosen (sums to at most 1);
    "straight_through", Eq. 7's values with the gradient of "switch"."""
    if stochastic:
        flat = torch.softmax(logits.detach(), dim=-1).reshape(-1, logits.shape[-1])
        chosen = torch.multinomial(flat, top_k, replacement=False).reshape(*logits.shape[:-1], top_k)
    else:
        chosen = logits.topk(top_k, dim=-1).indices
    if gate not in GATES:
        raise ValueError(f"gate must be one of {GATES}, got {gate!r}")
    renormalised = torch.softmax(logits.gather(-1, chosen), dim=-1)
    full = torch.softmax(logits, dim=-1).gather(-1, chosen)
    weights = {"eq7": renormalised, "switch": full, "straight_through": renormalised.detach() + full - full.detach()}[
        gate
    ]
    return torch.zeros_like(logits).scatter(-1, chosen, weights)


class MoSHead(Head):
    needs_group_prompts = True

    def attach(self, backbone: Backbone) -> None:
        c, d = self.config, backbone.hidden_size
        self.n_submodules = 2 if backbone.kind == "seq2seq" and c.decoder_prompt else 1
        tokens = c.expert_tokens * self.n_submodules
        self.router = nn.Linear(2 * d if c.router_input == "prompt+stereotype" else d, c.n_experts)  # Q, Eq. 6
        self.router.weight.register_hook(self._observe_router_gradient)
        if c.reweighting:  # R, Eq. 8
            self.reweight = nn.Linear(c.n_experts, c.n_experts)
            with torch.no_grad():
                self.reweight.weight.copy_(torch.eye(c.n_experts))
                self.reweight.bias.zero_()
        self.experts = nn.Parameter(self._init_experts(backbone, c.n_experts * tokens).view(c.n_experts, tokens, d))
        if c.expert == "conditioned":
            self.condition_in = nn.Parameter(torch.randn(c.n_experts, d, c.expert_rank) * d**-0.5)
            self.condition_out = nn.Parameter(torch.zeros(c.n_experts, c.expert_rank, tokens * d))

    def _init_experts(self, backbone: Backbone, n: int) -> torch.Tensor:
        table = backbone.model.get_input_embeddings().weight
        if self.config.init == "sample_vocab":  # Lester et al.: start from real token embeddings
            return table[torch.randint(0, table.shape[0], (n,))].detach().clone().float()
        return torch.randn(n, table.shape[1]) * table.detach().float().std()

    def prefix(self, batch: Batch, backbone: Backbone) -> tuple[Prefix, dict]:
        if batch.group_input_ids is None:
            raise ValueError(
                "MoS needs the multi-stereotype prompts (batch.group_input_ids); "
                "build batches with group prompts for this head"
            )
        c = self.config
        logits = self.router(self._router_input(batch, backbone))  # (G, B, N)
        routing = route(logits, c.top_k, c.routing == "stochastic", c.gate)  # (G, B, N)
        mean_p = routing.mean(dim=0)  # (B, N)
        weights = self.reweight(mean_p) if c.reweighting else mean_p
        if c.reweight_activation == "softmax":
            weights = torch.softmax(weights, dim=-1)
        if self._seen is not None:
            self._observe(logits, routing, weights)
        experts = self._experts(batch, backbone)  # (N|B,N, P, d)
        equation = "bn,npd->bpd" if experts.dim() == 3 else "bn,bnpd->bpd"
        mixed = torch.einsum(equation, weights, experts)  # Eq. 9
        prefix = (
            Prefix(encoder=mixed)
            if self.n_submodules == 1
            else Prefix(encoder=mixed[:, : c.expert_tokens], decoder=mixed[:, c.expert_tokens :])
        )
        return prefix, {"routing": routing, "weights": weights, "experts": self.experts, "router_logits": logits}

    def _router_input(self, batch: Batch, backbone: Backbone) -> torch.Tensor:
        """(G, B, d) pooled group prompts (input embeddings or hidden states), or (G, B, 2d) with
        c_stereotype beside the pooled input embeddings."""
        if self.config.router_input in HIDDEN_POOLS:
            return pooled_states(
                backbone,
                batch.group_input_ids,
                batch.group_attention_mask,
                HIDDEN_POOLS[self.config.router_input],
                self.precision,
            )
        pooled = pooled_embeddings(backbone, batch.group_input_ids, batch.group_attention_mask).float()
        if self.config.router_input == "prompt":
            return pooled
        with torch.no_grad():
            group_sum = (backbone.embed(batch.group_input_ids) * batch.group_attention_mask[..., None]).sum(-2)
            neutral_sum = (backbone.embed(batch.input_ids) * batch.attention_mask[..., None]).sum(-2)
        return torch.cat([pooled, (group_sum - neutral_sum[None]).float()], dim=-1)

    # ---- routing diagnostics (recorded per epoch and on the test split; no effect on the numbers)
    _seen = None

    def reset_diagnostics(self) -> None:
        self._seen = {"samples": 0, "chosen": 0.0, "entropy": 0.0, "weights": 0.0, "grad_norm": 0.0, "steps": 0}

    def _observe(self, logits, routing, weights) -> None:
        probabilities = torch.softmax(logits.detach(), dim=-1)
        seen = self._seen
        seen["samples"] += logits.shape[1]
        seen["chosen"] = seen["chosen"] + (routing.detach() > 0).float().sum(dim=1)  # (G, N)
        entropy = -(probabilities * probabilities.clamp_min(1e-12).log()).sum(-1)  # (G, B)
        seen["entropy"] = seen["entropy"] + entropy.sum(dim=1)
        seen["weights"] = seen["weights"] + weights.detach().sum(dim=0)  # (N,)

    def _observe_router_gradient(self, gradient: torch.Tensor) -> None:
        if self._seen is not None:
            self._seen["grad_norm"] = self._seen["grad_norm"] + gradient.detach().norm()
            self._seen["steps"] += 1

    def diagnostics(self) -> dict:
        """Since ``reset_diagnostics``: each group prompt's share of samples routed to each expert
        (``expert_usage[g][n]``, groups in the data set's order), how far apart the groups route
        (``routing_separation``), the mean entropy of the router's softmax over all N experts per
        group (nats; ln N is uniform), the mean reweighted w, and the mean L2 norm of the router's
        weight gradient per training step (None when nothing trained)."""
        seen = self._seen
        if not seen or not seen["samples"]:
            return {}
        n = seen["samples"]
        usage = seen["chosen"] / n
        return {
            "samples": n,
            "expert_usage": usage.tolist(),
            "routing_separation": routing_separation(usage.tolist()),
            "routing_entropy": (seen["entropy"] / n).tolist(),
            "mean_w": (seen["weights"] / n).tolist(),
            "router_grad_norm": float(seen["grad_norm"] / seen["steps"]) if seen["steps"] else None,
        }

    def pool_diagnostics(self, parts: dict[str, dict]) -> dict:
        """The test split's routing (``parts``: each prompt setting's ``diagnostics``) as one: every
        field averaged over the parts weighted by their samples, the separation of the pooled usage,
        and each setting's own under ``per_setting``. The settings' prompts differ (the explicit and
        counterfactual ones name a gender), so a router can route each setting apart: the pooled
        separation can be high where no single setting separates the groups (a group sent to a
        different expert in each setting). Read a setting's own, the training setting's first."""
        parts = {name: part for name, part in parts.items() if part}
        if not parts:
            return {}
        n = sum(part["samples"] for part in parts.values())

        def mean(field: str) -> list:
            return (sum(np.asarray(p[field], dtype=np.float64) * p["samples"] for p in parts.values()) / n).tolist()

        usage = mean("expert_usage")
        return {
            "samples": n,
            "expert_usage": usage,
            "routing_separation": routing_separation(usage),
            "routing_entropy": mean("routing_entropy"),
            "mean_w": mean("mean_w"),
            "router_grad_norm": None,
            "per_setting": parts,
        }

    def _experts(self, batch: Batch, backbone: Backbone) -> torch.Tensor:
        if self.config.expert == "prompt":
            return self.experts
        context = pooled_embeddings(backbone, batch.input_ids, batch.attention_mask).float()  # (B, d)
        shift = torch.einsum("bd,ndr,nrk->bnk", context, self.condition_in, self.condition_out)
        return self.experts[None] + shift.view(len(batch), *self.experts.shape)

"""FaiRLLM (Zhang et al. 2023), user-side: recommendations should not change when
the prompt names the user's sensitive attribute.

FaiRLLM compares, per user request, the recommendations under a neutral prompt
with those under a prompt naming attribute value a, averages that similarity over
requests (Sim_a), and reports SNSR = max_a Sim_a - min_a Sim_a and SNSV = the
(population) standard deviation of Sim_a. Here a request is a sample, the neutral
prompt is the batch's own input, the attribute prompts are the multi-stereotype
prompts ``batch.group_input_ids[g]``, and a recommendation is p = sigmoid(score):

    D_g = mean_b |p_neutral[b] - p_g[b]|         (pairing="sample", default)
    D_g = |mean_b p_neutral[b] - mean_b p_g[b]|  (pairing="batch": group-level rates)
    Sim_g = 1 - D_g

Choice (``form``):
- "divergence" (default): mean_g D_g. It is zero exactly when no group prompt moves
  any prediction, which makes SNSR and SNSV zero too (SNSR <= max_g D_g <= G mean_g D_g).
  SNSR/SNSV themselves only compare groups with each other: they are zero when every
  group moves the predictions by the same amount, and their gradient pushes the
  least-moved group *away* from the neutral prediction.
- "snsr" / "snsv": the metrics themselves, for a literal reading of Table 4's footnote.

``pairing="sample"`` follows FaiRLLM's per-request similarity (a counterfactual
test per user); "batch" only asks the batch's average recommendation rate to agree.
Cost: G extra forward (and backward) passes per batch.
"""

from __future__ import annotations

import torch

from harness.objectives.base import Objective


def neutral_divergence(p_neutral: torch.Tensor, p_groups: torch.Tensor, pairing: str = "sample") -> torch.Tensor:
    """D_g. p_neutral: (B,); p_groups: (G, B). Returns (G,)."""
    if pairing == "sample":
        return (p_groups - p_neutral[None]).abs().mean(dim=1)
    return (p_groups.mean(dim=1) - p_neutral.mean()).abs()


def fairllm_term(
    p_neutral: torch.Tensor, p_groups: torch.Tensor, form: str = "divergence", pairing: str = "sample"
) -> torch.Tensor:
    """The penalty from (B,) neutral and (G, B) group-prompt probabilities; a scalar."""
    divergence = neutral_divergence(p_neutral, p_groups, pairing)
    if form == "divergence":
        return divergence.mean()
    similarity = 1.0 - divergence
    if form == "snsr":
        return similarity.max() - similarity.min()
    return similarity.std(correction=0)


class FaiRLLM(Objective):
    needs_group_prompts = True

    def loss(self, model, batch, out, training):
        if batch.group_input_ids is None or batch.group_attention_mask is None:
            raise ValueError(
                "objective 'fairllm' needs the multi-stereotype prompts (batch.group_input_ids); "
                "build batches with group prompts"
            )
        p_groups = torch.stack(
            [
                torch.sigmoid(model(batch, input_ids=ids, attention_mask=mask).score)
                for ids, mask in zip(batch.group_input_ids, batch.group_attention_mask, strict=True)
            ]
        )
        return fairllm_term(torch.sigmoid(out.score), p_groups, self.config.form, self.config.pairing)

"""The recommender: a frozen backbone, a trainable head, and the paper's score.

Score (the paper's binary task): ``logit(Yes) - logit(No)`` at one position, the
first decoder step (seq2seq) or after the last prompt token (causal). Only that
position is projected onto the vocabulary. L_rec (Eq. 11) is the negative
log-likelihood of the label's answer token under the full-vocabulary softmax there.

Soft prompts (prompt tuning, p-tuning, MoS experts) go before the input
embeddings (Eq. 10); a seq2seq head may also put some before the decoder's start
token, as peft does for encoder-decoder models. For a causal LM the padding is
moved to the left of the soft prompt so the last position is the last prompt token.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field

import torch
from torch import nn

from harness.backbones.base import Backbone
from harness.precision import autocast


@dataclass
class Batch:
    """One batch. B samples, T tokens, G stereotype groups, T' group-prompt tokens.

    input_ids, attention_mask: (B, T) right-padded model input (the prompt setting's).
    labels: (B,) {0, 1}. user_group: (B,) int. h: (B,) float (Eq. 2).
    target_in_group: (B, G) bool (Eq. 3 for each target). index: (B,) sample ids.
    group_input_ids, group_attention_mask: (G, B, T') multi-stereotype prompts
        (§3.2), present when the head or an objective asked for them.
    weight: (B,) per-sample loss weights (IFairLRS), else None.
    """

    input_ids: torch.Tensor
    attention_mask: torch.Tensor
    labels: torch.Tensor
    user_group: torch.Tensor
    h: torch.Tensor
    target_in_group: torch.Tensor
    index: torch.Tensor
    group_input_ids: torch.Tensor | None = None
    group_attention_mask: torch.Tensor | None = None
    weight: torch.Tensor | None = None

    def __len__(self) -> int:
        return int(self.input_ids.shape[0])

    def to(self, device: torch.device) -> Batch:
        """The same batch with every tensor on ``device`` (itself when already there)."""
        if self.input_ids.device == device:
            return self
        return Batch(
            **{
                f.name: None if (value := getattr(self, f.name)) is None else value.to(device)
                for f in dataclasses.fields(self)
            }
        )


@dataclass
class Output:
    """score: (B,) logit(Yes) - logit(No). nll: (B,) -log P(label token) (Eq. 11).
    pooled: (B, d) mean of the last hidden states over real input tokens (encoder
    for seq2seq). aux: head-specific tensors (e.g. MoS routing) for objectives."""

    score: torch.Tensor
    nll: torch.Tensor
    pooled: torch.Tensor
    aux: dict = field(default_factory=dict)


@dataclass
class Prefix:
    """Soft prompts a head puts before the input: (B, P, d) each, or None."""

    encoder: torch.Tensor | None = None
    decoder: torch.Tensor | None = None


class Recommender(nn.Module):
    """Backbone + head. Only the head's parameters (including adapters it injects
    into the backbone, e.g. LoRA) require grad; the backbone runs in eval mode.
    ``precision`` (harness.precision): the backbone's part of a forward runs under autocast
    to it; the head's prefix and the loss stay fp32 (a frozen forward the head runs itself,
    MoS's hidden router input, follows ``precision`` too: setting it sets the head's)."""

    _precision: str = "fp32"

    def __init__(self, backbone: Backbone, head: nn.Module):
        super().__init__()
        self.backbone = backbone
        self.lm = backbone.model  # registered so injected adapters are parameters of this module
        self.head = head
        head.attach(backbone)
        # a buffer, so that it moves with the model: no host-to-device copy per forward
        self.register_buffer("_yes_no", torch.tensor([backbone.yes_id, backbone.no_id]), persistent=False)

    @property
    def precision(self) -> str:
        return self._precision

    @precision.setter
    def precision(self, value: str) -> None:
        self._precision = value
        self.head.precision = value

    def train(self, mode: bool = True):
        super().train(mode)
        self.lm.eval()  # frozen layers never drop out ...
        self.head.injected_train(mode)  # ... but what a head injected into them may (LoRA's dropout)
        return self

    @property
    def device(self) -> torch.device:
        """Where the backbone's weights are; batches are moved there."""
        return next(self.lm.parameters()).device

    def trainable_parameters(self) -> list[nn.Parameter]:
        return [p for p in self.parameters() if p.requires_grad]

    def trainable_state_dict(self) -> dict[str, torch.Tensor]:
        keep = {name for name, p in self.named_parameters() if p.requires_grad}
        return {k: v.detach().clone() for k, v in self.state_dict().items() if k in keep or k.startswith("head.")}

    def forward(
        self, batch: Batch, input_ids: torch.Tensor | None = None, attention_mask: torch.Tensor | None = None
    ) -> Output:
        """Score ``batch`` (or other input ids for the same samples, e.g. another prompt setting)."""
        ids = batch.input_ids if input_ids is None else input_ids
        mask = batch.attention_mask if attention_mask is None else attention_mask
        prefix, aux = self.head.prefix(batch, self.backbone)  # the head's own compute: fp32
        with autocast(self.precision, self.device):  # the frozen backbone's: train.precision
            embeds = self.backbone.embed(ids)
            if self.backbone.kind == "seq2seq":
                hidden, pooled = self._seq2seq(embeds, mask, prefix)
            else:
                hidden, pooled = self._causal(embeds, mask, prefix)
            logits = self.lm.get_output_embeddings()(hidden)  # (B, V): one position only
        logits, pooled = logits.float(), pooled.float()
        log_probs = torch.log_softmax(logits, dim=-1)
        yes_no = self._yes_no
        score = logits[:, yes_no[0]] - logits[:, yes_no[1]]
        answer = torch.where(batch.labels.bool(), yes_no[0], yes_no[1])
        nll = -log_probs.gather(1, answer[:, None]).squeeze(1)
        return Output(score=score.float(), nll=nll, pooled=pooled, aux=aux)

    def _seq2seq(self, embeds, mask, prefix: Prefix):
        if prefix.encoder is not None:
            embeds, mask = _prepend(prefix.encoder, embeds, mask)
        encoded = self.lm.get_encoder()(inputs_embeds=embeds, attention_mask=mask).last_hidden_state
        start = torch.full((embeds.shape[0], 1), self.lm.config.decoder_start_token_id, device=embeds.device)
        decoder_embeds = self.backbone.embed(start)
        if prefix.decoder is not None:
            decoder_embeds = torch.cat([prefix.decoder, decoder_embeds], dim=1)
        decoded = self.lm.get_decoder()(
            inputs_embeds=decoder_embeds, encoder_hidden_states=encoded, encoder_attention_mask=mask, use_cache=False
        ).last_hidden_state[:, -1]
        if getattr(self.lm.config, "scale_decoder_outputs", self.lm.config.tie_word_embeddings):
            decoded = decoded * self.lm.config.d_model**-0.5  # as T5ForConditionalGeneration does
        return decoded, _masked_mean(encoded, mask)

    def _causal(self, embeds, mask, prefix: Prefix):
        if prefix.encoder is not None:
            embeds, mask = _prepend(prefix.encoder, embeds, mask)
        hidden, mask = _causal_states(self.lm, embeds, mask)
        return hidden[:, -1], _masked_mean(hidden, mask)


def _causal_states(lm: nn.Module, embeds: torch.Tensor, mask: torch.Tensor):
    """A causal LM's last hidden states (B, T, d) and the mask in their order. The pads go to
    the far left (stable: real positions keep their order), so that position -1 is the last
    prompt token and positions count from the first real one."""
    order = torch.argsort(mask, dim=1, stable=True)
    mask = mask.gather(1, order)
    embeds = embeds.gather(1, order[..., None].expand_as(embeds))
    positions = (mask.cumsum(dim=1) - 1).clamp(min=0)
    hidden = getattr(lm, lm.base_model_prefix)(
        inputs_embeds=embeds, attention_mask=mask, position_ids=positions, use_cache=False
    ).last_hidden_state
    return hidden, mask


def _prepend(prefix: torch.Tensor, embeds: torch.Tensor, mask: torch.Tensor):
    ones = torch.ones(prefix.shape[:2], dtype=mask.dtype, device=mask.device)
    return torch.cat([prefix.to(embeds.dtype), embeds], dim=1), torch.cat([ones, mask], dim=1)


def _masked_mean(hidden: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    weights = mask[..., None].to(hidden.dtype)
    return (hidden * weights).sum(dim=-2) / weights.sum(dim=-2).clamp(min=1.0)


def pooled_embeddings(backbone: Backbone, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
    """Mean frozen input embedding over real tokens: (..., T) -> (..., d). The MoS router's input."""
    with torch.no_grad():
        return _masked_mean(backbone.embed(input_ids), attention_mask)


def pooled_states(
    backbone: Backbone,
    input_ids: torch.Tensor,
    attention_mask: torch.Tensor,
    pool: str = "mean",
    precision: str = "fp32",
) -> torch.Tensor:
    """The frozen backbone's last hidden states over prompts (the encoder's for seq2seq), with no
    soft prompt and no gradient, pooled over each prompt's real tokens: "mean", or "last" (the
    last real token's state). (..., T) -> (..., d) fp32. The forward runs under ``precision``'s
    autocast, as the ``Recommender``'s own. The MoS router's input with ``router_input="hidden"``."""
    if pool not in ("mean", "last"):
        raise ValueError(f"pool must be 'mean' or 'last', got {pool!r}")
    shape = input_ids.shape
    ids, mask = input_ids.reshape(-1, shape[-1]), attention_mask.reshape(-1, shape[-1])
    with torch.no_grad(), autocast(precision, ids.device):
        embeds = backbone.embed(ids)
        if backbone.kind == "seq2seq":
            hidden = backbone.model.get_encoder()(inputs_embeds=embeds, attention_mask=mask).last_hidden_state
        else:
            hidden, mask = _causal_states(backbone.model, embeds, mask)
        if pool == "mean":
            pooled = _masked_mean(hidden, mask)
        else:  # the last real position, wherever the padding is (left for causal, right for seq2seq)
            last = (mask * torch.arange(mask.shape[-1], device=mask.device)).argmax(dim=-1)
            pooled = hidden[torch.arange(len(hidden), device=hidden.device), last]
    return pooled.float().reshape(*shape[:-1], -1)

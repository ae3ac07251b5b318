"""Every registered head x {tiny T5, tiny Llama}: forward, backward, which
parameters train, and a state-dict round trip. The tiny models are test fixtures."""

import pytest
import torch

from harness.backbones.tiny import tiny_llama, tiny_t5
from harness.config.heads import list_heads
from harness.heads import build_head
from harness.model import Recommender
from tests.fixtures import EXTRA_TEXT, make_batch

BACKBONES = {"tiny_t5": tiny_t5, "tiny_llama": tiny_llama}
HEADS = [spec.name for spec in list_heads()]


def _model(backbone_name, head, seed=0):
    backbone = BACKBONES[backbone_name](EXTRA_TEXT, seed=seed)
    torch.manual_seed(seed)
    return Recommender(backbone, build_head(head)), backbone


@pytest.mark.parametrize("backbone_name", BACKBONES)
@pytest.mark.parametrize("head", HEADS)
def test_forward_backward_and_trainable_parameters(backbone_name, head):
    model, backbone = _model(backbone_name, head)
    batch = make_batch(backbone.tokenizer)
    out = model(batch)
    assert out.score.shape == (3,) and torch.isfinite(out.score).all() and torch.isfinite(out.nll).all()
    # what the registry says a head provides to objectives is what it returns (config/heads.py)
    from harness.config.heads import get_head

    assert set(out.aux) == set(get_head(head).provides), head
    trainable = {name for name, p in model.named_parameters() if p.requires_grad}
    assert all(name.startswith("head.") or "lora_" in name for name in trainable)
    if head == "llm":
        assert not trainable
        return
    assert trainable
    out.nll.mean().backward()
    for name, p in model.named_parameters():
        if p.requires_grad:
            assert p.grad is not None, f"{name} got no gradient"
        else:
            assert p.grad is None, f"frozen {name} got a gradient"


@pytest.mark.parametrize("backbone_name", BACKBONES)
@pytest.mark.parametrize("head", HEADS)
def test_state_dict_round_trip(backbone_name, head):
    model, backbone = _model(backbone_name, head, seed=0)
    with torch.no_grad():
        for p in model.trainable_parameters():
            p.add_(torch.randn_like(p) * 0.1)  # move away from the initialisation
    state = model.trainable_state_dict()
    other, _ = _model(backbone_name, head, seed=1)
    other.lm.load_state_dict(model.lm.state_dict())  # same frozen weights, different head init
    other.load_state_dict(state, strict=False)
    batch = make_batch(backbone.tokenizer)
    torch.manual_seed(0)
    a = model.eval()(batch).score
    torch.manual_seed(0)
    b = other.eval()(batch).score
    torch.testing.assert_close(a, b)


def test_llm_head_score_matches_the_transformers_forward():
    """The scoring path (one position, logit(Yes) - logit(No)) agrees with a plain model call."""
    for name in BACKBONES:
        model, backbone = _model(name, "llm")
        batch = make_batch(backbone.tokenizer)
        ours = model(batch).score
        yes, no = backbone.yes_id, backbone.no_id
        with torch.no_grad():
            if backbone.kind == "seq2seq":
                start = torch.zeros(3, 1, dtype=torch.long)
                logits = backbone.model(
                    input_ids=batch.input_ids, attention_mask=batch.attention_mask, decoder_input_ids=start
                ).logits[:, 0]
            else:
                backbone.tokenizer.padding_side = "left"
                from tests.fixtures import PROMPTS

                enc = backbone.tokenizer(PROMPTS, padding=True, return_tensors="pt")
                positions = (enc["attention_mask"].cumsum(1) - 1).clamp(min=0)
                logits = backbone.model(**enc, position_ids=positions).logits[:, -1]
        torch.testing.assert_close(ours, logits[:, yes] - logits[:, no], rtol=1e-4, atol=1e-5)


def test_unknown_head_and_option_errors_name_the_choices():
    with pytest.raises(KeyError, match="registered heads: .*mos"):
        build_head("adapterfusion")
    with pytest.raises(ValueError, match=r"unknown option\(s\) \['rank'\]; valid: .*'r'"):
        build_head("lora", rank=4)
    with pytest.raises(ValueError, match="preset that fixes"):
        build_head("tallrec", r=16)
    with pytest.raises(ValueError, match="top_k"):
        build_head("mos", top_k=5)


@pytest.mark.parametrize("backbone_name", sorted(BACKBONES))
def test_in_training_only_what_a_head_injected_drops_out(backbone_name):
    """The frozen backbone stays in eval mode when the model trains (no dropout in it); LoRA's
    own dropout follows train and eval (the LoRA head says which modules are its)."""
    model = Recommender(BACKBONES[backbone_name](EXTRA_TEXT), build_head("lora", dropout=0.1))
    injected = [m for name, m in model.lm.named_modules() if "lora_dropout" in name]
    assert injected
    model.train()
    assert all(m.training for m in injected)
    assert not any(m.training for name, m in model.lm.named_modules() if "lora_" not in name)
    model.eval()
    assert not any(m.training for m in model.lm.modules())

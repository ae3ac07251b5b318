"""MoS: top-K routing (Eq. 7), stochastic routing, reweighting (Eq. 8), and that
the stereotype words never reach the language model's input."""

import torch

from harness.backbones.tiny import tiny_t5
from harness.heads import build_head
from harness.heads.mos import route
from harness.model import Recommender
from tests.fixtures import EXTRA_TEXT, make_batch


def test_top_k_zeroes_the_rest_and_sums_to_one():
    logits = torch.tensor([[0.1, 2.0, -1.0, 1.5], [3.0, 0.0, 0.0, 0.0]])
    top1 = route(logits, 1, stochastic=False)
    assert top1.tolist() == [[0, 1, 0, 0], [1, 0, 0, 0]]
    top2 = route(logits, 2, stochastic=False)
    assert (top2 > 0).sum(dim=1).tolist() == [2, 2]
    torch.testing.assert_close(top2.sum(dim=1), torch.ones(2))
    expected = torch.softmax(torch.tensor([2.0, 1.5]), dim=0)   # renormalised over the chosen two
    torch.testing.assert_close(top2[0, [1, 3]], expected)


def test_stochastic_routing_differs_from_top_1():
    torch.manual_seed(0)
    logits = torch.tensor([[1.0, 0.5, 0.0, -0.5]]).repeat(200, 1)
    stochastic = route(logits, 1, stochastic=True)
    assert (stochastic.argmax(dim=1) != 0).any()     # sometimes not the top expert
    torch.testing.assert_close(stochastic.sum(dim=1), torch.ones(200))
    assert ((stochastic > 0).sum(dim=1) == 1).all()


def test_stereotype_words_never_reach_the_language_model():
    backbone = tiny_t5(EXTRA_TEXT)
    model = Recommender(backbone, build_head("mos"))
    batch = make_batch(backbone.tokenizer)
    seen = {}
    encoder = backbone.model.get_encoder()
    handle = encoder.register_forward_pre_hook(lambda m, args, kwargs: seen.update(kwargs), with_kwargs=True)
    prefix, _ = model.head.prefix(batch, backbone)
    model(batch)
    handle.remove()
    expected = torch.cat([prefix.encoder, backbone.embed(batch.input_ids)], dim=1)
    torch.testing.assert_close(seen["inputs_embeds"], expected)
    group_ids = {backbone.tokenizer.convert_tokens_to_ids(w) for w in ("male", "female")}
    assert not group_ids & set(batch.input_ids.flatten().tolist())
    assert group_ids & set(batch.group_input_ids.flatten().tolist())   # only the router reads them


def test_reweighting_starts_at_identity_and_ablation_uses_mean_routing():
    backbone = tiny_t5(EXTRA_TEXT)
    batch = make_batch(backbone.tokenizer)
    with_r = Recommender(backbone, build_head("mos")).head
    _, aux = with_r.prefix(batch, backbone)
    torch.testing.assert_close(aux["weights"], aux["routing"].mean(dim=0))
    assert aux["routing"].shape == (2, 3, 4)
    without = build_head("mos", reweighting=False)
    without.attach(backbone)
    assert not hasattr(without, "reweight")   # no unused parameters counted as trainable
    _, aux = without.prefix(batch, backbone)
    torch.testing.assert_close(aux["weights"], aux["routing"].mean(dim=0))


def test_conditioned_experts_depend_on_the_input():
    backbone = tiny_t5(EXTRA_TEXT)
    head = build_head("mos", expert="conditioned")
    head.attach(backbone)
    with torch.no_grad():
        head.condition_out.normal_()
    batch = make_batch(backbone.tokenizer)
    experts = head._experts(batch, backbone)
    assert experts.shape == (3, 4, 5, backbone.hidden_size)
    assert not torch.allclose(experts[0], experts[1])

"""MoS: top-K routing (Eq. 7) and its gates, a router that learns at top-1 under the
default gate and not under the literal Eq. 7, stochastic routing, reweighting (Eq. 8),
that the stereotype words never reach the language model's input, the hidden-state router
input and the routing separation diagnostic."""

import pytest
import torch

from harness.backbones.tiny import tiny_llama, tiny_t5
from harness.heads import build_head
from harness.heads.mos import route
from harness.model import Recommender
from harness.objectives import build_objective
from harness.stereotype import routing_separation
from tests.fixtures import EXTRA_TEXT, make_batch


def test_top_k_zeroes_the_rest_and_sums_to_one():
    logits = torch.tensor([[0.1, 2.0, -1.0, 1.5], [3.0, 0.0, 0.0, 0.0]])
    top1 = route(logits, 1, stochastic=False, gate="eq7")
    assert top1.tolist() == [[0, 1, 0, 0], [1, 0, 0, 0]]
    top2 = route(logits, 2, stochastic=False, gate="eq7")
    assert (top2 > 0).sum(dim=1).tolist() == [2, 2]
    torch.testing.assert_close(top2.sum(dim=1), torch.ones(2))
    expected = torch.softmax(torch.tensor([2.0, 1.5]), dim=0)  # renormalised over the chosen two
    torch.testing.assert_close(top2[0, [1, 3]], expected)


def test_gates_keep_the_choice_and_differ_in_value_and_gradient():
    logits = torch.tensor([[0.1, 2.0, -1.0, 1.5]], requires_grad=True)
    full = torch.softmax(logits.detach(), dim=-1)
    eq7 = route(logits, 1, stochastic=False, gate="eq7")
    switch = route(logits, 1, stochastic=False, gate="switch")
    through = route(logits, 1, stochastic=False, gate="straight_through")
    assert eq7.tolist() == through.tolist() == [[0, 1, 0, 0]]  # straight-through: Eq. 7's values
    torch.testing.assert_close(switch, full * torch.tensor([[0, 1, 0, 0]]))  # p_1 of all four, not renormalised
    top2 = route(logits, 2, stochastic=False, gate="switch")
    torch.testing.assert_close(top2[0, [1, 3]], full[0, [1, 3]])
    gradients = {}
    for gate in ("eq7", "switch", "straight_through"):
        logits.grad = None
        route(logits, 1, stochastic=False, gate=gate)[0, 1].backward()
        gradients[gate] = logits.grad.clone()
    assert (gradients["eq7"] == 0).all()  # top-1 Eq. 7: nothing to learn from
    assert (gradients["switch"] != 0).all()
    torch.testing.assert_close(gradients["switch"], gradients["straight_through"])
    with pytest.raises(ValueError, match="gate must be one of"):
        route(logits, 1, stochastic=False, gate="hard")


@pytest.mark.parametrize("gate, learns", [("switch", True), ("straight_through", True), ("eq7", False)])
def test_router_parameters_change_after_one_step_at_top_1_unless_eq7(gate, learns):
    from transformers.optimization import Adafactor

    backbone = tiny_t5(EXTRA_TEXT)
    torch.manual_seed(0)
    model = Recommender(backbone, build_head("mos", top_k=1, gate=gate))
    assert model.head.config.top_k == 1
    before = model.head.router.weight.detach().clone()
    optimizer = Adafactor(list(model.trainable_parameters()), lr=0.5, relative_step=False, scale_parameter=False)
    model(make_batch(backbone.tokenizer)).nll.mean().backward()
    assert bool(model.head.router.weight.grad.abs().sum() > 0) is learns
    optimizer.step()
    assert (not torch.equal(model.head.router.weight, before)) is learns


@pytest.mark.parametrize("gate", ["switch", "eq7"])
def test_routing_diagnostics_count_what_the_router_did(gate):
    backbone = tiny_t5(EXTRA_TEXT)
    torch.manual_seed(0)
    model = Recommender(
        backbone, build_head("mos", top_k=2, gate=gate) if gate == "switch" else build_head("mos", gate=gate)
    )
    assert model.head.diagnostics() == {}  # nothing collected yet
    model.head.reset_diagnostics()
    batch = make_batch(backbone.tokenizer)
    model(batch).nll.mean().backward()
    seen = model.head.diagnostics()
    k = model.head.config.top_k
    assert seen["samples"] == 3 and len(seen["expert_usage"]) == 2  # two group prompts
    assert all(sum(row) == pytest.approx(k) for row in seen["expert_usage"])
    assert all(0 <= e <= torch.log(torch.tensor(4.0)).item() + 1e-6 for e in seen["routing_entropy"])
    assert len(seen["mean_w"]) == 4
    assert (seen["router_grad_norm"] > 0) is (gate == "switch")


def test_router_input_can_tell_the_groups_apart():
    backbone = tiny_t5(EXTRA_TEXT)
    batch = make_batch(backbone.tokenizer)
    plain, both = build_head("mos"), build_head("mos", router_input="prompt+stereotype")
    plain.attach(backbone)
    both.attach(backbone)
    x, y = plain._router_input(batch, backbone), both._router_input(batch, backbone)
    assert x.shape[-1] * 2 == y.shape[-1] == both.router.in_features
    torch.testing.assert_close(y[..., : x.shape[-1]], x)
    # the stereotype half is the two inserted words' embeddings: one group's differs from the other's
    words = backbone.embed(torch.tensor(backbone.tokenizer.convert_tokens_to_ids(["male", "female"])))
    torch.testing.assert_close(y[0, 0, x.shape[-1] :], 2 * words[0].float())
    torch.testing.assert_close(y[1, 0, x.shape[-1] :], 2 * words[1].float())


def test_mos_gate_defaults_to_the_one_that_learns():
    assert build_head("mos").config.gate == "switch"


def test_stochastic_routing_differs_from_top_1():
    torch.manual_seed(0)
    logits = torch.tensor([[1.0, 0.5, 0.0, -0.5]]).repeat(200, 1)
    stochastic = route(logits, 1, stochastic=True, gate="eq7")
    assert (stochastic.argmax(dim=1) != 0).any()  # sometimes not the top expert
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
    assert group_ids & set(batch.group_input_ids.flatten().tolist())  # only the router reads them


def test_reweighting_starts_at_identity_and_ablation_uses_mean_routing():
    backbone = tiny_t5(EXTRA_TEXT)
    batch = make_batch(backbone.tokenizer)
    with_r = Recommender(backbone, build_head("mos")).head
    _, aux = with_r.prefix(batch, backbone)
    torch.testing.assert_close(aux["weights"], aux["routing"].mean(dim=0))
    assert aux["routing"].shape == (2, 3, 4)
    without = build_head("mos", reweighting=False)
    without.attach(backbone)
    assert not hasattr(without, "reweight")  # no unused parameters counted as trainable
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


# ---- the hidden router input, the routing separation and the gates with L_balance (issue 30)

BACKBONES = {"tiny_t5": tiny_t5, "tiny_llama": tiny_llama}


def _alone_states(backbone, ids: torch.Tensor) -> torch.Tensor:
    """A prompt's last hidden states run alone, unpadded, straight through transformers."""
    if backbone.kind == "seq2seq":
        return backbone.model.get_encoder()(input_ids=ids[None]).last_hidden_state[0]
    return backbone.model.model(input_ids=ids[None]).last_hidden_state[0]


@pytest.mark.parametrize("backbone_name", sorted(BACKBONES))
def test_hidden_router_input_is_the_frozen_models_state_of_each_group_prompt(backbone_name):
    backbone = BACKBONES[backbone_name](EXTRA_TEXT)
    batch = make_batch(backbone.tokenizer)
    inputs = {}
    for name in ("hidden", "hidden_last"):
        head = build_head("mos", router_input=name)
        head.attach(backbone)
        inputs[name] = head._router_input(batch, backbone)
        assert inputs[name].shape == (2, 3, backbone.hidden_size) == (2, 3, head.router.in_features)
        assert not inputs[name].requires_grad  # the backbone is frozen
    with torch.no_grad():
        for g in range(2):
            for b in range(3):
                ids = batch.group_input_ids[g, b][batch.group_attention_mask[g, b].bool()]
                states = _alone_states(backbone, ids)
                torch.testing.assert_close(inputs["hidden"][g, b], states.mean(dim=0), rtol=1e-4, atol=1e-5)
                torch.testing.assert_close(inputs["hidden_last"][g, b], states[-1], rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("backbone_name", sorted(BACKBONES))
def test_hidden_router_input_carries_the_group_word_at_every_later_token(backbone_name):
    """Two group prompts that differ by one word (in two places): their input embeddings differ
    at those two positions only, so the pooled input embedding carries the word in 2 of T
    tokens; the frozen model's hidden states differ at every position from the first group
    word on (all of them in a bidirectional encoder), and the pooled ones differ too."""
    backbone = BACKBONES[backbone_name](EXTRA_TEXT)
    batch = make_batch(backbone.tokenizer)
    head = build_head("mos", router_input="hidden")
    head.attach(backbone)
    pooled = head._router_input(batch, backbone)
    with torch.no_grad():
        for b in range(2):  # the prompts with a group word
            ids = [batch.group_input_ids[g, b][batch.group_attention_mask[g, b].bool()] for g in range(2)]
            assert len(ids[0]) == len(ids[1])
            words = (ids[0] != ids[1]).nonzero().flatten()
            assert len(words) == 2  # "a male user's" ... "this male user"
            embedded = (backbone.embed(ids[0]) != backbone.embed(ids[1])).any(dim=-1)
            assert embedded.nonzero().flatten().tolist() == words.tolist()
            states = (_alone_states(backbone, ids[0]) - _alone_states(backbone, ids[1])).abs().amax(dim=-1)
            reached = torch.arange(len(ids[0])) >= (0 if backbone.kind == "seq2seq" else words[0])
            assert (states[reached] > 1e-6).all() and (states[~reached] == 0).all()
            assert (pooled[0, b] - pooled[1, b]).abs().max() > 1e-6


def test_setting_the_models_precision_sets_the_heads():
    model = Recommender(tiny_t5(EXTRA_TEXT), build_head("mos", router_input="hidden"))
    assert model.precision == model.head.precision == "fp32"
    model.precision = "bf16"
    assert model.head.precision == "bf16"


def test_diagnostics_report_the_routing_separation():
    backbone = tiny_t5(EXTRA_TEXT)
    torch.manual_seed(0)
    model = Recommender(backbone, build_head("mos", router_input="hidden"))
    model.head.reset_diagnostics()
    model(make_batch(backbone.tokenizer)).nll.mean().backward()
    seen = model.head.diagnostics()
    assert seen["routing_separation"] == pytest.approx(routing_separation(seen["expert_usage"]))
    assert seen["router_grad_norm"] > 0


@pytest.mark.parametrize("backbone_name", sorted(BACKBONES))
@pytest.mark.parametrize("gate", ["switch", "straight_through", "eq7"])
def test_every_gate_trains_the_hidden_router_at_top_1_with_the_balance_loss(backbone_name, gate):
    """L_rec alone reaches the router at top-1 except through Eq. 7's literal gate; L_balance
    reaches it through P under every gate."""
    backbone = BACKBONES[backbone_name](EXTRA_TEXT)
    batch = make_batch(backbone.tokenizer)
    torch.manual_seed(0)
    model = Recommender(backbone, build_head("mos", top_k=1, gate=gate, router_input="hidden"))
    balance = build_objective("balance")
    gradients = {}
    for objectives in ("rec", "rec+balance"):
        model.zero_grad(set_to_none=True)
        out = model(batch)
        loss = out.nll.mean()
        if objectives == "rec+balance":
            loss = loss + balance.config.weight * balance.loss(model, batch, out, training=True)
        loss.backward()
        gradients[objectives] = model.head.router.weight.grad.abs().sum().item()
    assert (gradients["rec"] > 0) is (gate != "eq7"), gradients
    if gate == "eq7":
        assert gradients["rec"] == 0.0
    assert gradients["rec+balance"] > 0, gradients

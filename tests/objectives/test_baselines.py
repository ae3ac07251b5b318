"""The fairness-oriented baselines of Table 4: IFairLRS, UP5, FaiRLLM."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from harness.backbones.tiny import tiny_t5
from harness.data.prepare import Measurement, Prepared
from harness.data.samples import Samples
from harness.heads import build_head
from harness.model import Batch, Output, Recommender
from harness.objectives import build_objective
from harness.objectives.fairllm import fairllm_term
from harness.objectives.ifairlrs import item_groups
from harness.prompts import PromptTemplate

# ---------------------------------------------------------------- IFairLRS


def tiny_prepared() -> Prepared:
    """5 items, 2 groups. Item classes: 0 -> g0, 1 -> g1, 2 -> g1 (in both, higher
    degree to g1), 3, 4 -> no group (class 2). Samples 0-3 train, 4 test."""
    in_group = np.array([[1, 0], [0, 1], [1, 1], [0, 0], [0, 0]], dtype=bool)
    degree = np.array([[0.5, -0.5], [-0.5, 0.5], [0.3, 0.6], [0.0, 0.0], [0.0, 0.0]])
    history = np.array([[0, 0], [0, 3], [1, 4], [3, -1], [1, 1]])
    target = np.array([1, 2, 0, 4, 3])
    n = len(target)
    samples = Samples(
        dataset="tiny",
        groups=("a", "b"),
        user_ids=np.arange(n).astype(object),
        titles=np.array([f"t{i}" for i in range(5)], dtype=object),
        user=np.arange(n),
        user_group=np.array([0, 1, 0, 1, 0]),
        history=history,
        history_liked=np.ones_like(history, dtype=bool),
        target=target,
        label=np.array([1, 0, 1, 0, 1]),
        target_rating=np.array([4.0, 2.0, 5.0, 1.0, 4.0]),
        split=np.array([0, 0, 0, 0, 2]),
        like_threshold=3.0,
        like_comparison="gt",
    )
    measurement = Measurement(
        degree=degree,
        threshold=np.array([0.3, 0.3]),
        item_in_group=in_group,
        h=np.zeros(n),
        target_in_group=in_group[target],
        items_measured=np.ones(5, bool),
    )
    return Prepared(samples, measurement)


def index_batch(indices) -> Batch:
    b = len(indices)
    return Batch(
        input_ids=torch.zeros(b, 3, dtype=torch.long),
        attention_mask=torch.ones(b, 3, dtype=torch.long),
        labels=torch.zeros(b, dtype=torch.long),
        user_group=torch.zeros(b, dtype=torch.long),
        h=torch.zeros(b),
        target_in_group=torch.zeros(b, 2, dtype=torch.bool),
        index=torch.tensor(indices),
    )


def fitted_ifairlrs(**options):
    prepared = tiny_prepared()
    objective = build_objective("ifairlrs", **options)
    objective.fit(prepared, prepared.samples.split == 0)
    return objective


def test_item_groups_take_highest_degree_and_no_group():
    prepared = tiny_prepared()
    assert item_groups(prepared.measurement.item_in_group, prepared.measurement.degree).tolist() == [0, 1, 1, 2, 2]


def test_ifairlrs_weights_by_hand():
    # train histories (the -1 pad ignored): classes 0,0,0,2,1,2,2 -> shares 3/7, 1/7, 3/7
    # train targets: classes 1,1,0,2 -> shares 1/4, 1/2, 1/4
    objective = fitted_ifairlrs()
    np.testing.assert_allclose(objective.history_share, [3 / 7, 1 / 7, 3 / 7])
    np.testing.assert_allclose(objective.target_share, [1 / 4, 1 / 2, 1 / 4])
    np.testing.assert_allclose(objective.ratio, [12 / 7, 2 / 7, 12 / 7])
    # training mean is already 1 (sum of history shares), so normalising changes nothing here
    weights = objective.sample_weight(index_batch([0, 1, 2, 3, 4]))
    np.testing.assert_allclose(weights.numpy(), [2 / 7, 2 / 7, 12 / 7, 12 / 7, 12 / 7], rtol=1e-6)


def test_ifairlrs_clip_then_normalise_and_weight_zero():
    # clipped at 1.5: 2/7, 2/7, 1.5, 1.5 -> training mean 25/28
    weights = fitted_ifairlrs(max_weight=1.5).sample_weight(index_batch([3, 0, 4]))
    np.testing.assert_allclose(weights.numpy(), [1.5 * 28 / 25, 2 / 7 * 28 / 25, 1.5 * 28 / 25], rtol=1e-6)
    raw = fitted_ifairlrs(max_weight=1.5, normalize=False).sample_weight(index_batch([3, 0]))
    np.testing.assert_allclose(raw.numpy(), [1.5, 2 / 7], rtol=1e-6)
    np.testing.assert_allclose(fitted_ifairlrs(weight=0.0).sample_weight(index_batch([0, 2, 4])).numpy(), 1.0)


def test_ifairlrs_loss_is_a_connected_zero_and_weights_reach_rec():
    objective = fitted_ifairlrs()
    batch = index_batch([0, 2])
    score = torch.tensor([0.3, -0.2], requires_grad=True)
    nll = torch.tensor([1.0, 3.0])
    out = Output(score=score, nll=nll, pooled=torch.zeros(2, 4))
    loss = objective.loss(None, batch, out, training=True)
    assert loss.item() == 0.0
    loss.backward()
    assert score.grad is not None
    batch.weight = objective.sample_weight(batch)
    rec = build_objective("rec").loss(None, batch, out, training=True)
    assert rec.item() == pytest.approx((2 / 7 * 1.0 + 12 / 7 * 3.0) / (2 / 7 + 12 / 7))


def test_ifairlrs_needs_fit():
    with pytest.raises(RuntimeError, match="fit"):
        build_objective("ifairlrs").sample_weight(index_batch([0]))


# ---------------------------------------------------------------- UP5


def group_batch(user_group: torch.Tensor, n_groups: int = 2) -> Batch:
    b = len(user_group)
    batch = index_batch(list(range(b)))
    batch.user_group = user_group
    batch.target_in_group = torch.zeros(b, n_groups, dtype=torch.bool)
    return batch


def separable(seed: int, b: int = 64, d: int = 8):
    generator = torch.Generator().manual_seed(seed)
    groups = torch.randint(0, 2, (b,), generator=generator)
    pooled = torch.randn(b, d, generator=generator) + 2.0 * (2 * groups[:, None] - 1)
    return group_batch(groups), pooled


def pooled_out(pooled: torch.Tensor) -> Output:
    return Output(score=torch.zeros(len(pooled)), nll=torch.zeros(len(pooled)), pooled=pooled)


def accuracy(objective, batch, pooled) -> float:
    with torch.no_grad():
        return (objective.discriminator(pooled).argmax(1) == batch.user_group).float().mean().item()


def test_up5_discriminator_learns_separable_groups():
    torch.manual_seed(0)
    objective = build_objective("up5", disc_lr=1e-2, disc_hidden=16)
    batch, pooled = separable(seed=1)
    objective.loss(None, batch, pooled_out(pooled), training=False)  # builds it, no update
    before = accuracy(objective, batch, pooled)
    for step in range(20):
        train_batch, train_pooled = separable(seed=100 + step)
        objective.loss(None, train_batch, pooled_out(train_pooled), training=True)
    after = accuracy(objective, batch, pooled)
    assert before < 0.9 <= after


@pytest.mark.parametrize("adversary", ["negative_ce", "uniform", "prior"])
def test_up5_adversarial_term_has_gradient_on_pooled_only(adversary):
    torch.manual_seed(0)
    objective = build_objective("up5", adversary=adversary, disc_hidden=16)
    objective.fit(tiny_prepared(), tiny_prepared().samples.split == 0)
    batch, pooled = separable(seed=2)
    pooled.requires_grad_(True)
    loss = objective.loss(None, batch, pooled_out(pooled), training=True)
    loss.backward()
    assert pooled.grad is not None and pooled.grad.abs().sum() > 0
    assert all(p.grad is None for p in objective.discriminator.parameters())  # the head's term left it alone
    assert all(p.requires_grad for p in objective.discriminator.parameters())
    if adversary != "negative_ce":
        assert loss.item() >= -1e-6


def test_up5_kl_is_zero_for_an_unsure_discriminator():
    objective = build_objective("up5", adversary="uniform")
    assert objective._adversarial(torch.zeros(4, 3), torch.zeros(4, dtype=torch.long)).item() == pytest.approx(0)


def test_up5_state_dict_round_trip_continues_exactly():
    torch.manual_seed(0)
    a = build_objective("up5", disc_hidden=16)
    for step in range(3):
        batch, pooled = separable(seed=10 + step)
        a.loss(None, batch, pooled_out(pooled), training=True)
    b = build_objective("up5", disc_hidden=16)
    b.load_state_dict(a.state_dict())
    rng = torch.get_rng_state()
    for step in range(3):
        batch, pooled = separable(seed=20 + step)
        loss_a = a.loss(None, batch, pooled_out(pooled), training=True)
        loss_b = b.loss(None, batch, pooled_out(pooled), training=True)
        assert torch.equal(loss_a, loss_b)
    assert torch.equal(rng, torch.get_rng_state())  # re-creating the loaded discriminator drew nothing
    for pa, pb in zip(a.discriminator.parameters(), b.discriminator.parameters(), strict=True):
        assert torch.equal(pa, pb)
    assert a.state_dict()["optimizer"]["state"][0]["step"] == b.state_dict()["optimizer"]["state"][0]["step"]


def test_up5_rejects_a_state_of_another_size():
    a = build_objective("up5", disc_hidden=16)
    batch, pooled = separable(seed=0)
    a.loss(None, batch, pooled_out(pooled), training=True)
    b = build_objective("up5", disc_hidden=16)
    b.load_state_dict(a.state_dict())
    with pytest.raises(ValueError, match="saved discriminator"):
        b.loss(None, batch, pooled_out(pooled[:, :4]), training=True)


# ---------------------------------------------------------------- FaiRLLM


def test_fairllm_forms_by_hand():
    p_neutral = torch.tensor([0.5, 0.5])
    p_groups = torch.tensor([[0.5, 0.7], [0.9, 0.1]])
    # per-sample divergences 0.1, 0.4 -> similarities 0.9, 0.6
    assert fairllm_term(p_neutral, p_groups, "divergence").item() == pytest.approx(0.25)
    assert fairllm_term(p_neutral, p_groups, "snsr").item() == pytest.approx(0.3)
    assert fairllm_term(p_neutral, p_groups, "snsv").item() == pytest.approx(0.15)
    # batch means: 0.6 and 0.5 against 0.5 -> 0.1, 0.0
    assert fairllm_term(p_neutral, p_groups, "divergence", "batch").item() == pytest.approx(0.05)


@pytest.fixture(scope="module")
def recommender():
    backbone = tiny_t5(texts=["Heat", "Alien", "Up", "Fargo"], seed=0)
    torch.manual_seed(0)
    return Recommender(backbone, build_head("prompt_tuning", num_virtual_tokens=4)), backbone.tokenizer


def encode(tokenizer, texts):
    encoded = tokenizer(texts, padding=True, return_tensors="pt")
    return encoded["input_ids"], encoded["attention_mask"]


def prompt_batch(tokenizer, group_words=("male", "female")) -> Batch:
    """Three samples, implicit prompts as input, one multi-stereotype prompt per group word."""
    rows = [(["Heat"], ["Alien"], "Up"), (["Up", "Fargo"], [], "Heat"), ([], ["Heat"], "Fargo")]
    template = PromptTemplate()
    ids, mask = encode(tokenizer, [template.render(*row, None) for row in rows])
    groups = [encode(tokenizer, [template.render(*row, word) for row in rows]) for word in group_words]
    width = max(g[0].shape[1] for g in groups)

    def pad(t):  # 0: the tiny pad id, and mask 0
        return torch.nn.functional.pad(t, (0, width - t.shape[1]))

    batch = group_batch(torch.tensor([0, 1, 0]))
    batch.input_ids, batch.attention_mask = ids, mask
    batch.labels = torch.tensor([1, 0, 1])
    batch.group_input_ids = torch.stack([pad(g[0]) for g in groups])
    batch.group_attention_mask = torch.stack([pad(g[1]) for g in groups])
    return batch


@pytest.mark.parametrize("form", ["divergence", "snsr", "snsv"])
def test_fairllm_zero_when_group_prompts_are_the_neutral_prompt(recommender, form):
    model, tokenizer = recommender
    batch = prompt_batch(tokenizer)
    batch.group_input_ids = torch.stack([batch.input_ids] * 2)
    batch.group_attention_mask = torch.stack([batch.attention_mask] * 2)
    model.train()
    loss = build_objective("fairllm", form=form).loss(model, batch, model(batch), training=True)
    assert loss.item() == 0.0


def test_fairllm_positive_and_trains_the_head(recommender):
    model, tokenizer = recommender
    objective = build_objective("fairllm")
    assert objective.needs_group_prompts
    batch = prompt_batch(tokenizer)
    model.train()
    model.zero_grad(set_to_none=True)
    loss = objective.loss(model, batch, model(batch), training=True)
    assert loss.item() > 0
    loss.backward()
    grads = [p.grad for p in model.trainable_parameters()]
    assert grads and all(g is not None and g.abs().sum() > 0 for g in grads)


def test_fairllm_needs_group_prompts(recommender):
    model, tokenizer = recommender
    batch = prompt_batch(tokenizer)
    batch.group_input_ids = batch.group_attention_mask = None
    with pytest.raises(ValueError, match="multi-stereotype"):
        build_objective("fairllm").loss(model, batch, model(batch), training=True)


# ---------------------------------------------------------------- options


@pytest.mark.parametrize("name", ["ifairlrs", "up5", "fairllm"])
def test_unknown_option_names_the_key(name):
    with pytest.raises(ValueError, match="bogus_key"):
        build_objective(name, bogus_key=1)


@pytest.mark.parametrize(
    "name, key, value",
    [
        ("ifairlrs", "weight", -1.0),
        ("ifairlrs", "max_weight", 0.0),
        ("up5", "adversary", "gan"),
        ("up5", "disc_lr", 0.0),
        ("fairllm", "form", "range"),
        ("fairllm", "pairing", "user"),
    ],
)
def test_bad_values_name_key_and_value(name, key, value):
    with pytest.raises(ValueError, match=str(value)) as error:
        build_objective(name, **{key: value})
    assert key in str(error.value)

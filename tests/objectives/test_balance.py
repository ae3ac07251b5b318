"""L_balance (Switch Transformer's load-balancing loss): exact values on hand-made logits,
a gradient through P alone, what it requires of a head, and a weight searchable in YAML."""

import textwrap

import pytest
import torch

from harness.objectives import build_objective
from harness.objectives.balance import load_balance


def _one_hot(choices: list[int], n: int = 4) -> torch.Tensor:
    return torch.nn.functional.one_hot(torch.tensor(choices), n).bool()


def test_uniform_routing_gives_one():
    logits = torch.zeros(2, 4, 4)  # (G, B, N): P uniform
    chosen = _one_hot([0, 1, 2, 3, 3, 2, 1, 0]).view(2, 4, 4)  # every expert chosen twice: f uniform
    assert load_balance(logits, chosen).item() == pytest.approx(1.0, abs=1e-6)
    top2 = _one_hot([0, 1, 2, 3]).view(2, 2, 4) | _one_hot([1, 0, 3, 2]).view(2, 2, 4)  # K = 2, still uniform
    assert load_balance(torch.zeros(2, 2, 4), top2).item() == pytest.approx(1.0, abs=1e-6)


def test_everything_to_one_expert_gives_n_times_its_mean_probability():
    logits = torch.tensor([[[2.0, 0.0, -1.0, 0.5], [1.0, 0.2, 0.3, 0.1]], [[3.0, 1.0, 0.0, 0.0], [0.5, 0.4, 0.3, 0.2]]])
    chosen = _one_hot([0, 0, 0, 0]).view(2, 2, 4)
    expected = 4 * torch.softmax(logits, dim=-1)[..., 0].mean()
    assert load_balance(logits, chosen).item() == pytest.approx(expected.item(), rel=1e-6)


def test_gradient_flows_through_the_probabilities_only():
    logits = torch.tensor([[2.0, 0.0, -1.0, 0.5], [1.0, 0.2, 0.3, 0.1]], requires_grad=True)
    chosen = _one_hot([0, 0])
    load_balance(logits, chosen).backward()
    # f = (1, 0, 0, 0) is a constant: L = 4 * mean_b softmax(logits_b)[0]
    p = torch.softmax(logits.detach(), dim=-1)
    expected = 4 / 2 * p[:, :1] * (torch.eye(4)[0] - p)
    torch.testing.assert_close(logits.grad, expected)


def test_balance_needs_a_head_with_a_router_and_defaults_to_switch_alpha():
    from harness.config.train import TrainConfig

    assert build_objective("balance").config.weight == 0.01
    TrainConfig(head="mos", objectives={"rec": {}, "balance": {"weight": 0.1}})
    with pytest.raises(ValueError, match=r"objective 'balance' needs the head's routing, router_logits.*mos"):
        TrainConfig(head="prompt_tuning", objectives={"rec": {}, "balance": {}})
    with pytest.raises(ValueError, match="weight"):
        build_objective("balance", weight=-0.1)


def test_balance_weight_is_searchable_in_yaml(tmp_path):
    from harness.space import load_spec

    (tmp_path / "defaults.yaml").write_text("datasets: [movielens-100k]\nbackbone: tiny-t5\nseeds: [0]\n")
    path = tmp_path / "exp.yaml"
    path.write_text(
        textwrap.dedent("""
        methods:
          - {name: mos-balanced, head: mos, head_options: {router_input: hidden},
             objectives: {rec: null, sf: null, div: null, balance: null}}
        search:
          objectives.balance.weight: {loguniform: [0.001, 1.0]}
    """)
    )
    spec = load_spec(path)
    [arm] = spec.arms()
    assert set(spec.search_space(arm)) == {"objectives.balance.weight"}
    config = spec.run_config(arm, {"objectives.balance.weight": 0.05}, seed=0)
    assert config.train.objectives["balance"] == {"weight": 0.05}
    assert config.train.head_options == {"router_input": "hidden"}

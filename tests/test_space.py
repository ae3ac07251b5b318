"""Search-space YAML -> SweepSpec: the shipped files, merging, config ids, and errors
that name the file, the key and the valid choices."""

from __future__ import annotations

import json
import os
import pickle
import textwrap
from pathlib import Path

import pytest

from harness.config.heads import HEADS
from harness.config.run import RunConfig
from harness.space import SpaceError, list_files, load_spec

SHIPPED = Path(__file__).resolve().parents[1] / "search_spaces"
FILES = list_files(SHIPPED)


def _write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text))
    return path


@pytest.fixture
def folder(tmp_path) -> Path:
    _write(
        tmp_path,
        "defaults.yaml",
        """
        datasets: [movielens-100k]
        backbone: tiny-t5
        data: {n_sequences: 300, window: 11}
        train: {epochs: 2, batch_size: 8}
        seeds: [0, 1]
        smoke:
          data: {n_sequences: 100}
          seeds: [7]
    """,
    )
    return tmp_path


def _error(folder: Path, text: str, smoke: bool = False) -> SpaceError:
    path = _write(folder, "exp.yaml", text)
    with pytest.raises(SpaceError) as info:
        load_spec(path, smoke=smoke)
    return info.value


# -- the shipped files ------------------------------------------------------------------------------


def test_every_experiment_of_the_paper_ships():
    names = {p.stem for p in FILES}
    assert {
        "mos",
        "table1_preliminary",
        "table2_llm_vs_llmrs",
        "table4_fairness_methods",
        "table5_paradigms",
        "table6_ablation",
        "fig5_zscore",
        "quickstart",
    } <= names
    assert "defaults" not in names


@pytest.mark.parametrize("smoke", [False, True], ids=["full", "smoke"])
@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_shipped_file_loads_and_every_arm_builds(path, smoke):
    spec = load_spec(path, smoke=smoke)
    assert spec.paper and spec.smoke is smoke and spec.files[0].name == "defaults.yaml"
    assert path.read_text().startswith("#"), "each file opens with a comment header"
    assert (spec.backbone == "tiny-t5") is smoke
    assert spec.experiment == spec.name + ("-smoke" if smoke else "")
    json.dumps(spec.to_dict())
    for arm in spec.arms():
        space = spec.search_space(arm)
        for pick in (0, -1):
            params = {p: d.corners()[pick] for p, d in space.items()}
            config = spec.run_config(arm, params, seed=spec.seeds[-1])
            assert isinstance(config, RunConfig) and config.dataset == arm.dataset
            assert config.sample.seed == config.train.seed == spec.seeds[-1]
            assert config.train.head == arm.method.head


def test_shipped_paper_settings():
    spec = load_spec(SHIPPED / "mos.yaml")
    config = spec.run_config(spec.arms()[0], {}, 0)
    assert spec.backbone == "t5-base" and spec.seeds == (0, 1, 2) and config.sample.n_sequences == 10_000
    assert (config.stereotype.z, config.train.epochs, config.max_tokens) == (3.0, 5, 512)
    assert {p: d.kind for p, d in spec.search.items()} == {
        "head_options.top_k": "choice",
        "head_options.n_experts": "int",
        "train.lr": "loguniform",
    }
    quick = load_spec(SHIPPED / "quickstart.yaml")
    assert quick.backbone == "smollm2-135m" and quick.datasets == ("movielens-100k",) and quick.seeds == (0, 1)
    assert [m.head for m in quick.methods] == ["llm", "mos"] and not quick.search
    # the same split, z and test pairs for every row (the table compares them)
    configs = [quick.run_config(arm, {}, 0) for arm in quick.arms()]
    assert {(c.stereotype.z, c.stereotype.scope, c.train.max_eval_samples, c.sample.n_sequences) for c in configs} == {
        (1.0, "per_group", 90, 2000)
    }
    assert (quick.resources.gpus_per_worker, quick.concurrency) == (0, 1)
    table4 = load_spec(SHIPPED / "table4_fairness_methods.yaml")
    objectives = {m.name: list(m.objectives or ["paper"]) for m in table4.methods}
    assert objectives == {
        "ifairlrs": ["rec", "ifairlrs", "div"],
        "up5": ["rec", "up5", "div"],
        "fairllm": ["rec", "fairllm", "div"],
        "mos": ["paper"],
    }
    fig5 = load_spec(SHIPPED / "fig5_zscore.yaml")
    assert [fig5.run_config(a, {}, 0).stereotype.z for a in fig5.arms()][:6] == [1.0, 1.5, 2.0, 2.5, 3.0, 3.5]


# -- merging ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", [p for p in FILES if p.stem != "fig5_zscore"], ids=lambda p: p.stem)
def test_rows_of_a_shipped_table_are_measured_at_one_z(path):
    """z sets which items count as stereotyped (Eq. 3): a table whose rows were measured at
    different z compares different things. Only Figure 5's ablation varies it. A space whose
    arms train at different thresholds (the study) must fix its report's measurement threshold
    in results/<name>/report.yaml, and every arm trained at another threshold must train on
    objectives that read no stereotype label (L_rec alone), so its scores do not depend on it."""
    import yaml

    spec = load_spec(path)
    assert "data.z" not in spec.search and "data.threshold_scope" not in spec.search
    configs = {arm.key: spec.run_config(arm, {}, 0) for arm in spec.arms()}
    thresholds = {(c.stereotype.z, c.stereotype.scope) for c in configs.values()}
    if len(thresholds) == 1:
        return
    options = SHIPPED.parent / "results" / spec.name / "report.yaml"
    assert options.is_file(), f"{path.name}: arms at thresholds {sorted(thresholds)} need {options}"
    measured = yaml.safe_load(options.read_text())
    measured = (float(measured["z"]), measured["threshold_scope"])
    for key, config in configs.items():
        if (config.stereotype.z, config.stereotype.scope) != measured:
            assert set(config.train.to_dict()["resolved_objectives"]) <= {"rec"}, (
                f"{key} trains on stereotype labels at another threshold than its report measures"
            )


def test_defaults_merge_mappings_and_replace_lists(folder):
    path = _write(
        folder,
        "exp.yaml",
        """
        data: {window: 6}
        seeds: [3]
        methods: [{head: mos}]
    """,
    )
    spec = load_spec(path)
    assert spec.data == {"n_sequences": 300, "window": 6} and spec.train == {"epochs": 2, "batch_size": 8}
    assert spec.seeds == (3,) and spec.name == "exp"
    smoke = load_spec(path, smoke=True)
    assert smoke.data == {"n_sequences": 100, "window": 6} and smoke.seeds == (7,)


def test_explicit_extends_chains_and_identity_keys_are_not_inherited(folder):
    _write(
        folder,
        "base.yaml",
        """
        name: base
        paper: Table 9
        methods: [{head: mos}]
        train: {lr: 1e-2}
    """,
    )
    path = _write(
        folder,
        "child.yaml",
        """
        extends: base.yaml
        train: {epochs: 1}
    """,
    )
    spec = load_spec(path)
    assert spec.name == "child" and spec.paper == ""
    assert spec.train == {"epochs": 1, "batch_size": 8, "lr": 0.01}  # 1e-2 is a number
    assert [p.name for p in spec.files] == ["defaults.yaml", "base.yaml", "child.yaml"]
    alone = _write(folder, "alone.yaml", "extends: null\ndatasets: [bookcrossing]\nmethods: [{head: llm}]\n")
    assert load_spec(alone).seeds == (0,) and load_spec(alone).backbone == RunConfig.backbone


def test_arm_overrides_and_searched_values_take_precedence(folder):
    path = _write(
        folder,
        "exp.yaml",
        """
        methods:
          - {name: plain, head: mos}
          - {name: pinned, head: mos, head_options: {top_k: 2}, data: {z: 1.5}, train: {lr: 0.1}}
        search:
          head_options.top_k: {choice: [1, 2]}
          train.lr: {loguniform: [0.01, 1.0]}
          objectives.sf.weight: {uniform: [0.5, 2.0]}
    """,
    )
    spec = load_spec(path)
    plain, pinned = spec.arms()
    assert set(spec.search_space(plain)) == {"head_options.top_k", "train.lr", "objectives.sf.weight"}
    assert set(spec.search_space(pinned)) == {"objectives.sf.weight"}  # what an arm sets is never searched
    config = spec.run_config(pinned, {"objectives.sf.weight": 0.7}, seed=4)
    assert (config.train.head_options, config.train.lr, config.stereotype.z) == ({"top_k": 2}, 0.1, 1.5)
    assert config.train.objectives == {"rec": {}, "sf": {"weight": 0.7}, "div": {}}
    config = spec.run_config(plain, {"head_options.top_k": 2, "train.lr": 0.3}, seed=4)
    assert (config.train.head_options, config.train.lr, config.train.objectives) == ({"top_k": 2}, 0.3, None)
    with pytest.raises(SpaceError, match=r"params\.train\.lr.*not searched.*objectives\.sf\.weight"):
        spec.run_config(pinned, {"train.lr": 0.5}, seed=0)


def test_config_id_ignores_the_seed_and_follows_params(folder):
    path = _write(
        folder,
        "exp.yaml",
        """
        methods: [{head: mos}, {name: other, head: tallrec_pt}]
        search: {train.lr: {loguniform: [0.01, 1.0]}}
    """,
    )
    spec = load_spec(path)
    mos, other = spec.arms()
    a = spec.config_id(mos, {"train.lr": 0.1})
    assert a == spec.config_id(mos, {"train.lr": 0.1}) == load_spec(path).config_id(mos, {"train.lr": 0.1})
    assert spec.run_config(mos, {"train.lr": 0.1}, 0) != spec.run_config(mos, {"train.lr": 0.1}, 1)
    assert a != spec.config_id(mos, {"train.lr": 0.2}) and a != spec.config_id(other, {"train.lr": 0.1})
    assert len(a) == 12 and spec.config_id(mos, {"train.lr": 1}) == spec.config_id(mos, {"train.lr": 1.0})


def test_arms_and_concurrency(folder):
    path = _write(
        folder,
        "exp.yaml",
        """
        datasets: [movielens-100k, bookcrossing]
        methods: [{head: mos}, {name: tp, head: tallrec_pt}]
        resources: {workers: 2, cpus_per_worker: 2, gpus_per_worker: 1}
    """,
    )
    spec = load_spec(path)
    assert [a.key for a in spec.arms()] == [
        "movielens-100k/mos",
        "movielens-100k/tp",
        "bookcrossing/mos",
        "bookcrossing/tp",
    ]
    assert spec.arms()[0].slug == "movielens-100k__mos" and spec.arm("bookcrossing/tp").method.head == "tallrec_pt"
    assert spec.max_concurrent(cpus=16, gpus=2) == 1 and spec.max_concurrent(cpus=16, gpus=8) == 4


def test_spec_and_errors_survive_pickling_and_paths_become_absolute(folder):
    path = _write(folder, "exp.yaml", "methods: [{head: mos}]\ndata_dir: some/data\n")
    spec = load_spec(path)
    assert spec.data_dir == os.path.join(os.getcwd(), "some", "data")  # Ray trials run in another directory
    arm = spec.arms()[0]
    assert pickle.loads(pickle.dumps(spec)).run_config(arm, {}, 3) == spec.run_config(arm, {}, 3)
    error = _error(folder, "methods: [{head: moss}]\n")
    copy = pickle.loads(pickle.dumps(error))
    assert (str(copy), copy.key, copy.choices) == (str(error), error.key, error.choices)


# -- errors name the file, the key and the choices ---------------------------------------------------


def test_unknown_top_level_key(folder):
    error = _error(folder, "methods: [{head: mos}]\nbudgett: 3\n")
    assert error.file.name == "exp.yaml" and error.key == "budgett"
    assert "exp.yaml: budgett: unknown key" in str(error) and "budget" in error.choices


def test_unknown_head_lists_the_heads(folder):
    error = _error(folder, "methods: [{head: moss}]\n")
    assert error.key == "methods[0].head" and "moss" in str(error)
    assert set(error.choices) == set(HEADS)


def test_wrong_type(folder):
    error = _error(folder, "methods: [{head: mos}]\nbudget: ten\n")
    assert (error.file.name, error.key) == ("exp.yaml", "budget") and "expected an integer" in str(error)
    error = _error(folder, "methods: [{head: mos}]\ndata: {split: users}\n")
    assert error.key == "data.split" and "'user', 'random'" in str(error)


@pytest.mark.parametrize(
    "distribution, problem",
    [
        ("{loguniform: [0, 1]}", "0 < low < high"),
        ("{uniform: [2, 1]}", "low < high"),
        ("{int: [1.5, 3]}", "integer"),
        ("{choice: []}", "non-empty"),
        ("{normal: [0, 1]}", "one distribution"),
        ("{choice: [1, 1]}", "distinct"),
    ],
)
def test_bad_distribution(folder, distribution, problem):
    error = _error(folder, f"methods: [{{head: mos}}]\nsearch: {{train.lr: {distribution}}}\n")
    assert error.file.name == "exp.yaml" and error.key.startswith("search.train.lr") and problem in str(error)


def test_search_value_of_the_wrong_type_or_out_of_range(folder):
    error = _error(folder, "methods: [{head: mos}]\nsearch: {train.epochs: {uniform: [1, 3]}}\n")
    assert error.key == "search.train.epochs" and "integer" in str(error)
    error = _error(folder, "methods: [{head: mos}]\nsearch: {head_options.top_k: {choice: [1, 9]}}\n")
    assert error.key == "search.head_options.top_k" and "top_k must be in" in str(error)


def test_search_path_that_matches_no_arm(folder):
    error = _error(folder, "methods: [{head: tallrec}]\nsearch: {head_options.top_k: {choice: [1, 2]}}\n")
    assert error.key == "search.head_options.top_k" and "no arm" in str(error)
    error = _error(folder, "methods: [{head: mos}]\nsearch: {objectives.up5.weight: {uniform: [0.1, 1]}}\n")
    assert "no arm trains with objective 'up5'" in str(error) and set(error.choices) == {"rec", "sf", "div"}
    error = _error(folder, "methods: [{head: mos}]\nsearch: {model.lr: {uniform: [0.1, 1]}}\n")
    assert "train.<field>" in error.choices


def test_duplicate_arm_names(folder):
    error = _error(folder, "methods: [{head: mos}, {head: mos, head_options: {top_k: 2}}]\n")
    assert (error.file.name, error.key) == ("exp.yaml", "methods[1].name") and "twice" in str(error)


def test_empty_or_repeated_seeds(folder):
    error = _error(folder, "methods: [{head: mos}]\nseeds: []\n")
    assert (error.file.name, error.key) == ("exp.yaml", "seeds")
    error = _error(folder, "methods: [{head: mos}]\nseeds: [1, 1]\n")
    assert error.key == "seeds" and "distinct" in str(error)


def test_searcher_draws_are_per_arm_unless_a_file_shares_them(folder):
    assert load_spec(_write(folder, "exp.yaml", "methods: [{head: mos}]\n")).searcher_draws == "per_arm"
    shared = _write(folder, "shared.yaml", "methods: [{head: mos}]\nsearcher_draws: shared\n")
    assert load_spec(shared).searcher_draws == "shared"
    error = _error(folder, "methods: [{head: mos}]\nsearcher_draws: same\n")
    assert (error.file.name, error.key) == ("exp.yaml", "searcher_draws")
    assert "'same'" in str(error) and "per_arm" in str(error) and "shared" in str(error)


def test_error_names_the_file_that_set_the_key(folder):
    _write(folder, "defaults.yaml", "datasets: [movielens-100k]\ndata: {window: 1}\nsmoke: {train: {epochs: 0}}\n")
    error = _error(folder, "methods: [{head: mos}]\ndata: {n_sequences: 50}\n")
    assert (error.file.name, error.key) == ("defaults.yaml", "data.window") and "window must be >= 2" in str(error)
    error = _error(folder, "methods: [{head: mos}]\ndata: {window: 5}\n", smoke=True)
    assert (error.file.name, error.key) == ("defaults.yaml", "smoke.train.epochs")


@pytest.mark.parametrize(
    "text, key, fragment",
    [
        ("methods: [{head: mos, head_options: {experts: 3}}]\n", "methods[0].head_options.experts", "n_experts"),
        ("methods: [{head: tallrec, head_options: {r: 4}}]\n", "methods[0].head_options.r", "preset"),
        ("methods: [{head: mos, objectives: {fair: null}}]\n", "methods[0].objectives.fair", "ifairlrs"),
        ("methods: [{head: mos, objectives: {}}]\n", "methods[0].objectives", "null"),
        # refused here, before Ray, not in the trial: div reads the experts that only MoS has
        (
            "methods: [{head: prompt_tuning, objectives: {rec: null, div: null}}]\n",
            "methods[0].objectives.div",
            "needs the head's experts, which head 'prompt_tuning' does not have (heads that do: mos)",
        ),
        (
            "methods: [{head: mos}]\ndata: {like_threshold: 11}\n",
            "data.like_threshold",
            "every label of movielens-100k negative (disliked): its ratings run from 1 to 5",
        ),
        (
            "methods: [{head: mos}]\ndata: {like_threshold: 5}\n",
            "data.like_threshold",
            "like_threshold 5 with 'rating > threshold' makes every label of movielens-100k negative (disliked)",
        ),
        ("methods: [{head: mos}]\ndata: {like_threshold: 0.5}\n", "data.like_threshold", "positive (liked)"),
        (
            "methods: [{head: mos}]\ndata: {like_threshold: 5.5, like_comparison: ge}\n",
            "data.like_threshold",
            "like_threshold 5.5 with 'rating >= threshold' makes every label of movielens-100k negative (disliked)",
        ),
        # 1 is refused only with ge (>= 1: every rating liked): the pair is to blame, not one key
        ("methods: [{head: mos}]\ndata: {like_threshold: 1, like_comparison: ge}\n", "data", "positive (liked)"),
        ("methods: [{head: mos, data: {z: -0.5}}]\n", "methods[0].data.z", "z must be a Z-score >= 0"),
        ("methods: [{head: mos, epochs: 3}]\n", "methods[0].epochs", "head_options"),
        ("methods: []\n", "methods", "non-empty"),
        ("methods: [{head: mos}]\ndatasets: [movielens]\n", "datasets[0]", "bookcrossing"),
        ("methods: [{head: mos}]\nbackbone: t5base\n", "backbone", "t5-base"),
        ("methods: [{head: mos}]\nmetric: auc\n", "metric", "valid_auc"),
        # several selection metrics (a multi-objective search): directions, rules and ASHA checked
        (
            "methods: [{head: mos}]\nmetric: [valid_auc, valid_abs_sf]\nmode: [max, max]\n",
            "mode",
            "valid_abs_sf is better when lower: its mode is min",
        ),
        (
            "methods: [{head: mos}]\nmetric: [valid_auc, valid_abs_sf]\nmode: max\n",
            "metric",
            "give mode as a list beside metric's",
        ),
        (
            "methods: [{head: mos}]\nmetric: [valid_auc, valid_abs_sf]\nmode: [max, min]\nselect: {rule: best}\n",
            "select.rule",
            "choose select: {rule: pareto} (or knee, ideal, constrained), or name one metric",
        ),
        ("methods: [{head: mos}]\nselect: {rule: knee}\n", "select.rule", "add one to metric and mode"),
        (
            "methods: [{head: mos}]\nmetric: [valid_auc, valid_sf]\nmode: [max, min]\n",
            "metric",
            "valid_sf is signed, and an SF below 0 is not fairer: select on valid_abs_sf",
        ),
        (
            "methods: [{head: mos}]\nmetric: [valid_auc, valid_abs_sf]\nmode: [max, min]\n"
            "select: {rule: constrained, best: valid_auc, bounds: {valid_abs_sf: abc}}\n",
            "select.bounds",
            "a number in [0, 1], as the records hold it (a fraction, not the report's ×100)",
        ),
        (
            "methods: [{head: mos}]\nmetric: [valid_auc, valid_abs_sf]\nmode: [max, min]\n"
            "select: {rule: constrained, best: valid_auc, bounds: {valid_abs_sf: 5}}\n",
            "select.bounds",
            "got 5",
        ),
        (
            "methods: [{head: mos}]\nmetric: valid_abs_sf\nmode: min\nscheduler: {asha: {}}\n",
            "scheduler",
            "search SF with scheduler: null, or select on valid_auc",
        ),
        (
            "methods: [{head: mos}]\nmetric: [valid_auc, valid_abs_sf]\nmode: [max, min]\n"
            "select: {rule: constrained, best: valid_auc, bounds: {valid_auc: 0.7}}\n",
            "select.bounds",
            "bounds on the others",
        ),
        (
            "methods: [{head: mos}]\nmetric: [valid_auc, valid_abs_sf]\nmode: [max, min]\n"
            "select: {rule: knee, best: valid_auc}\n",
            "select.best",
            "belong to rule constrained",
        ),
        (
            "methods: [{head: mos}]\nmetric: [valid_auc, valid_abs_sf]\nmode: [max, min]\nselect: {rules: knee}\n",
            "select.rules",
            "unknown key",
        ),
        (
            "methods: [{head: mos}]\nmetric: [valid_auc, valid_abs_sf]\nmode: [max, min]\nscheduler: {asha: {}}\n",
            "scheduler",
            "set scheduler: null",
        ),
        ("methods: [{head: mos}]\nresources: {workers: 0}\n", "resources.workers", "workers >= 1"),
        ("methods: [{head: mos}]\nresources: {executor: ray}\n", "resources.executor", "tune_trial"),
        ("methods: [{head: mos}]\nresources: {workers: 2, executor: tune_trial}\n", "resources", "workers: 1"),
        ("methods: [{head: mos}]\nscheduler: {hyperband: {}}\n", "scheduler", "asha"),
        ("methods: [{head: mos}]\nscheduler: {asha: {grace_period: 5}}\n", "scheduler.asha.grace_period", "epochs"),
        ("methods: [{head: mos}]\nsmoke: {name: x}\n", "smoke.name", "seeds"),
        ("methods: [{head: mos}]\nmethods: [{head: llm}]\n", "(yaml)", "twice"),
        ("extends: missing.yaml\n", "extends", "missing.yaml"),
    ],
)
def test_other_errors_name_the_key(folder, text, key, fragment):
    error = _error(folder, text)
    assert error.file.name == "exp.yaml" and error.key == key and fragment in str(error)


def test_the_same_refusals_outside_a_sweep(tmp_path):
    """``python -m harness`` and ``run()`` build the same configs: the same errors, before any data is read."""
    from harness.config.data import SampleConfig, StereotypeConfig
    from harness.config.train import TrainConfig
    from harness.data.prepare import prepare

    with pytest.raises(ValueError, match="objective 'div' needs the head's experts"):
        TrainConfig(head="tallrec_pt", objectives={"rec": None, "div": {"weight": 0.5}})
    with pytest.raises(ValueError, match="z must be a Z-score >= 0"):
        StereotypeConfig(z=-1.0)
    refused = [
        ("bookcrossing", 10, "gt", "1 to 10"),
        ("movielens-100k", 5, "gt", "1 to 5"),
        ("movielens-100k", 0.5, "ge", "1 to 5"),
    ]
    for dataset, threshold, comparison, scale in refused:
        with pytest.raises(ValueError, match=f"ratings run from {scale}"):  # no data there: refused before loading
            prepare(dataset, tmp_path / "absent", SampleConfig(like_threshold=threshold, like_comparison=comparison))
    TrainConfig(head="mos", objectives={"rec": None, "div": {"target": "routing"}})  # MoS has both


def test_extends_cycle(folder):
    _write(folder, "a.yaml", "extends: b.yaml\n")
    _write(folder, "b.yaml", "extends: a.yaml\n")
    with pytest.raises(SpaceError, match="extends itself"):
        load_spec(folder / "a.yaml")


def test_several_selection_metrics_default_to_every_pareto_configuration(folder):
    path = folder / "exp.yaml"
    path.write_text(
        f"extends: {folder / 'defaults.yaml'}\nmethods: [{{head: mos}}]\n"
        "metric: [valid_auc, valid_abs_sf]\nmode: [max, min]\n"
    )
    spec = load_spec(path)
    assert (spec.metric, spec.mode) == ("valid_auc", "max")  # the primary: epochs report it
    assert spec.selection.metrics == ("valid_auc", "valid_abs_sf") and spec.selection.rule == "pareto"
    assert spec.to_dict()["selection"]["modes"] == ["max", "min"]

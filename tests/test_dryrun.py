"""``python -m harness.sweep SPACE --dry-run``: the trials of each phase, how many a storage
already holds, what is left and its projected time, without Ray, from synthetic records."""

import json
import subprocess
import sys
from pathlib import Path

from harness.records import Store, TrialJob, TrialRecord
from harness.space import load_spec
from harness.sweep.cli import main
from harness.sweep.dryrun import dry_run, phase_counts, render
from tests.test_cost import a_record

ROOT = Path(__file__).resolve().parents[1]
SPACES = ROOT / "search_spaces"


def write(
    store: Store,
    spec,
    arm,
    params: dict,
    seed: int,
    phase: str,
    status: str = "ok",
    seconds: float = 100.0,
    metrics: dict | None = None,
) -> TrialRecord:
    """A finished trial of ``arm`` under the key the sweep gives it."""
    head = spec.run_config(arm, params, seed).train.head
    job = TrialJob(
        spec.experiment, phase, arm.key, spec.config_id(arm, params), params, seed, head=head, backbone=spec.backbone
    )
    record = TrialRecord(
        job,
        status,
        seconds=seconds,
        metrics=metrics or {"valid_auc": 0.6},
        provenance={"machine": {"cpu_model": "Test CPU @ 1.00GHz"}},
    )
    store.write(record)
    return record


def _rows(plan) -> dict:
    return {(row["arm"].split("/")[1], row["phase"]): row for row in plan["phases"]}


def test_replication_only_counts_finished_keys_and_reruns_failed_ones(tmp_path):
    spec = load_spec(SPACES / "quickstart.yaml")  # llm and mos, seeds 0 and 1, nothing searched
    llm, mos = spec.arms()
    store = Store(str(tmp_path))
    write(store, spec, llm, {}, 0, "replicate", seconds=72.0)
    write(store, spec, mos, {}, 0, "replicate", status="failed")
    plan = dry_run(spec, str(tmp_path))
    rows = _rows(plan)
    assert set(rows) == {("llm", "replicate"), ("mos", "replicate")}  # no search phase
    assert (
        rows["llm", "replicate"]["trials"],
        rows["llm", "replicate"]["finished"],
        rows["llm", "replicate"]["to_run"],
    ) == ([2, 2], [1, 1], [1, 1])
    assert (
        rows["mos", "replicate"]["to_run"] == [2, 2]
        and "1 failed record(s) run again" in rows["mos", "replicate"]["note"]
    )
    assert plan["total"] == {"trials": [4, 4], "finished": [1, 1], "to_run": [3, 3]}
    llm_cost, mos_cost = plan["projection"]["arms"]
    assert llm_cost["basis"]["mean"] == 72.0 and llm_cost["hours"]["mean"] == [72.0 / 3600] * 2
    assert mos_cost["basis"] is None  # its only record failed
    text = "\n".join(render(plan))
    assert "no basis" in text and "Test CPU @ 1.00GHz (1)" in text

    Store(str(tmp_path / "pilot")).write(a_record())  # another experiment's mos trial
    plan = dry_run(spec, str(tmp_path), pilot=str(tmp_path / "pilot"))
    assert plan["projection"]["arms"][1]["basis"]["kind"] == "pilot"
    assert "pilot scaling: s = other + E x (N_train / r_train" in "\n".join(render(plan))


def test_a_search_counts_its_records_toward_the_budget_and_replication_is_a_range_until_it_ends(tmp_path):
    spec = load_spec(SPACES / "mos.yaml", smoke=True)  # one arm, budget 2, seeds 0 and 1
    [arm] = spec.arms()
    corners = [{p: d.corners()[i] for p, d in spec.search_space(arm).items()} for i in (0, -1)]
    store = Store(str(tmp_path))
    write(store, spec, arm, corners[0], 0, "search", metrics={"valid_auc": 0.6})
    rows = _rows(dry_run(spec, str(tmp_path)))
    search, replicate = rows["mos", "search"], rows["mos", "replicate"]
    assert (search["trials"], search["finished"], search["to_run"]) == ([2, 2], [1, 1], [1, 1])
    assert replicate["seeds"] == [1] and replicate["to_run"] == [1, 1]  # seed 0's is the search trial
    assert "known when the search ends" in replicate["note"]

    best = write(store, spec, arm, corners[1], 0, "search", metrics={"valid_auc": 0.7})
    rows = _rows(dry_run(spec, str(tmp_path)))
    assert rows["mos", "search"]["to_run"] == [0, 0]
    assert (
        rows["mos", "replicate"]["to_run"] == [1, 1]
        and "1 configuration(s) of the finished search" in rows["mos", "replicate"]["note"]
    )
    write(store, spec, arm, best.job.params, 1, "replicate")  # the chosen one on seed 1: done
    plan = dry_run(spec, str(tmp_path))
    assert plan["total"] == {"trials": [3, 3], "finished": [3, 3], "to_run": [0, 0]}


def test_a_pareto_replication_is_a_range_and_a_marker_is_continued_not_deleted(tmp_path):
    spec = load_spec(SPACES / "pareto_mos.yaml", smoke=True)  # 3 arms, budget 3, seeds 0 and 1, pareto
    arm = spec.arms()[0]
    params = {p: d.corners()[0] for p, d in spec.search_space(arm).items()}
    store = Store(str(tmp_path))
    store.mark_running(TrialJob(spec.experiment, "search", arm.key, spec.config_id(arm, params), params, 0))
    rows = phase_counts(spec, store.records(), store.unfinished())
    assert rows[0]["unfinished"] == 1 and rows[0]["to_run"] == [3, 3]
    assert rows[1]["configurations"] == [1, 3] and rows[1]["to_run"] == [1, 3]
    assert list((tmp_path / "trials").glob("*.running.json"))  # a dry run writes and deletes nothing


def test_a_dry_run_of_an_empty_storage_creates_nothing(tmp_path):
    spec = load_spec(SPACES / "quickstart.yaml")
    plan = dry_run(spec, str(tmp_path / "none"))
    assert plan["total"]["to_run"] == [4, 4] and plan["records"] == {}
    assert not (tmp_path / "none").exists()


def test_the_command_prints_json_respects_storage_and_name_and_refuses_json_alone(tmp_path, capsys):
    spec = load_spec(SPACES / "quickstart.yaml")
    write(Store(str(tmp_path / "mine")), spec, spec.arms()[0], {}, 1, "replicate")
    args = [str(SPACES / "quickstart.yaml"), "--dry-run", "--json", "--storage", str(tmp_path), "--name", "mine"]
    assert main(args) == 0
    plan = json.loads(capsys.readouterr().out)
    assert set(plan) >= {"experiment", "storage", "phases", "total", "projection"}
    assert plan["experiment"] == "quickstart" and plan["storage"] == str(tmp_path / "mine" / "trials")
    assert plan["total"]["finished"] == [1, 1]
    assert set(plan["projection"]["arms"][0]) == {"arm", "trials", "basis", "hours", "gpu"}
    assert main([*args[:1], "--json"]) == 2 and "go with --dry-run" in capsys.readouterr().err
    assert main([str(tmp_path / "missing.yaml"), "--dry-run"]) == 2  # the sweep's own validation error
    assert main([*args[:2], "--pilot", str(tmp_path / "nowhere")]) == 2


def test_a_dry_run_imports_neither_ray_nor_torch(tmp_path):
    code = (
        "import sys; from harness.sweep.cli import main; "
        f"main(['search_spaces/pareto_mos.yaml', '--dry-run', '--storage', {str(tmp_path)!r}]); "
        "print(' '.join(m for m in ('torch', 'transformers', 'peft', 'ray', 'optuna') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert "movielens-100k/up5" in out.stdout
    assert out.stdout.splitlines()[-1].strip() == "", out.stdout.splitlines()[-1]

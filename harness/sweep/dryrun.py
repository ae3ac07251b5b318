"""``python -m harness.sweep SPACE --dry-run``: the trials a sweep would run, phase by phase, how
many its storage already holds, and the machine time of the rest (``harness.cost``), without
starting Ray or importing it or torch, and without writing to the storage.

The counts follow ``phases.Sweep``'s rules. Search: an arm with searched parameters runs
``budget`` trials on the first seed; every record of its search (ok, failed or stopped) counts
toward the budget, and an unfinished one (a marker, no record) is continued. Replication: each
configuration the selection picks runs on every seed; its first seed's trial is the search
trial (same key: ``records.trial_key(arm, config_id, seed)``), and a replication trial is
reused only where its record is ok. Until an arm's search has ended, which configurations it
picks (and for a Pareto selection how many) is unknown: the counts are then a range.
"""

from __future__ import annotations

import collections
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from harness.cost import project
from harness.records import Store, TrialJob, TrialRecord, trial_key
from harness.space import Arm, SweepSpec

ONE_PICK = ("best", "knee", "ideal", "constrained")  # the rules that replicate one configuration at most


def phase_counts(spec: SweepSpec, records: list[TrialRecord], unfinished: Sequence[TrialJob] = ()) -> list[dict]:
    """Per arm and phase, what ``Sweep.run`` would run with the storage holding ``records`` and
    ``unfinished`` (jobs with a marker and no record). One row each: {"arm", "phase" ("search" or
    "replicate"), "seeds": [seeds], "configurations", "trials", "finished" (records reused),
    "to_run": each [low, high], "statuses": {status: records of the arm in this phase},
    "unfinished": jobs to continue, "note": str}."""
    by_key = {r.key: r for r in records}
    rows = []
    for arm in spec.arms():
        mine = [r for r in records if r.job.arm == arm.key]
        pending = [job for job in unfinished if job.arm == arm.key]
        chosen: list[dict[str, Any]] = [{}]
        if spec.search_space(arm):
            row, chosen = _search(spec, arm, mine, pending)
            rows.append(row)
        rows.append(_replicate(spec, arm, chosen, mine, pending, by_key, rows[-1] if chosen is None else None))
    return rows


def _row(arm: Arm, phase: str, seeds, configurations, trials, finished, to_run, done, pending, note) -> dict:
    def span(v) -> list[int]:
        return [v, v] if isinstance(v, int) else list(v)

    return {
        "arm": arm.key,
        "phase": phase,
        "seeds": list(seeds),
        "configurations": span(configurations),
        "trials": span(trials),
        "finished": span(finished),
        "to_run": span(to_run),
        "statuses": dict(collections.Counter(r.status for r in done)),
        "unfinished": sum(job.phase == phase for job in pending),
        "note": note,
    }


def _search(spec: SweepSpec, arm: Arm, mine: list[TrialRecord], pending: list[TrialJob]):
    """The search row, and the configurations the selection picks (None while the search runs)."""
    done = [r for r in mine if r.job.phase == "search"]
    continued = sum(job.phase == "search" for job in pending)
    to_run = max(continued, spec.budget - len(done))
    note = (
        f"Optuna, {spec.budget} configuration(s) on seed {spec.seeds[0]}"
        + (f"; ASHA may stop one after {spec.scheduler.grace_period} epoch(s)" if spec.scheduler else "")
        + (f"; {continued} unfinished continue first" if continued else "")
    )
    row = _row(arm, "search", spec.seeds[:1], spec.budget, spec.budget, len(done), to_run, done, pending, note)
    if to_run:
        return row, None
    ok = [r for r in done if r.ok]
    return row, [ok[i].job.params for i in spec.selection.choose([r.metrics for r in ok])]


def _replicate(spec, arm, chosen, mine, pending, by_key, search) -> dict:
    """The replication row: exact where the configurations are known, else a range. A searched
    arm's row counts the other seeds only: its first seed's trials are the search's."""
    searched, rule = bool(spec.search_space(arm)), spec.selection.rule
    seeds = spec.seeds[1:] if searched else spec.seeds
    done = [r for r in mine if r.job.phase == "replicate"]
    ok, failed = sum(r.ok for r in done), sum(not r.ok for r in done)
    reused = f"; seed {spec.seeds[0]}'s trial is the search's" if searched else ""
    rerun = f"; {failed} failed record(s) run again" if failed else ""
    if chosen is not None:
        keys = [trial_key(arm.key, spec.config_id(arm, params), seed) for params in chosen for seed in seeds]
        finished = sum(k in by_key and by_key[k].ok for k in keys)
        note = (
            ""
            if not searched
            else (
                f"{rule}: {len(chosen)} configuration(s) of the finished search" + reused
                if chosen
                else "no search trial qualifies: not replicated"
            )
        )
        return _row(
            arm, "replicate", seeds, len(chosen), len(keys), finished, len(keys) - finished, done, pending, note + rerun
        )
    low = int(rule != "constrained")
    high = 1 if rule in ONE_PICK else search["statuses"].get("ok", 0) + search["to_run"][1]
    trials = (low * len(seeds), high * len(seeds))
    note = (
        f"{rule}: {_n([low, high])} configuration(s), known when the search ends"
        + reused
        + (f"; {ok} ok record(s) here counted as reused" if ok else "")
    )
    return _row(
        arm,
        "replicate",
        seeds,
        (low, high),
        trials,
        tuple(min(t, ok) for t in trials),
        tuple(max(0, t - ok) for t in trials),
        done,
        pending,
        note + rerun,
    )


def dry_run(spec: SweepSpec, results: str, pilot: str | None = None, benchmarks: Path | None = None) -> dict:
    """The dry run of ``spec`` with its records in ``results`` (the experiment's folder, as the
    sweep's): {"experiment", "space", "smoke", "storage", "records": {status: n} of the spec's
    arms, "seeds", "budget", "selection", "phases": ``phase_counts``' rows, "total": {"trials",
    "finished", "to_run": [low, high]}, "projection": ``cost.project``'s result}. ``pilot``:
    another experiment's folder; ``benchmarks``: a folder of GPU benchmark JSONs. Nothing is
    written."""
    store = Store(results, create=False)
    arms = {arm.key for arm in spec.arms()}
    records = [r for r in store.records() if r.job.arm in arms]
    pilot_records = []
    if pilot:
        if "://" not in pilot and not (Path(pilot) / "trials").is_dir():
            raise ValueError(
                f"--pilot {pilot}: no trials folder there (give an experiment's folder, e.g. "
                "results/study-smollm2-ml100k)"
            )
        pilot_records = Store(pilot, create=False).records()
    rows = phase_counts(spec, records, store.unfinished())
    remaining: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0])
    for row in rows:
        remaining[row["arm"]] = [a + b for a, b in zip(remaining[row["arm"]], row["to_run"], strict=True)]
    return {
        "experiment": spec.experiment,
        "space": str(spec.source),
        "smoke": spec.smoke,
        "storage": store.trials,
        "records": dict(collections.Counter(r.status for r in records)),
        "seeds": list(spec.seeds),
        "budget": spec.budget,
        "selection": {
            "rule": spec.selection.rule,
            "metrics": list(spec.selection.metrics),
            "modes": list(spec.selection.modes),
        },
        "phases": rows,
        "total": {k: [sum(r[k][i] for r in rows) for i in (0, 1)] for k in ("trials", "finished", "to_run")},
        "projection": project(spec, dict(remaining), records, pilot_records, benchmarks),
    }


def _n(span: list, unit: str = "", digits: int = 2) -> str:
    low, high = (f"{v:.{digits}f}" if isinstance(v, float) else str(v) for v in span)
    return (low if low == high else f"{low}-{high}") + unit


def render(plan: dict) -> list[str]:
    """``dry_run``'s result as the lines ``--dry-run`` prints."""
    statuses = ", ".join(f"{n} {s}" for s, n in sorted(plan["records"].items()))
    selection = plan["selection"]
    searched = any(row["phase"] == "search" for row in plan["phases"])
    lines = [
        f"dry run of {plan['experiment']} ({plan['space']}): nothing started, nothing written"
        + (" (smoke: a tiny random model, not results)" if plan["smoke"] else ""),
        f"  records: {plan['storage']} ({statuses or 'none yet'})",
        f"  seeds {plan['seeds']}; "
        + (
            f"a searched arm tries {plan['budget']} configuration(s) on seed {plan['seeds'][0]}, then its "
            f"{selection['rule']} on "
            + ", ".join(f"{m} ({d})" for m, d in zip(selection["metrics"], selection["modes"], strict=True))
            + " runs on every seed"
            if searched
            else "no arm searches: each runs on every seed"
        ),
        "",
        f"  {'arm':32} {'phase':10} {'seeds':9} {'trials':>7} {'finished':>9} {'to run':>7}",
    ]
    shown = None
    for row in plan["phases"]:
        arm = row["arm"] if row["arm"] != shown else ""
        shown = row["arm"]
        lines.append(
            f"  {arm:32} {row['phase']:10} {','.join(map(str, row['seeds'])):9} {_n(row['trials']):>7} "
            f"{_n(row['finished']):>9} {_n(row['to_run']):>7}  {row['note']}".rstrip()
        )
    total = plan["total"]
    lines.append(f"  {'total':53} {_n(total['trials']):>7} {_n(total['finished']):>9} {_n(total['to_run']):>7}")
    return lines + [""] + _render_projection(plan["projection"])


def _seconds(span: list[float]) -> str:
    low, high = (f"{v:.0f}" if v >= 10 else f"{v:.1f}" for v in span)
    return (low if low == high else f"{low}-{high}") + " s"


def _render_projection(p: dict) -> list[str]:
    lines, notes = [f"  machine time of the trials to run ({p['timed']}):"], []
    for row in p["arms"]:
        head = f"    {row['arm']:32} {_n(row['trials'], ' trial(s)'):>14}"
        b = row["basis"]
        if b is None:
            lines.append(
                f"{head}  {'no basis':>11}  no finished record of this arm here (--pilot DIR takes another "
                "experiment's)"
            )
            continue
        machines = ", ".join(f"{m} ({n})" for m, n in b["machines"].items())
        per_trial = (
            f"mean {b['mean']:.0f} s a trial ({_seconds([b['min'], b['max']])})"
            if b["kind"] == "records"
            else f"{_seconds([b['min'], b['max']])} a trial (mean {b['mean']:.0f} s with every epoch)"
        )
        lines.append(f"{head}  {_n(row['hours']['mean'], ' h'):>11}  {b['from']}: {per_trial}, on {machines}")
        notes += [
            note
            for note in (
                b["note"],
                b["formula"] and f"pilot scaling: {b['formula']}; E from the earliest early stop to every epoch",
            )
            if note and note not in notes
        ]
    total = p["total"]
    if len(total["without_basis"]) == len(p["arms"]):
        lines.append(f"    {'total':47} {'no basis':>11}")
    else:
        lines.append(
            f"    {'total':47} {_n(total['hours']['mean'], ' h'):>11}  (range: "
            f"{_n(total['hours']['range'], ' h')})"
            + (f"; no basis for {', '.join(total['without_basis'])}" if total["without_basis"] else "")
        )
    return lines + [f"    {note}" for note in notes] + _render_gpu(p)


def _render_gpu(p: dict) -> list[str]:
    rows = [row for row in p["arms"] if row["gpu"]]
    if not rows:
        return (
            [
                f"  on a GPU: {p['benchmarks']} holds no benchmarks/train_step.py GPU rates for {p['backbone']} at "
                "the arms' batch sizes"
            ]
            if p["benchmarks"]
            else []
        )
    train, score = rows[0]["gpu"]["rates"]["train"], rows[0]["gpu"]["rates"]["eval"]
    lines = [
        f"  on one {rows[0]['gpu']['device']}, one trial at a time, from the earliest early stop to every "
        "epoch, every head costed as the timed prompt-tuning head:",
        f"    benchmarks/train_step.py's rates of {train['model']}"
        + (" (random init)" if train["model"].endswith("-shape") else "")
        + f": training {train['samples_per_s']:.1f} samples/s at batch {train['batch_size']} ({train['file']}), "
        f"scoring {score['samples_per_s']:.1f} pairs/s at batch {score['batch_size']} ({score['file']})",
    ]
    for row in rows:
        g = row["gpu"]
        lines.append(
            f"    {row['arm']:32} {_n(row['trials'], ' trial(s)'):>14}  {_n(g['hours'], ' h'):>11}  "
            f"{_seconds(g['seconds_per_trial'])} a trial"
        )
    lines.append(f"    {'total':47} {_n(p['gpu_hours'], ' h'):>11}")
    return lines

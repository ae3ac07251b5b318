"""The fairness-accuracy trade-off of a multi-metric search (``metric: [valid_auc,
valid_abs_sf]`` or ``[valid_auc, valid_abs_sf_liked]``): each arm's validation points and front,
and the test operating points of its replicated configurations with their seed spread.

The validation front is recomputed here from the search records with ``harness.pareto`` (the
sweep's own selection code), on the |SF| metric the records say the search selected on, an SF
resting on fewer recommended validation targets per group than the sweep's
``select.min_support`` (which the records carry) counting as undefined, as the sweep read it
when it chose what to replicate. This table prints means and spreads only; it tests nothing, so
no difference in it is claimed significant (the main table's tests apply to the configuration
it shows per arm).
"""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from harness.config.sweep import Selection
from harness.config.train import SUPPORT
from harness.pareto import pareto_mask
from harness.report.collect import Trials, performance_setting, values_of
from harness.report.configs import chosen_configs, recorded_selection
from harness.report.rescore import with_sf_reading
from harness.report.support import FLAG, MIN_SUPPORT, sf_support

COLUMNS = [
    "dataset",
    "method",
    "config_id",
    "params",
    "valid_auc",
    "valid_abs_sf",
    "valid_sf_support",
    "seeds",
    "test_auc_mean",
    "test_auc_std",
    "test_abs_sf_mean",
    "test_abs_sf_std",
    "sf_seeds",
    "test_sf_support",
    "test_sf_thin",
]


def _default(min_support: int) -> Selection:
    """Records from before the sweep wrote its selection: every Pareto-optimal configuration on
    validation AUC and |SF| (S the Yes answers), at the report's --min-support."""
    return Selection(("valid_auc", "valid_abs_sf"), ("max", "min"), "pareto", min_support=min_support)


def sf_metric(record) -> str:
    """The validation |SF| metric the sweep selected this record's arm on (``valid_abs_sf``: S the
    Yes answers; ``valid_abs_sf_liked``: S the top-scored pairs), ``valid_abs_sf`` for records
    that predate the recorded selection."""
    return next((m for m in (record.job.selection or {}).get("metrics", ()) if m in SUPPORT), "valid_abs_sf")


def sf_metrics(trials: Trials) -> list[str]:
    """The validation |SF| metrics the search records were selected on."""
    return sorted({sf_metric(r) for r in trials.searched})


def arms(trials: Trials) -> dict[tuple, list]:
    """(dataset, method) -> that arm's ok search records, in the records' order."""
    out: dict[tuple, list] = {}
    for r in trials.searched:
        if r.ok:
            out.setdefault((r.job.dataset, r.job.method), []).append(r)
    return out


def arm_selection(trials: Trials, dataset: str, method: str, min_support: int) -> Selection:
    """The selection the sweep last replicated this arm under (``configs.recorded_selection``)."""
    mine = [
        r
        for r in (*trials.searched, *trials.replicated.values())
        if r.job.dataset == dataset and r.job.method == method
    ]
    return recorded_selection(mine, _default(min_support))


def search_points(trials: Trials, min_support: int) -> pd.DataFrame:
    """One row per finished search trial: its validation AUC and |SF| (×100; the |SF| metric it was
    selected on; NaN when undefined or resting on fewer targets than the sweep's recorded
    ``select.min_support``, or ``min_support`` for a record without it), whether it is on its
    arm's front and whether the sweep's rule selects it. The front and the selection are the
    sweep's own computation (``Selection``, as the arm was last replicated under) over every
    metric the search selected on."""
    rows = []
    for (dataset, method), records in arms(trials).items():
        selection = arm_selection(trials, dataset, method, min_support)
        values = [selection.values(r.metrics) for r in records]
        points = np.array([[np.nan if v is None else float(v) for v in row] for row in values], dtype=float)
        front = pareto_mask(points, [mode == "max" for mode in selection.modes])
        chosen = chosen_configs(records, selection)
        metric = next((m for m in selection.metrics if m in SUPPORT), None)
        for i, r in enumerate(records):
            sf = values[i][selection.metrics.index(metric)] if metric else None
            rows.append(
                {
                    "dataset": dataset,
                    "method": method,
                    "config_id": r.job.config_id,
                    "valid_auc": _percent(r.metrics.get("valid_auc")),
                    "valid_abs_sf": _percent(sf),
                    "front": bool(front[i]),
                    "selected": r.job.config_id in chosen,
                }
            )
    return pd.DataFrame(
        rows, columns=["dataset", "method", "config_id", "valid_auc", "valid_abs_sf", "front", "selected"]
    )


def _kept(trials: Trials, min_support: int) -> tuple[dict, list[str]]:
    """The replicated records of the configurations the recorded rule selects (every one of an
    arm that searched nothing), and '<arm> <config_id>' of those it does not."""
    points = search_points(trials, min_support)
    chosen = {
        (d, m, c) for d, m, c, s in points[["dataset", "method", "config_id", "selected"]].itertuples(index=False) if s
    }
    searched = {(d, m) for d, m in zip(points.dataset, points.method, strict=True)}
    keep, left = {}, set()
    for key, r in trials.replicated.items():
        arm = (r.job.dataset, r.job.method)
        if arm not in searched or (*arm, r.job.config_id) in chosen:
            keep[key] = r
        else:
            left.add(f"{r.job.arm} {r.job.config_id}")
    return keep, sorted(left)


def replicated_points(
    trials: Trials, min_support: int = MIN_SUPPORT, sf_reading: str = "all", support: bool = True
) -> pd.DataFrame:
    """One row per replicated configuration that the sweep's recorded rule selects from its arm's
    search records: its parameters, its search trial's validation metrics, and its test AUC and
    |SF| (×100, under the setting it was trained on, with Eq. 4's ``sf_reading`` as the main
    table) over seeds, and with ``support`` (it reads the per-example scores) ``test_sf_support``:
    the fewest recommended targets stereotyped to a group that a defined test |SF| of its seeds
    rests on (``test_sf_thin``: fewer than ``min_support``, as the main table flags it). A
    configuration replicated but not selected (the YAML's rule changed since) is left out:
    ``unselected`` names it."""
    keep, _ = _kept(trials, min_support)
    if not keep:
        return pd.DataFrame(columns=COLUMNS)
    measured = dataclasses.replace(trials, records=keep, values=values_of(keep, ("all",)))
    measured = with_sf_reading(measured, ("all",), sf_reading)
    values = measured.values.set_index("key")
    counts = sf_support(measured, ("all",), sf_reading) if support else None
    search = {(r.job.arm, r.job.config_id): r for r in trials.searched if r.ok}
    by_config: dict[tuple, list] = {}
    for r in keep.values():
        by_config.setdefault((r.job.dataset, r.job.method, r.job.config_id), []).append(r)
    rows = [
        _point(key, sorted(records, key=lambda r: r.job.seed), values, search, counts, min_support)
        for key, records in sorted(by_config.items())
    ]
    return pd.DataFrame(rows, columns=COLUMNS)


def _point(key: tuple, records: list, values: pd.DataFrame, search: dict, counts, min_support: int) -> dict:
    """``replicated_points``' row of one configuration, ``key`` (data set, method, config id), from its
    records in seed order."""
    dataset, method, config_id = key
    auc = [values.loc[r.key, "auc"] for r in records]
    sf = [abs(values.loc[r.key, f"sf_{performance_setting(r)}"]) for r in records]
    first = search.get((records[0].job.arm, config_id), records[0])
    metric = sf_metric(first)
    fewest = np.nan
    if counts is not None:
        mine = counts[
            counts.key.isin([r.key for r in records])
            & counts.defined
            & (counts.column == counts.key.map({r.key: f"sf_{performance_setting(r)}" for r in records}))
        ]
        fewest = float(mine.targets.min()) if len(mine) else np.nan
    return {
        "dataset": dataset,
        "method": method,
        "config_id": config_id,
        "params": json.dumps(records[0].job.params, sort_keys=True),
        "valid_auc": _percent(first.metrics.get("valid_auc")),
        "valid_abs_sf": _percent(first.metrics.get(metric)),
        "valid_sf_support": first.metrics.get(SUPPORT[metric]),
        "seeds": len(records),
        **_spread("test_auc", auc),
        **_spread("test_abs_sf", sf),
        "sf_seeds": int(np.sum(~np.isnan(sf))),
        "test_sf_support": fewest,
        "test_sf_thin": bool(fewest < min_support),
    }


def unselected(trials: Trials, min_support: int = MIN_SUPPORT) -> list[str]:
    """The replicated configurations the sweep's recorded rule does not select from the search
    records (replicated under an earlier rule or budget): '<arm> <config_id>'."""
    return _kept(trials, min_support)[1]


def has_tradeoff(trials: Trials) -> bool:
    """Whether these records come from a search on validation AUC and |SF|: by the selection the
    records carry, or, for records without it, by their metrics holding validation |SF|."""
    return any(
        len(r.job.selection["metrics"]) > 1 if r.job.selection else "valid_abs_sf" in (r.metrics or {})
        for r in trials.searched
    )


def to_markdown(points: pd.DataFrame) -> str:
    """The trade-off table; ``FLAG`` marks a thin test |SF| (``test_sf_thin``)."""
    shown = points.assign(
        params=[
            ", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in json.loads(p).items())
            for p in points.params
        ],
        test_auc=[_cell(m, s) for m, s in zip(points.test_auc_mean, points.test_auc_std, strict=True)],
        test_abs_sf=[
            _cell(m, s) + ("" if k == n else f" [{k}/{n} seeds]") + (f" {FLAG}" if thin else "")
            for m, s, k, n, thin in zip(
                points.test_abs_sf_mean,
                points.test_abs_sf_std,
                points.sf_seeds,
                points.seeds,
                points.test_sf_thin,
                strict=True,
            )
        ],
        test_sf_support=["–" if pd.isna(t) else str(int(t)) for t in points.test_sf_support],
    )
    keep = [
        "dataset",
        "method",
        "params",
        "valid_auc",
        "valid_abs_sf",
        "valid_sf_support",
        "seeds",
        "test_auc",
        "test_abs_sf",
        "test_sf_support",
    ]
    return shown[keep].to_markdown(index=False, floatfmt=".2f")


def figure(search: pd.DataFrame, replicated: pd.DataFrame):
    arms = sorted(
        {(d, m) for d, m in zip(search.dataset, search.method, strict=True)}
        | {(d, m) for d, m in zip(replicated.dataset, replicated.method, strict=True)}
    )
    fig = Figure(figsize=(4.4 * max(len(arms), 1), 3.6))
    axes = fig.subplots(1, max(len(arms), 1), squeeze=False)
    for ax, (dataset, method) in zip(axes[0], arms, strict=False):  # no arm: one empty panel
        part = search[(search.dataset == dataset) & (search.method == method)].dropna(subset=["valid_abs_sf"])
        ax.plot(part.valid_abs_sf, part.valid_auc, "o", color="lightgray", label="search trial (validation)")
        front = part[part.front].sort_values("valid_abs_sf")
        ax.plot(
            front.valid_abs_sf, front.valid_auc, "-o", color="tab:red", drawstyle="steps-post", label="validation front"
        )
        points = replicated[(replicated.dataset == dataset) & (replicated.method == method)]
        ax.errorbar(
            points.test_abs_sf_mean,
            points.test_auc_mean,
            xerr=points.test_abs_sf_std.fillna(0),
            yerr=points.test_auc_std.fillna(0),
            fmt="s",
            capsize=2,
            color="black",
            label="replicated (test, mean ± sd over seeds)",
        )
        ax.set(title=f"{dataset}/{method}", xlabel="|SF| ×100 (← fairer)", ylabel="AUC ×100 (↑ better)")
        ax.legend(loc="best", fontsize="small")
    fig.tight_layout()
    return fig


def _percent(value) -> float:
    return np.nan if value is None else 100.0 * float(value)


def _spread(name: str, values: list) -> dict:
    values = np.asarray(values, dtype=float)
    defined = values[~np.isnan(values)]
    return {
        f"{name}_mean": float(defined.mean()) if len(defined) else np.nan,
        f"{name}_std": float(defined.std(ddof=1)) if len(defined) > 1 else np.nan,
    }


def _cell(mean: float, std: float) -> str:
    if np.isnan(mean):
        return "–"
    return f"{mean:.2f}" + ("" if np.isnan(std) else f" ± {std:.2f}")

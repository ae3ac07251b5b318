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

import json

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from harness.config.train import SUPPORT
from harness.pareto import pareto_mask
from harness.report.collect import Trials, performance_setting

COLUMNS = ["dataset", "method", "config_id", "params", "valid_auc", "valid_abs_sf", "valid_sf_support", "seeds",
           "test_auc_mean", "test_auc_std", "test_abs_sf_mean", "test_abs_sf_std", "sf_seeds"]


def recorded_min_support(record, default: int) -> int:
    """The ``select.min_support`` the sweep selected this search record's arm with (records since
    the sweep writes its selection), else ``default`` (the report's --min-support)."""
    return int(((record.job.selection or {}).get("min_support")) or default)


def sf_metric(record) -> str:
    """The validation |SF| metric the sweep selected this record's arm on (``valid_abs_sf``: S the
    Yes answers; ``valid_abs_sf_liked``: S the top-scored pairs), ``valid_abs_sf`` for records
    that predate the recorded selection."""
    return next((m for m in (record.job.selection or {}).get("metrics", ()) if m in SUPPORT), "valid_abs_sf")


def sf_metrics(trials: Trials) -> list[str]:
    """The validation |SF| metrics the search records were selected on."""
    return sorted({sf_metric(r) for r in trials.searched})


def search_points(trials: Trials, min_support: int) -> pd.DataFrame:
    """One row per finished search trial: its validation AUC and |SF| (×100; the |SF| metric it was
    selected on; NaN when undefined or resting on fewer targets than the sweep's recorded
    ``select.min_support``, or ``min_support`` for a record without it) and whether it is on its
    arm's front."""
    rows = []
    for r in trials.searched:
        metric = sf_metric(r)
        if not r.ok or metric not in (r.metrics or {}):
            continue
        thin = (r.metrics.get(SUPPORT[metric]) or 0) < recorded_min_support(r, min_support)
        rows.append({"dataset": r.job.dataset, "method": r.job.method, "config_id": r.job.config_id,
                     "valid_auc": 100 * r.metrics["valid_auc"],
                     "valid_abs_sf": np.nan if r.metrics[metric] is None or thin else 100 * r.metrics[metric]})
    frame = pd.DataFrame(rows, columns=["dataset", "method", "config_id", "valid_auc", "valid_abs_sf"])
    frame["front"] = False
    for _, part in frame.groupby(["dataset", "method"]):
        frame.loc[part.index, "front"] = pareto_mask(part[["valid_auc", "valid_abs_sf"]].to_numpy(), (True, False))
    return frame


def replicated_points(trials: Trials) -> pd.DataFrame:
    """One row per replicated configuration: its parameters, the first seed's validation
    metrics, and its test AUC and |SF| (×100, under the setting it was trained on) over seeds."""
    by_config: dict[tuple, list] = {}
    for r in trials.replicated.values():
        by_config.setdefault((r.job.dataset, r.job.method, r.job.config_id), []).append(r)
    rows = []
    for (dataset, method, config_id), records in sorted(by_config.items()):
        records.sort(key=lambda r: r.job.seed)
        auc, sf = [], []
        for r in records:
            test = r.test[performance_setting(r)]
            auc.append(_percent(test["performance"]["all"]["auc"]["value"]))
            sf.append(abs(_percent(test["sf"]["all"]["value"])))
        first, metric = records[0].metrics, sf_metric(records[0])
        rows.append({"dataset": dataset, "method": method, "config_id": config_id,
                     "params": json.dumps(records[0].job.params, sort_keys=True),
                     "valid_auc": _percent(first.get("valid_auc")), "valid_abs_sf": _percent(first.get(metric)),
                     "valid_sf_support": first.get(SUPPORT[metric]), "seeds": len(records),
                     **_spread("test_auc", auc), **_spread("test_abs_sf", sf),
                     "sf_seeds": int(np.sum(~np.isnan(sf)))})
    return pd.DataFrame(rows, columns=COLUMNS)


def has_tradeoff(trials: Trials) -> bool:
    """Whether these records come from a search on validation AUC and |SF|: by the selection the
    records carry, or, for records without it, by their metrics holding validation |SF|."""
    return any(len(r.job.selection["metrics"]) > 1 if r.job.selection else "valid_abs_sf" in (r.metrics or {})
               for r in trials.searched)


def to_markdown(points: pd.DataFrame) -> str:
    shown = points.assign(
        params=[", ".join(f"{k}={v:.3g}" if isinstance(v, float) else f"{k}={v}" for k, v in json.loads(p).items())
                for p in points.params],
        test_auc=[_cell(m, s) for m, s in zip(points.test_auc_mean, points.test_auc_std)],
        test_abs_sf=[_cell(m, s) + ("" if k == n else f" [{k}/{n} seeds]")
                     for m, s, k, n in zip(points.test_abs_sf_mean, points.test_abs_sf_std, points.sf_seeds,
                                           points.seeds)])
    keep = ["dataset", "method", "params", "valid_auc", "valid_abs_sf", "valid_sf_support", "seeds", "test_auc",
            "test_abs_sf"]
    return shown[keep].to_markdown(index=False, floatfmt=".2f")


def figure(search: pd.DataFrame, replicated: pd.DataFrame):
    arms = sorted({(d, m) for d, m in zip(search.dataset, search.method)} |
                  {(d, m) for d, m in zip(replicated.dataset, replicated.method)})
    fig = Figure(figsize=(4.4 * max(len(arms), 1), 3.6))
    axes = fig.subplots(1, max(len(arms), 1), squeeze=False)
    for ax, (dataset, method) in zip(axes[0], arms):
        part = search[(search.dataset == dataset) & (search.method == method)].dropna(subset=["valid_abs_sf"])
        ax.plot(part.valid_abs_sf, part.valid_auc, "o", color="lightgray", label="search trial (validation)")
        front = part[part.front].sort_values("valid_abs_sf")
        ax.plot(front.valid_abs_sf, front.valid_auc, "-o", color="tab:red", drawstyle="steps-post",
                label="validation front")
        points = replicated[(replicated.dataset == dataset) & (replicated.method == method)]
        ax.errorbar(points.test_abs_sf_mean, points.test_auc_mean, xerr=points.test_abs_sf_std.fillna(0),
                    yerr=points.test_auc_std.fillna(0), fmt="s", capsize=2, color="black",
                    label="replicated (test, mean ± sd over seeds)")
        ax.set(title=f"{dataset}/{method}", xlabel="|SF| ×100 (← fairer)", ylabel="AUC ×100 (↑ better)")
        ax.legend(loc="best", fontsize="small")
    fig.tight_layout()
    return fig


def _percent(value) -> float:
    return np.nan if value is None else 100.0 * float(value)


def _spread(name: str, values: list) -> dict:
    values = np.asarray(values, dtype=float)
    defined = values[~np.isnan(values)]
    return {f"{name}_mean": float(defined.mean()) if len(defined) else np.nan,
            f"{name}_std": float(defined.std(ddof=1)) if len(defined) > 1 else np.nan}


def _cell(mean: float, std: float) -> str:
    if np.isnan(mean):
        return "–"
    return f"{mean:.2f}" + ("" if np.isnan(std) else f" ± {std:.2f}")

"""The report's figures (matplotlib, PNG and SVG, byte-stable across runs).

- tradeoff: SF (implicit) against AUC per method and data set, the Pareto front
  (no other method is both fairer and more accurate) marked;
- groups (the paper's Figure 4): the reference method's SF term and AUC per user
  group, and AUC per item group (targets stereotyped to the group). The paper
  does not define its bars exactly; these are the per-group quantities the
  records hold, and the AUCs a claim on users:<g> or targets:<g> tests, each AUC
  bar named with the test pairs it rests on (mean per seed) and, as every bar, the
  seeds it averages where its value is undefined on some;
- zscore (Figure 5): AUC of target items below and above the stereotype threshold
  at each Z-score of the paper's grid, from one trained model per seed (the reference
  method's) re-thresholded, so the threshold is not confounded with a model trained at
  that z; zscore_retrained: the paper's protocol, a model trained at each z, when the
  experiment trains one configuration at several z (fig5_zscore.yaml), never pooling
  methods that run at different z. Under each z the figure prints what its "above" point
  rests on, the test pairs above the threshold (mean per seed), and how many seeds it
  averages where the AUC is undefined on some (no liked or no disliked pair above): at a
  high z few targets are above, and the figure says how few;
- search: the validation AUC of every search trial in order, with the best so far.
"""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib
import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from harness import metrics
from harness.pareto import pareto_mask
from harness.records import TrialRecord
from harness.report.collect import ReportError, performance_setting
from harness.report.subsets import arrays, mask, performance_on

# Figure objects, not pyplot: nothing global is retained between reports
matplotlib.rcParams.update({"svg.hashsalt": "harness-report", "figure.dpi": 100, "font.size": 9})


def save_figure(figure, stem: Path) -> list[Path]:
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = [stem.with_suffix(".png"), stem.with_suffix(".svg")]
    figure.savefig(paths[0], metadata={"Software": None}, bbox_inches="tight")
    figure.savefig(paths[1], metadata={"Date": None, "Creator": None}, bbox_inches="tight")
    return paths


def make_figures(trials, summary: pd.DataFrame, tests, sf_rank: str = "abs") -> dict:
    ours = summary[(summary.source == "ours") & (summary.relation == "all")]
    figures = {}
    if len(ours) and ours["sf_implicit_mean"].notna().any():
        figures["tradeoff"] = tradeoff(ours, sf_rank)
    reference = [r for r in trials.records.values() if r.job.method == tests.reference]
    if reference:
        figures["groups"] = groups(trials, reference)
    rethresholded = zscore(trials, reference)
    if rethresholded is not None:
        figures["zscore"] = rethresholded
    retrained = zscore_retrained(trials, tests.reference)
    if retrained is not None:
        figures["zscore_retrained"] = retrained
    if len(trials.search):
        figures["search"] = search(trials.search)
    return figures


def tradeoff(ours: pd.DataFrame, sf_rank: str = "abs"):
    """SF against AUC; the Pareto front of |SF| (``sf_rank="abs"``) or of signed SF."""
    datasets = sorted(set(ours.dataset))
    figure = Figure(figsize=(4.2 * len(datasets), 3.6))
    axes = figure.subplots(1, len(datasets), squeeze=False)
    for ax, dataset in zip(axes[0], datasets, strict=True):
        part = ours[ours.dataset == dataset].dropna(subset=["sf_implicit_mean", "auc_mean"])
        sf, auc = part["sf_implicit_mean"].to_numpy(), part["auc_mean"].to_numpy()
        ax.errorbar(
            sf,
            auc,
            xerr=part["sf_implicit_std"].fillna(0),
            yerr=part["auc_std"].fillna(0),
            fmt="o",
            capsize=2,
            color="tab:blue",
        )
        for x, y, name in zip(sf, auc, part.method, strict=True):
            ax.annotate(name, (x, y), textcoords="offset points", xytext=(4, 4))
        front = pareto_mask(np.column_stack([np.abs(sf) if sf_rank == "abs" else sf, auc]), (False, True))
        order = np.argsort(sf[front])
        ax.plot(sf[front][order], auc[front][order], "--", color="tab:red", label="Pareto front")
        fairer = "closer to 0 is fairer" if sf_rank == "abs" else "← lower is fairer"
        ax.set(title=dataset, xlabel=f"SF implicit ×100 ({fairer})", ylabel="AUC ×100 (↑ higher is better)")
        ax.legend(loc="best")
    figure.tight_layout()
    return figure


def _mean_std(values) -> tuple[float, float]:
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    if not len(values):
        return np.nan, 0.0
    return float(values.mean()), float(values.std(ddof=1)) if len(values) > 1 else 0.0


def _bar_label(name: str, values: list, pairs: list | None = None) -> str:
    """A Figure 4 bar's name with what it rests on: the test pairs (mean per seed) and, where the
    value is undefined on some seeds, how many it averages."""
    counted = [] if pairs is None else [n for n in pairs if not np.isnan(n)]  # none without scores
    parts = [f"{np.mean(counted):.0f} pairs"] if counted else []
    defined = int(np.sum(~np.isnan(np.asarray(values, dtype=float))))
    if defined < len(values):
        parts.append(f"{defined}/{len(values)} seeds")
    return f"{name} ({', '.join(parts)})" if parts else name


def groups(trials, records: list[TrialRecord]):
    """Figure 4: per group, the SF term and the AUC of its users' pairs and of the pairs whose target
    is stereotyped to it; each AUC bar names the test pairs it rests on (a small group's AUC is a
    handful of users' pairs, as BookCrossing's teen users are)."""
    datasets = sorted({r.job.dataset for r in records})
    figure = Figure(figsize=(5.0 * len(datasets), 3.4))
    axes = figure.subplots(1, len(datasets), squeeze=False)
    for ax, dataset in zip(axes[0], datasets, strict=True):
        runs = [r for r in records if r.job.dataset == dataset]
        names = list(runs[0].test["implicit"]["sf"]["all"]["per_group"])
        bars = {}
        for g in names:
            sf = [r.test["implicit"]["sf"]["all"]["per_group"][g] for r in runs]
            sf = [np.nan if v is None else 100 * v for v in sf]
            bars[_bar_label(f"SF term, G = {g}", sf)] = _mean_std(sf)
            auc = [r.test[performance_setting(r)]["performance"][g]["auc"]["value"] for r in runs]
            auc = [np.nan if v is None else 100 * v for v in auc]
            pairs = [_pairs_of(trials, r, f"users:{g}") for r in runs]
            bars[_bar_label(f"AUC, user ∈ {g}", auc, pairs)] = _mean_std(auc)
            auc = [_subset_auc(trials, r, f"targets:{g}") for r in runs]
            pairs = [_pairs_of(trials, r, f"targets:{g}") for r in runs]
            bars[_bar_label(f"AUC, item ∈ {g}", auc, pairs)] = _mean_std(auc)
        labels = list(bars)
        means = [bars[k][0] for k in labels]
        ax.bar(
            range(len(labels)),
            means,
            yerr=[bars[k][1] for k in labels],
            capsize=2,
            color=["tab:red", "tab:orange", "tab:olive", "tab:blue", "tab:green", "tab:cyan"][: len(labels)],
        )
        for i, mean in enumerate(means):
            if np.isnan(mean):
                ax.text(i, 2, "undefined", rotation=90, ha="center", va="bottom", color="gray")
        ax.set_xticks(range(len(labels)), labels, rotation=35, ha="right")
        ax.set(title=f"{dataset}: {runs[0].job.method}", ylabel="×100 (SF ↓ better, AUC ↑ better)")
        ax.set_xlabel("mean ± sd over seeds; (pairs): the test pairs an AUC rests on, mean per seed", fontsize=7)
    figure.tight_layout()
    return figure


def _pairs_of(trials, record: TrialRecord, subset: str) -> float:
    """How many test pairs of ``subset`` the record's performance setting holds (NaN without scores)."""
    try:
        frame = trials.scores(record.key)
    except ReportError:
        return np.nan
    part = frame[frame.setting == performance_setting(record)]
    return float(mask(subset, *arrays(part)).sum())


def _subset_auc(trials, record: TrialRecord, subset: str) -> float:
    """AUC ×100 of the test pairs of ``subset`` (``harness.report.subsets``: targets:<g>, below,
    above), under the record's performance setting: the value a claim on that subset tests."""
    try:
        frame = trials.scores(record.key)
    except ReportError:
        return np.nan
    return performance_on(frame, performance_setting(record), subset)["auc"]


Z_GRID = (1.0, 1.5, 2.0, 2.5, 3.0, 3.5)  # Figure 5's Z-scores


def _above_at(frame: pd.DataFrame, moments: dict, z: float) -> np.ndarray:
    """(N,) bool: the pairs whose target is above Eq. 3's threshold at ``z`` for at least one group,
    from the targets' degrees and the threshold's moments (one trained model, no retraining)."""
    degree = frame[[f"degree_{g}" for g in moments["groups"]]].to_numpy(dtype=float)
    above: np.ndarray = (degree >= np.asarray(moments["mean"]) + z * np.asarray(moments["std"])).any(axis=1)
    return above


def _split_auc(frame: pd.DataFrame, above: np.ndarray) -> tuple[float, float]:
    """AUC ×100 of the pairs not in ``above`` and of those in it."""
    labels, scores = frame["label"].to_numpy(), frame["score"].to_numpy()
    below_auc, above_auc = (100 * metrics.auc(labels[keep], scores[keep]).value for keep in (~above, above))
    return below_auc, above_auc


def _rethresholded_auc(frame: pd.DataFrame, moments: dict, z: float) -> tuple[float, float]:
    """AUC ×100 of the pairs whose target is below / above Eq. 3's threshold at ``z``."""
    return _split_auc(frame, _above_at(frame, moments, z))


def zscore(trials, reference: list[TrialRecord]):
    """Figure 5 from one trained model per seed (the reference method's, trained at the table's
    z): test AUC of targets below and above the threshold, re-thresholded at each z of
    ``Z_GRID``. None when the records predate the degree columns (then see ``zscore_retrained``)."""
    rows = []
    for record in reference:
        if record.threshold_moments is None:
            continue
        try:
            frame = trials.scores(record.key)
        except ReportError:
            continue
        frame = frame[frame.setting == performance_setting(record)]
        if not all(f"degree_{g}" in frame.columns for g in record.threshold_moments["groups"]):
            continue
        for z in Z_GRID:
            above = _above_at(frame, record.threshold_moments, z)
            below_auc, above_auc = _split_auc(frame, above)
            rows.append(
                {
                    "dataset": record.job.dataset,
                    "z": z,
                    "below": below_auc,
                    "above": above_auc,
                    "pairs_above": int(above.sum()),
                }
            )
    if not rows:
        return None
    method = reference[0].job.method
    return _zscore_figure(pd.DataFrame(rows), f"one {method} model per seed, re-thresholded")


def zscore_retrained(trials, reference: str):
    """Figure 5 as the paper ran it: one configuration trained at each z (an arm per z,
    fig5_zscore.yaml), the test AUC below and above each model's own threshold. Records are pooled
    only where their configurations differ in z alone (and in the seed): never across methods that
    happen to run at different z. Per data set, the reference method's such configuration, else the
    one with the most records. None when no configuration was trained at more than one z."""
    families: dict = {}
    for record in trials.records.values():
        families.setdefault((record.job.dataset, _apart_from_z(record.config)), []).append(record)
    chosen: dict = {}
    for (dataset, _), records in sorted(families.items(), key=lambda item: item[0]):
        if len({r.config["stereotype"]["z"] for r in records}) < 2:
            continue
        rank = (any(r.job.method == reference for r in records), len(records))
        if dataset not in chosen or rank > chosen[dataset][0]:
            chosen[dataset] = (rank, records)
    if not chosen:
        return None
    rows = [_retrained_row(trials, r) for _, records in chosen.values() for r in records]
    return _zscore_figure(pd.DataFrame(rows), "a model trained at each z")


def _apart_from_z(config: dict) -> str:
    """A record's configuration without its threshold's z and its seeds, as a comparable key."""
    rest = json.loads(json.dumps(config, sort_keys=True, default=str))
    rest.get("stereotype", {}).pop("z", None)
    for part in ("sample", "train"):
        if isinstance(rest.get(part), dict):
            rest[part].pop("seed", None)
    return json.dumps(rest, sort_keys=True)


def _retrained_row(trials, record: TrialRecord) -> dict:
    """One record's AUC below and above its own threshold (the z it trained at, from the targets'
    degrees; records without them: the score frame's stereotype columns), and the pairs above."""
    z = record.config["stereotype"]["z"]
    row = {"dataset": record.job.dataset, "z": z, "below": np.nan, "above": np.nan, "pairs_above": np.nan}
    try:
        frame = trials.scores(record.key)
    except ReportError:
        return row
    part = frame[frame.setting == performance_setting(record)]
    moments = record.threshold_moments
    if moments is not None and all(f"degree_{g}" in part.columns for g in moments["groups"]):
        above = _above_at(part, moments, z)
    else:
        above = mask("above", *arrays(part))
    row["below"], row["above"] = _split_auc(part, above)
    row["pairs_above"] = int(above.sum())
    return row


def _zscore_figure(frame: pd.DataFrame, how: str):
    datasets = sorted(set(frame.dataset))
    figure = Figure(figsize=(4.2 * len(datasets), 3.4))
    axes = figure.subplots(1, len(datasets), squeeze=False)
    for ax, dataset in zip(axes[0], datasets, strict=True):
        part = frame[frame.dataset == dataset].groupby("z")[["below", "above"]]
        mean, std = part.mean(), part.std(ddof=1).fillna(0)
        for side, color in (("below", "tab:blue"), ("above", "tab:red")):
            ax.errorbar(
                mean.index,
                mean[side],
                yerr=std[side],
                marker="o",
                capsize=2,
                color=color,
                label=f"target items {side} the threshold",
            )
        _label_support(ax, frame[frame.dataset == dataset])
        ax.set(
            title=f"{dataset}: {how}",
            xlabel="Z-score of the stereotype threshold (Eq. 3); under it, the test pairs above\n"
            "the threshold, mean per seed (and the seeds with an AUC above, where not all)",
            ylabel="AUC ×100 (↑ better)",
        )
        ax.legend(loc="best")
    figure.tight_layout()
    return figure


def _label_support(ax, frame: pd.DataFrame) -> None:
    """Under each z's tick, the test pairs its "above" point rests on (mean per seed), and the seeds it
    averages where the AUC above is undefined on some of them (no liked or no disliked pair above)."""
    labels = []
    for z, part in frame.groupby("z"):
        text = f"{z:g}"
        if part["pairs_above"].notna().any():  # none without scores
            text += f"\n{part['pairs_above'].mean():.0f}"
        defined = int(part["above"].notna().sum())
        if defined < len(part):
            text += f" ({defined}/{len(part)})"
        labels.append((z, text))
    ax.set_xticks([z for z, _ in labels], [text for _, text in labels])


def search(history: pd.DataFrame):
    arms = sorted({(d, m) for d, m in zip(history.dataset, history.method, strict=True)})
    figure = Figure(figsize=(4.2 * len(arms), 3.2))
    axes = figure.subplots(1, len(arms), squeeze=False)
    for ax, (dataset, method) in zip(axes[0], arms, strict=True):
        part = history[(history.dataset == dataset) & (history.method == method)].sort_values(["date", "key"])
        values = part["valid_auc"].astype(float).to_numpy() * 100
        order = np.arange(1, len(values) + 1)
        failed = np.isnan(values)
        ax.plot(order[~failed], values[~failed], "o", color="tab:blue", label="trial")
        ax.plot(
            order,
            np.fmax.accumulate(np.where(failed, -np.inf, values)),
            "-",
            color="tab:red",
            label="best so far",
            drawstyle="steps-post",
        )
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        if failed.any():
            ax.plot(
                order[failed],
                np.full(failed.sum(), np.nanmin(values) if (~failed).any() else 0),
                "x",
                color="black",
                label="failed",
            )
        ax.set(
            title=f"{dataset}/{method}",
            xlabel="search trial (in finishing order)",
            ylabel="validation AUC ×100 (↑ better)",
        )
        ax.legend(loc="best")
    figure.tight_layout()
    return figure

"""The analyst's view of a prepared data set: the paper's Table 3 statistics and
a stereotype audit (the content of Figure 2: degree distribution, threshold at
the chosen z, items stereotyped to each group, mean h per group)."""

from __future__ import annotations

import numpy as np
from tabulate import tabulate

from harness.config.data import COMPARISONS, is_liked
from harness.config.datasets import DatasetSpec, get_dataset
from harness.data.prepare import Prepared
from harness.data.samples import SPLITS, Samples

DEGREE_QUANTILES = (0.5, 0.9, 0.99, 1.0)
HISTOGRAM_BINS = 20


def describe(prepared: Prepared) -> dict:
    """Everything ``python -m harness.data describe`` prints, as plain JSON-able data."""
    s = prepared.samples
    facts = prepared.report["dataset"]
    sizes = facts["users_per_group"]
    total = sum(sizes.values()) or 1
    return {
        "dataset": s.dataset,
        "table3": {
            "users": facts["users"],
            "items": facts["items"],
            "interactions": facts["interactions"],
            "group_ratio": {g: round(n / total, 3) for g, n in sizes.items()},
            "users_per_group": sizes,
            "users_without_group": facts["users_without_group"],
        },
        "samples": {
            "sequences": len(s),
            "splits": s.split_sizes,
            "users": int(len(np.unique(s.user))),
            "items": int(len(np.unique(np.r_[s.history.ravel(), s.target]))),
            "sequences_per_group": {g: int((s.user_group == i).sum()) for i, g in enumerate(s.groups)},
            "positive_labels": float(s.label.mean()),
            "like_threshold": s.like_threshold,
            "like_comparison": s.like_comparison,
            "positive_share": positive_shares(s, get_dataset(s.dataset)),
            "notes": list(s.notes),
        },
        "stereotype": _audit(prepared),
        "load": prepared.report["load"],
        "config": {"sample": prepared.report["sample_config"], "stereotype": prepared.report["stereotype_config"]},
        "cache": {"from_cache": prepared.from_cache, "key": prepared.report["cache_key"]},
    }


def _audit(prepared: Prepared) -> dict:
    """The stereotype audit of the training split (Figure 2): the items' top degree, each group's
    threshold, stereotyped items and mean h."""
    s, m = prepared.samples, prepared.measurement
    top = m.degree[m.items_measured].max(axis=1)
    counts, edges = np.histogram(top, bins=HISTOGRAM_BINS)
    return {
        "z": prepared.report["stereotype_config"]["z"],
        "scope": prepared.report["stereotype_config"]["scope"],
        "items_measured": int(m.items_measured.sum()),
        "degree": {
            "mean": float(top.mean()),
            "std": float(top.std()),
            **{f"q{int(q * 100)}": float(np.quantile(top, q)) for q in DEGREE_QUANTILES},
            "histogram": {"edges": edges.round(6).tolist(), "counts": counts.tolist()},
        },
        "threshold": {g: float(t) for g, t in zip(s.groups, m.threshold, strict=True)},
        "items_stereotyped": {g: int(m.item_in_group[:, i].sum()) for i, g in enumerate(s.groups)},
        "mean_h": {g: _mean(m.h[s.user_group == i]) for i, g in enumerate(s.groups)},
        "mean_h_train": {g: _mean(m.h[(s.user_group == i) & s.mask("train")]) for i, g in enumerate(s.groups)},
        "targets_in_own_group": float(m.target_in_group[np.arange(len(s)), s.user_group].mean()),
    }


def positive_shares(s: Samples, spec: DatasetSpec) -> list[dict]:
    """The share of liked targets in each split (and in all) under each named reading of the data
    set's labels (``DatasetSpec.readings``) and under the one that labelled ``s`` (``labels``)."""
    parts = {**{name: s.mask(name) for name in SPLITS}, "all": np.ones(len(s), dtype=bool)}
    readings = spec.readings()
    if (s.like_comparison, s.like_threshold) not in {(c, t) for c, t, _ in readings}:
        readings.append((s.like_comparison, s.like_threshold, "the labels' own (set in the run)"))
    return [
        {
            "liked_when": f"rating {COMPARISONS[c]} {t:g}",
            "reading": name,
            "labels": (c, t) == (s.like_comparison, s.like_threshold),
            "share": {part: _mean(is_liked(s.target_rating[mask], t, c)) for part, mask in parts.items()},
        }
        for c, t, name in readings
    ]


def _mean(values: np.ndarray) -> float | None:
    return float(values.mean()) if len(values) else None


def to_text(d: dict) -> str:
    """Human-readable tables of ``describe``'s output."""
    t3, smp, st = d["table3"], d["samples"], d["stereotype"]
    groups = list(t3["users_per_group"])
    ratio = " : ".join(f"{t3['group_ratio'][g]:.2f}" for g in groups)
    lines = [
        f"# {d['dataset']}",
        "",
        "Table 3 (whole data set)",
        tabulate(
            [
                [
                    t3["users"],
                    t3["items"],
                    t3["interactions"],
                    f"{'/'.join(groups)} = {ratio}",
                    t3["users_without_group"],
                ]
            ],
            headers=["#users", "#items", "#interactions", "group ratio (users)", "users w/o group"],
            intfmt=",",
        ),
        "",
        "Samples",
        tabulate(
            [[smp["sequences"], *[smp["splits"][k] for k in SPLITS], smp["users"], smp["items"]]],
            headers=["sequences", *SPLITS, "users", "items"],
            intfmt=",",
        ),
        "",
    ]
    lines += [f"note: {n}" for n in smp["notes"]]
    lines += _share_lines(smp)
    lines += _audit_lines(st, smp, groups)
    lines += _load_lines(d["load"])
    return "\n".join(lines)


def _audit_lines(st: dict, smp: dict, groups: list[str]) -> list[str]:
    """The stereotype audit's lines: the degree's summary and a table per group."""
    deg = st["degree"]
    return [
        f"Stereotype audit (training split; z = {st['z']}, {st['scope']} Z-score over {st['items_measured']:,} items)",
        "degree max_G d(v,G): " + ", ".join(f"{k} {v:.4f}" for k, v in deg.items() if k != "histogram"),
        tabulate(
            [
                [
                    g,
                    f"{st['threshold'][g]:.4f}",
                    st["items_stereotyped"][g],
                    _fmt(st["mean_h"][g]),
                    _fmt(st["mean_h_train"][g]),
                    smp["sequences_per_group"][g],
                ]
                for g in groups
            ],
            headers=["group", "threshold", "items stereotyped", "mean h (all)", "mean h (train)", "sequences"],
        ),
        f"share of targets stereotyped to their user's own group: {st['targets_in_own_group']:.4f}",
        "",
    ]


def _share_lines(smp: dict) -> list[str]:
    """The liked share of each split under each reading of the labels, the labels' marked."""
    parts = [*SPLITS, "all"]
    rows = [
        [r["liked_when"], r["reading"], "yes" if r["labels"] else "", *[_fmt(r["share"][p]) for p in parts]]
        for r in smp["positive_share"]
    ]
    return [
        "Liked targets (share of each split, under each reading of the labels)",
        tabulate(rows, headers=["liked when", "reading", "labels", *parts], disable_numparse=True),
        "",
    ]


def _fmt(value) -> str:
    return "n/a" if value is None else f"{value:.4f}"


def _load_lines(load: dict) -> list[str]:
    out = [f"Loaded: layout {load.get('layout') or '?'}"]
    for name, count in load.get("malformed", {}).items():
        examples = "; ".join(load.get("malformed_examples", {}).get(name, [])[:2])
        out.append(f"  malformed rows in {name}: {count:,}" + (f" (e.g. {examples})" if examples else ""))
    out += [f"  dropped, {reason}: {count:,}" for reason, count in load.get("dropped", {}).items()]
    out += [
        f"  users without a group, {reason}: {count:,}" for reason, count in load.get("users_without_group", {}).items()
    ]
    out += [f"  {note}" for note in load.get("notes", [])]
    return out

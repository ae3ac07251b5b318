"""MoS's routing, read from its records: does the router send the stereotype groups' prompts to
different experts (§3.3), or has it collapsed onto one (the first study: every test sample of
both groups to one expert of four)?

Per MoS record (any record whose routing diagnostics hold ``expert_usage``): on the test split,
each group's share of samples routed to each expert and the routing separation (the total
variation distance between the groups' usage, ``harness.stereotype.routing_separation``: 0 = the
same experts as often, 1 = no expert shared); over training, the mean L2 norm of the router's
weight gradient per step (0 or near it: a router that does not learn, as Eq. 7's gate at top-1).

Which prompts: records since issue 30's pilot hold the test routing per prompt setting; the table
gives each setting a row, the record's training setting (implicit, the prompt the claims read)
first, marked ``(training)``. Older records hold it pooled over the three settings only, and the
table says so: a router can send a group to another expert in each setting (their prompts differ),
so a pooled separation can be high where no single setting separates the groups.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from tabulate import tabulate

from harness.prompts import SETTINGS
from harness.report.collect import Trials
from harness.stereotype import routing_separation

SEPARATED = 0.5  # issue 30's criterion: a seed whose groups route apart by at least this much
FIELDS = ("dataset", "method", "seed", "setting", "training", "separation", "usage", "grad_norm")
POOLED = "pooled"  # a record with its three settings' routing pooled (before issue 30's pilot)


def routing(trials: Trials) -> pd.DataFrame:
    """One row per MoS record and prompt setting (``FIELDS``): its test split's separation and expert
    usage per group (G lists of N shares) under each setting the record holds, its training setting
    first (``training``: True on that row); ``POOLED`` (one row, ``training`` False) where the record
    holds only the three settings pooled; and the mean router gradient norm over its training epochs
    (NaN where nothing was recorded), the same on each of the record's rows."""
    rows = []
    for record in trials.records.values():
        pooled = record.test_diagnostics or {}
        trained = ((record.config or {}).get("train") or {}).get("train_setting", "implicit")
        held = pooled.get("per_setting") or {}
        order = [trained] + [s for s in SETTINGS if s != trained] + sorted(set(held) - {trained, *SETTINGS})
        tests = [(s, held[s]) for s in order if s in held] or [(POOLED, pooled)]
        norms = [(e.get("diagnostics") or {}).get("router_grad_norm") for e in (record.fit or {}).get("epochs", [])]
        norms = [n for n in norms if n is not None]
        for rank, (setting, test) in enumerate(tests):
            usage = test.get("expert_usage")
            if not usage:
                continue
            separation = test.get("routing_separation")
            rows.append(
                {
                    "dataset": record.job.dataset,
                    "method": record.job.method,
                    "seed": record.job.seed,
                    "setting": setting,
                    "training": setting == trained,
                    "separation": routing_separation(usage) if separation is None else separation,
                    "usage": usage,
                    "grad_norm": float(np.mean(norms)) if norms else np.nan,
                    "_rank": rank,
                }
            )
    table = pd.DataFrame(rows, columns=(*FIELDS, "_rank"))
    return table.sort_values(["dataset", "method", "_rank", "seed"], ignore_index=True).drop(columns="_rank")


def to_markdown(table: pd.DataFrame, groups: tuple[str, ...]) -> str:
    """routing.md: per MoS row and prompt setting (the training setting's first), the separation on
    each seed and how many seeds reach ``SEPARATED``, each group's most used expert and its share per
    seed, and the router's gradient norm."""
    rows = []
    for (dataset, method), rows_of_method in table.groupby(["dataset", "method"], sort=True):
        for setting, part in rows_of_method.groupby("setting", sort=False):  # training setting first
            separations = ", ".join(f"{s:.2f}" if s is not None else "–" for s in part.separation)
            apart = sum(s is not None and s >= SEPARATED for s in part.separation)
            usage = "; ".join(
                f"seed {r.seed}: "
                + ", ".join(
                    f"{g} → {int(np.argmax(u))} ({100 * max(u) / max(sum(u), 1e-12):.0f}%)"
                    for g, u in zip(groups, r.usage, strict=True)
                )
                for r in part.itertuples()
            )
            norm = part.grad_norm.mean()
            rows.append(
                [
                    dataset,
                    method,
                    f"{setting} (training)" if part.training.all() else setting,
                    separations,
                    f"{apart} of {len(part)}",
                    usage,
                    "–" if np.isnan(norm) else f"{norm:.3g}",
                ]
            )
    heads = [
        "Dataset",
        "Method",
        "Prompts",
        "Separation per seed (test)",
        f"Seeds ≥ {SEPARATED}",
        "Most used expert per group (share of its test samples)",
        "Router grad norm (mean over epochs)",
    ]
    return (
        "### Routing (MoS rows)\n\nSeparation: the total variation distance between the groups' expert usage on "
        "the test split (0: the groups use the same experts as often; 1: no expert serves both), one row per "
        "prompt setting the records hold, the training setting's first, marked (training); "
        "`pooled`: the record holds only the three settings' routing pooled "
        "(before issue 30's pilot), where a group sent to another expert in each setting looks separated. "
        "Experts are numbered from 0.\n\n"
        + tabulate(rows, headers=heads, tablefmt="pipe", disable_numparse=True)
        + "\n"
    )

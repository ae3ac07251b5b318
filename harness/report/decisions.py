"""How often each row says Yes, and the SF of a recommender that says Yes as often at random.

SF (Eq. 4) reads the recommended set S. It mixes two things: how many pairs a model recommends,
and which. A model that answers Yes to every pair gets exactly the all-yes row's SF, whatever it
ranks; on MovieLens under the paper's literal labels (82% liked) every trained row of the first
study did just that. So beside each row's SF the report puts:

- ``yes``: the share of test pairs the row recommends (its score above 0: the Yes answers, or
  the top share under ``--decision-rate``), per prompt setting;
- ``sf_random``: the SF of a rate-matched random recommender on the same pairs: it recommends as
  many pairs as the row does on that seed and setting, chosen uniformly at random (``DRAWS``
  seeded draws averaged; the draws depend on the seed and the count alone, so two rows that say
  Yes equally often meet the same draws). The gap SF - ``sf_random`` is what a row's choice of
  pairs adds beyond how often it says Yes.

A row that answers Yes to at least ``ALL_YES`` of the pairs under its training prompt on some
seed decides like all-yes there; the notes say where.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from harness.metrics import setting_metrics
from harness.prompts import SETTINGS
from harness.report.collect import Trials, performance_setting
from harness.report.reference import DRAWS
from harness.report.rescore import test_split

ALL_YES = 0.99  # a Yes rate at or above this decides like all-yes
FIELDS = ("key", "dataset", "method", "seed", "relation", "setting", "yes", "sf_random")


def decisions(
    trials: Trials, relations, sf_reading: str = "all", draws: int = DRAWS, random_seed: int = 0
) -> pd.DataFrame:
    """One row per (record, relation, setting): ``FIELDS``, ``yes`` and ``sf_random`` ×100
    (``sf_random`` NaN where no draw defines SF)."""
    rows = []
    for key, record in trials.records.items():
        frame = trials.scores(key)
        for setting in (s for s in SETTINGS if s in set(frame.setting)):
            part = frame[frame.setting == setting].sort_values("sample")
            prepared, indices = test_split(part)
            recommended = part["score"].to_numpy() > 0
            own = part["target_in_own_group"].to_numpy(dtype=bool)
            count = int(recommended.sum())
            rng = np.random.default_rng([random_seed, record.job.seed, count, len(part)])
            runs = [
                setting_metrics(prepared, indices, _random_at(count, len(part), rng), sf_denominator=sf_reading)
                for _ in range(draws)
            ]
            for relation in relations:
                pairs = {"all": np.ones_like(own), "inside": own, "outside": ~own}[relation]
                values = [r.sf[relation].get("value") for r in runs]
                defined = [v for v in values if v is not None]
                rows.append(
                    {
                        "key": key,
                        "dataset": record.job.dataset,
                        "method": record.job.method,
                        "seed": record.job.seed,
                        "relation": relation,
                        "setting": setting,
                        "yes": 100.0 * float(recommended[pairs].mean()) if pairs.any() else np.nan,
                        "sf_random": 100.0 * float(np.mean(defined)) if defined else np.nan,
                    }
                )
    return pd.DataFrame(rows, columns=FIELDS)


def _random_at(count: int, n: int, rng: np.random.Generator) -> np.ndarray:
    """Scores that recommend ``count`` of ``n`` pairs chosen uniformly at random (+1 there, -1 elsewhere)."""
    scores = -np.ones(n)
    scores[rng.choice(n, size=count, replace=False)] = 1.0
    return scores


def summarize(table: pd.DataFrame) -> pd.DataFrame:
    """Per (dataset, relation, method): the mean over seeds of ``yes_<setting>`` and
    ``sf_random_<setting>``."""
    wide = table.pivot_table(
        index=["dataset", "relation", "method", "seed"], columns="setting", values=["yes", "sf_random"], dropna=False
    )
    wide.columns = [f"{value}_{setting}" for value, setting in wide.columns]
    return wide.groupby(level=["dataset", "relation", "method"]).mean().reset_index()


def all_yes_notes(trials: Trials, table: pd.DataFrame) -> list[str]:
    """Rows that answer Yes to at least ``ALL_YES`` of the test pairs under their training prompt."""
    notes = []
    train = {key: performance_setting(r) for key, r in trials.records.items()}
    mine = table[(table.relation == "all") & (table.setting == table.key.map(train))]
    for (dataset, method), part in mine.groupby(["dataset", "method"], sort=True):
        high = part[part.yes >= 100.0 * ALL_YES].sort_values("seed")
        if len(high):
            seeds = ", ".join(f"seed {r.seed}: {r.yes:.1f}%" for r in high.itertuples())
            notes.append(
                f"{dataset}/{method} answers Yes to at least {100 * ALL_YES:g}% of the test pairs under its "
                f"training prompt on {len(high)} of {part.seed.nunique()} seed(s) ({seeds}): there it "
                "decides like all-yes, and its SF, Precision and Recall are all-yes's"
            )
    return notes


CAPTION = (
    "per row and prompt setting, the share of test pairs it recommends (Yes %), its SF, and the SF of a "
    f"recommender that recommends as many of the same pairs at random (mean of {DRAWS} seeded draws): SF minus "
    "that is what the row's choice of pairs adds beyond how often it says Yes; all-yes: every pair."
)


def rows(summary: pd.DataFrame) -> tuple[list[str], list[list[str]]]:
    """The decisions table (headers, rows) from a report summary that holds ``yes_<setting>_mean``
    and ``sf_random_<setting>_mean``: the methods' rows and the all-yes reference; ([], []) when the
    summary has none (a report without per-example scores)."""
    settings = [s for s in SETTINGS if f"yes_{s}_mean" in summary]
    if not settings:
        return [], []
    relations = set(summary.relation) != {"all"}
    keep = summary[(summary.source == "ours") | ((summary.source == "reference") & (summary.method == "all-yes"))]
    out = []
    for r in keep.itertuples():
        cells = []
        for s in settings:
            ours = r.source == "ours"
            yes, sf, rand = (
                getattr(r, f"yes_{s}_mean") if ours else 100.0,
                getattr(r, f"sf_{s}_mean"),
                getattr(r, f"sf_random_{s}_mean") if ours else getattr(r, f"sf_{s}_mean"),
            )
            cells += [_fmt(yes), _fmt(sf), _fmt(rand)]
        out.append(
            [r.dataset]
            + ([r.relation] if relations else [])
            + [r.method + (" (reference)" if r.source == "reference" else "")]
            + cells
        )
    heads = (
        ["Dataset"]
        + (["Target items"] if relations else [])
        + ["Method"]
        + [f"{label} {s}" for s in settings for label in ("Yes %", "SF", "random at its rate, SF")]
    )
    return heads, out


def _fmt(value) -> str:
    return "–" if value is None or np.isnan(value) else f"{value:.2f}"


def with_decisions(summary: pd.DataFrame, table: pd.DataFrame) -> pd.DataFrame:
    """``summary`` with ``yes_<setting>_mean`` and ``sf_random_<setting>_mean`` on the methods' rows."""
    if table.empty:
        return summary
    means = summarize(table).rename(columns=lambda c: c if c in ("dataset", "relation", "method") else f"{c}_mean")
    means["source"] = "ours"
    return summary.merge(means, on=["dataset", "relation", "method", "source"], how="left")

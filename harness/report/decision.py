"""Every row's recommendations at one recommendation rate (``--decision-rate``).

Eq. 4 reads the set S of recommendations: in the paper (and by default here) the test pairs a
model answers Yes, its score (the Yes logit over the No logit) above 0. SF then mixes two
things: which pairs a model ranks high, and how many it recommends. A model that answers Yes to
every pair gets exactly the all-yes reference's SF whatever it ranks, and on MovieLens, where
about 82% of the test pairs are liked under the paper's literal labels (rating >= 3, which the
study ran), the study's TALLRec-- and prompt tuning + L_fair, trained on 800 pairs, do just that
(results/study-smollm2-ml100k/FINDINGS.md). Measured at one rate, the rows differ by what they
rank high alone:

- ``rate`` "liked": each seed's share of liked test pairs (so the oracle's S is the liked pairs);
  a number in (0, 1]: that share of the test pairs;
- for each record and prompt setting, S is the top ``round(rate * n)`` of its n test pairs by
  score; pairs tied at the cut are all left out (S is then smaller: the notes say where), so no
  order among equal scores is invented. The scores are shifted so that S is where they exceed
  0: AUC, which reads the order alone, does not change; precision, recall and SF are measured
  on the new S by ``harness.metrics.setting_metrics``, the code that scored the trial, and the
  significance tests read the shifted scores as they read any other.

This is not the paper's metric; it is the paper's Eq. 4 on another S. Reference rows at a rate:
random recommends a random ``rate`` share (its scores cut the same way), oracle the liked pairs
first and then unliked ones, in random order within each, all-yes stays every pair (it ranks
nothing, so it has no top share). Every replicated configuration is measured at the rate, so a
trade-off table (pareto.md) shows its test points at the same S as the main table; its
validation points stay at the S its search selected on (``valid_abs_sf`` or ``valid_abs_sf_liked``).

The cut is fixed per seed and setting before the significance tests resample users, so a
resampled S holds about, not exactly, the rate's share.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from harness.report.collect import ReportError, Trials, with_rescored
from harness.report.rescore import LIKED, at_share, measured_test, share

YES = "yes"  # the pairs answered Yes: the default, and how a command line undoes a report.yaml's rate


def parse_rate(rate) -> str | float | None:
    """``--decision-rate``'s value: None (the Yes answers, as the paper; "yes" says so), "liked", or a
    share in (0, 1]."""
    if rate is None or rate == YES:
        return None
    if rate == LIKED:
        return rate
    try:
        value = float(rate)
    except (TypeError, ValueError):
        raise ReportError(
            f"--decision-rate must be {YES!r}, {LIKED!r} or a share of the test pairs in (0, 1], got {rate!r}"
        ) from None  # the message says all; float's error would add nothing
    if not 0 < value <= 1:
        raise ReportError(
            f"--decision-rate must be {YES!r}, {LIKED!r} or a share of the test pairs in (0, 1], got {value:g}"
        )
    return value


def describe(rate: str | float) -> str:
    """How many pairs S holds, as a caption says it."""
    return (
        "as many as its seed's test pairs hold liked ones"
        if rate == LIKED
        else f"{100 * float(rate):g}% of its test pairs"
    )


def at_rate(trials: Trials, rate: str | float | None, log=lambda *_: None) -> tuple[Trials, list[str]]:
    """``trials`` with every replicated record's S taken as its top ``rate`` share of test pairs
    (module docstring): shifted per-example scores, recomputed test metrics and table values;
    and notes where a tie at the cut left S smaller than the rate asks. None: as they are."""
    if rate is None:
        return trials, []
    log(f"measuring {len(trials.replicated)} record(s) with S = each one's top-scored test pairs, {describe(rate)}")
    frames, records, short = dict(trials._scores), dict(trials.replicated), []
    for key, record in trials.replicated.items():
        parts = []
        try:
            frame = trials.scores(key)
        except ReportError as error:
            raise ReportError(
                f"--decision-rate measures every replicated record from its per-example scores: "
                f"{str(error).split(';')[0]}; rerun its trial, or drop --decision-rate"
            ) from error
        for setting, part in frame.groupby("setting", sort=False):
            part = part.sort_values("sample")
            fraction = share(rate, part["label"].to_numpy())
            shifted = at_share(part["score"].to_numpy(dtype=float), fraction)
            wanted, got = int(round(fraction * len(part))), int(np.sum(shifted > 0))
            if got < wanted or wanted == 0:
                short.append(
                    f"{record.job.arm} (configuration {record.job.config_id}) seed {record.job.seed} "
                    f"{setting}: {got} of the {wanted} pairs asked for, of {len(part)}"
                    + (" (ties at the cut are left out)" if got < wanted else "")
                )
            parts.append(part.assign(score=shifted))
        frames[key] = pd.concat(parts).sort_index()
        records[key] = dataclasses.replace(
            record, metrics={**(record.metrics or {}), "test": measured_test(record, frames[key])}
        )
    notes = [f"S smaller than the decision rate asks, or empty: {'; '.join(short)}"] if short else []
    return with_rescored(trials, records, frames), notes

"""What trials cost in machine time (torch- and Ray-free, pure functions): one trial's work
from its config, its seconds from measured rates, and per-arm projections from finished
records, from another experiment's records (a pilot) or from GPU benchmark rates.

One formula serves every basis (``trial_seconds``): a trial of E epochs takes

    s = other + E x (N_train / r_train + N_valid / r_score) + 3 x N_test / r_score

(N_valid once, and no training, when nothing trains: the frozen LLM is validated once,
then scored). The rates come from ``benchmarks/train_step.py`` on a GPU (``rate``, ``other``
0) or from a pilot record's own timings (``measured_rates``). ``python -m harness.sweep
SPACE --dry-run`` prints ``project``'s result; ``benchmarks/projection.py`` uses
``work``, ``trial_seconds``, ``rate`` and ``sharing_gain``.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from pathlib import Path

from harness.config.run import RunConfig
from harness.prompts import SETTINGS
from harness.rates import gpu_rates
from harness.records import TrialRecord
from harness.space import Arm, SweepSpec

# what --dry-run says of every seconds figure it shows
TIMED = (
    "seconds as the records time a trial: data, model load, training, validation and test; Ray's start-up "
    "and the scheduling between trials are not in them"
)
PILOT_FORMULA = (
    "s = other + E x (N_train / r_train + N_valid / r_score) + 3 x N_test / r_score, the pilot "
    "record's rates: r_score = 3 x its test pairs / test_s, r_train = its E x N_train / (train_s - "
    "its validation at r_score), other = seconds - train_s - test_s"
)


@dataclass(frozen=True)
class Work:
    """One trial's samples. ``train`` training samples and ``valid`` validation pairs per epoch,
    ``test`` test pairs (each scored in every prompt setting); ``epochs`` when no epoch stops
    early, ``min_epochs`` when early stopping ends it as soon as ``patience`` allows;
    ``trains`` False for an arm with no objective (validated once, then scored)."""

    train: int
    valid: int
    test: int
    epochs: int
    min_epochs: int
    trains: bool


def work(config: RunConfig, splits: tuple[int, int, int] | None = None) -> Work:
    """The work of a trial of ``config``. ``splits``: the (train, valid, test) split sizes; by
    default nominal, ``n_sequences`` x the ratios (MovieLens-100K's real ones differ by under
    2%), then capped as the config caps them."""
    t, sample = config.train, config.sample
    sizes = splits or tuple(round(sample.n_sequences * r) for r in sample.ratios)
    caps = (t.max_train_samples, t.valid_cap, t.max_eval_samples)
    train, valid, test = (n if cap is None else min(n, cap) for n, cap in zip(sizes, caps, strict=True))
    return Work(train, valid, test, t.epochs, min(t.epochs, t.patience + 1), bool(t.resolved_objectives()))


def trial_seconds(
    w: Work, train_rate: float | None, eval_rate: float, epochs: int, factor: float = 1.0, other: float = 0.0
) -> float:
    """Seconds of one trial of ``w`` run for ``epochs`` at ``train_rate`` training samples/s
    and ``eval_rate`` scored pairs/s; ``factor`` scales its training epochs (a head costlier per
    sample than the timed one), ``other``: seconds outside training and scoring."""
    scoring = len(SETTINGS) * w.test / eval_rate
    if not w.trains:
        return other + w.valid / eval_rate + scoring
    return other + epochs * factor * (w.train / train_rate + w.valid / eval_rate) + scoring


@dataclass(frozen=True)
class Rates:
    """What one finished trial ran at: training samples/s (None if it trained nothing), scored
    pairs/s, and its seconds outside training and scoring (data, model load)."""

    train: float | None
    eval: float
    other: float


def record_work(record: TrialRecord) -> Work | None:
    """The work a finished ok record did (epochs as it ran them), None without fit, timings and splits."""
    fit, splits = record.fit or {}, (record.data or {}).get("splits")
    if not record.ok or not fit or not record.timings or not splits or record.seconds is None:
        return None
    cap = ((record.config or {}).get("train") or {}).get("max_eval_samples")
    test = splits["test"] if cap is None else min(splits["test"], cap)
    ran = len(fit.get("epochs") or [])
    return Work(fit["train_samples"], fit["valid_samples"], test, ran, ran, ran > 0)


def measured_rates(record: TrialRecord) -> Rates | None:
    """The rates of ``record`` (see the module's formula): scoring from its test, training from its
    fit less its validation at the scoring rate. None where its record lacks the timings."""
    w = record_work(record)
    if w is None or not record.timings.get("test_s") or not w.test:
        return None
    train_s, test_s = record.timings.get("train_s", 0.0), record.timings["test_s"]
    scoring = len(SETTINGS) * w.test / test_s
    training = train_s - (w.epochs if w.trains else 1) * w.valid / scoring
    train = w.epochs * w.train / training if w.trains and training > 0 else None
    return Rates(train, scoring, max(0.0, record.seconds - train_s - test_s))


# ---- per-arm statistics -------------------------------------------------------------------


def machine(record: TrialRecord) -> str:
    """The machine a record's seconds come from: its GPU, else its CPU model."""
    m = (record.provenance or {}).get("machine") or {}
    return m.get("gpu") or m.get("cpu_model") or m.get("processor") or "unknown machine"


def _stats(seconds: list[float], machines: list[str]) -> dict:
    return {
        "trials": len(seconds),
        "mean": statistics.fmean(seconds),
        "min": min(seconds),
        "max": max(seconds),
        "machines": {m: machines.count(m) for m in sorted(set(machines))},
    }


def seconds_per_trial(records: list[TrialRecord]) -> dict[str, dict]:
    """Per arm key, the seconds of its finished ok records: {"trials": n, "mean", "min", "max":
    seconds, "machines": {CPU model or GPU: records}}. Arms with no such record are absent."""
    by_arm: dict[str, list[TrialRecord]] = {}
    for r in records:
        if r.ok and r.seconds is not None:
            by_arm.setdefault(r.job.arm, []).append(r)
    return {arm: _stats([r.seconds for r in rs], [machine(r) for r in rs]) for arm, rs in by_arm.items()}


def pilot_match(arm: Arm, head: str, records: list[TrialRecord]) -> tuple[str, list[TrialRecord]]:
    """The pilot's ok records that stand for ``arm`` (whose head is ``head``), and how they match:
    the same arm, else the same method name and head on any data set, else the same head."""
    usable = [r for r in records if r.ok and r.job.head == head and measured_rates(r) is not None]
    for how, keep in (
        (f"arm {arm.key}", lambda r: r.job.arm == arm.key),
        (f"method {arm.name} (head {head})", lambda r: r.job.method == arm.name),
        (f"head {head}", lambda r: True),
    ):
        matched = [r for r in usable if keep(r)]
        if matched:
            return how, matched
    return "", []


def _pilot_basis(spec: SweepSpec, arm: Arm, head: str, w: Work, pilot: list[TrialRecord]) -> dict | None:
    """The pilot's matched records scaled to ``w``: mean with every epoch run, min with the earliest
    early stop, max with every epoch run."""
    how, matched = pilot_match(arm, head, pilot)
    scaled = []
    for r in matched:
        rates = measured_rates(r)
        if rates.train is None and w.trains:
            continue
        scaled.append(
            (r, [trial_seconds(w, rates.train, rates.eval, e, other=rates.other) for e in (w.min_epochs, w.epochs)])
        )
    if not scaled:
        return None
    experiments = sorted({r.job.experiment for r, _ in scaled})
    backbones = sorted({str(r.job.backbone) for r, _ in scaled} - {spec.backbone})
    return {
        **_stats([high for _, (_, high) in scaled], [machine(r) for r, _ in scaled]),
        "min": min(low for _, (low, _) in scaled),
        "kind": "pilot",
        "from": f"pilot {', '.join(experiments)}: {how}, {len(scaled)} record(s) scaled to this arm's work",
        "formula": PILOT_FORMULA,
        "note": f"the pilot ran backbone {', '.join(backbones)}, this space {spec.backbone}: not scaled for the "
        "model's size"
        if backbones
        else None,
    }


def _hours(per_trial: list[float], trials: tuple[int, int]) -> list[float]:
    return [per_trial[0] * trials[0] / 3600, per_trial[1] * trials[1] / 3600]


def _gpu(w: Work, rates: dict | None, trials: tuple[int, int]) -> dict | None:
    if not rates:
        return None
    per_trial = [
        trial_seconds(w, rates["train"]["samples_per_s"], rates["eval"]["samples_per_s"], e)
        for e in (w.min_epochs, w.epochs)
    ]
    return {
        "device": rates["train"]["device"],
        "rates": rates,
        "seconds_per_trial": per_trial,
        "hours": _hours(per_trial, trials),
    }


def project(
    spec: SweepSpec,
    remaining: dict[str, tuple[int, int]],
    records: list[TrialRecord] = (),
    pilot: list[TrialRecord] = (),
    benchmarks: Path | None = None,
) -> dict:
    """Projected machine time of the ``remaining`` trials of ``spec``'s arms.

    remaining: arm key -> (low, high) trials still to run (a range where the selection is not
    yet known). records: this experiment's records; an arm's own ok records are its basis
    ("records": their seconds). pilot: another experiment's records, the basis of an arm with
    none of its own ("pilot": matched by ``pilot_match``, scaled by ``PILOT_FORMULA``).
    benchmarks: a folder of train_step.py JSONs; where it holds GPU rates for the backbone at
    the arm's batch sizes, the arm also gets ``trial_seconds`` at them (every head at the timed
    prompt-tuning head's cost).

    Returns {"arms": [{"arm", "trials": [low, high], "basis": None or {"kind": "records" |
    "pilot", "from": str, "trials": records, "mean", "min", "max": seconds per trial,
    "machines": {machine: records}, "formula", "note"}, "hours": None or {"mean": [low, high],
    "range": [low, high]}, "gpu": None or {"device", "rates": {"train", "eval": rate sources},
    "seconds_per_trial": [earliest stop, every epoch], "hours": [low, high]}}],
    "total": {"hours": {"mean", "range"}, "without_basis": [arm keys]}, "gpu_hours": [low,
    high] or None (over the arms with GPU rates), "timed": TIMED, "backbone", "benchmarks"}.
    """
    own, rates = seconds_per_trial(list(records)), dict[tuple[int, int], dict | None]()
    rows = [
        _arm_row(spec, arm, tuple(remaining.get(arm.key, (0, 0))), own, list(pilot), benchmarks, rates)
        for arm in spec.arms()
    ]
    based = [r for r in rows if r["hours"]]
    total = {k: [sum(r["hours"][k][i] for r in based) for i in (0, 1)] for k in ("mean", "range")}
    gpus = [r["gpu"] for r in rows if r["gpu"]]
    return {
        "arms": rows,
        "total": {"hours": total, "without_basis": [r["arm"] for r in rows if not r["hours"]]},
        "gpu_hours": [sum(g["hours"][i] for g in gpus) for i in (0, 1)] if gpus else None,
        "timed": TIMED,
        "backbone": spec.backbone,
        "benchmarks": benchmarks and str(benchmarks),
    }


def _arm_row(
    spec: SweepSpec,
    arm: Arm,
    trials: tuple[int, int],
    own: dict,
    pilot: list[TrialRecord],
    benchmarks: Path | None,
    rates: dict,
) -> dict:
    """``project``'s row of one arm; ``rates`` caches the GPU rates per batch sizes."""
    config = spec.run_config(arm, {}, spec.seeds[0])
    w, t = work(config), config.train
    if arm.key in own:
        basis = {
            **own[arm.key],
            "kind": "records",
            "from": f"{own[arm.key]['trials']} ok record(s) of this arm here",
            "formula": None,
            "note": None,
        }
    else:
        basis = _pilot_basis(spec, arm, t.head, w, pilot) if pilot else None
    batches = (t.batch_size, t.eval_batch_size)
    if benchmarks and batches not in rates:
        rates[batches] = gpu_rates(benchmarks, spec.backbone, *batches)
    return {
        "arm": arm.key,
        "trials": list(trials),
        "basis": basis,
        "hours": basis
        and {"mean": _hours([basis["mean"]] * 2, trials), "range": _hours([basis["min"], basis["max"]], trials)},
        "gpu": _gpu(w, rates.get(batches), trials),
    }

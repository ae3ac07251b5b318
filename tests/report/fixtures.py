"""Trial records written by the harness's own code from synthetic test scores.

Each method's per-example scores are a seeded base plus the method's shift on
positive pairs; every metric in a record comes from ``harness.evaluate`` over
those scores, exactly as a real trial computes it, and the scores go beside
the record through ``harness.records.Store``. No number is typed in.
"""

import zlib
from types import SimpleNamespace

import numpy as np
import pandas as pd

from harness.metrics import scores_frame, setting_metrics
from harness.prompts import SETTINGS
from harness.records import Store, TrialJob, TrialRecord

GROUPS = ("male", "female")
MOMENTS = {"scope": "global", "mean": [0.5, 0.5], "std": [0.05, 0.05], "groups": list(GROUPS)}


def test_split(seed: int, n_users: int = 40, per_user: int = 10):
    """A test split whose users, groups, h and stereotyped targets follow the seed."""
    rng = np.random.default_rng(100 + seed)
    user = np.repeat(np.arange(n_users) + 1000 * seed, per_user)
    user_group = np.repeat(rng.integers(0, 2, n_users), per_user)
    samples = SimpleNamespace(
        label=rng.integers(0, 2, len(user)),
        user=user,
        user_group=user_group,
        groups=GROUPS,
        target=np.arange(len(user)),
    )
    h = rng.random(len(user))
    degree = 1.0 - rng.random((len(user), 2))  # every pair its own target; stereotyped at z = 3 (0.5 + 3 * 0.05)
    measurement = SimpleNamespace(
        h=h, degree=degree, target_in_group=degree >= MOMENTS["mean"][0] + 3.0 * MOMENTS["std"][0]
    )
    return SimpleNamespace(samples=samples, measurement=measurement), rng.normal(size=len(user))


def write_record(
    store: Store,
    experiment: str,
    dataset: str,
    method: str,
    seed: int,
    shift: float,
    status: str = "ok",
    smoke: bool = False,
    phase: str = "replicate",
    z: float = 3.0,
    valid_auc: float | None = None,
    date: str = "2026-11-25T00:00:00+00:00",
    noise_of: str | None = None,
    backbone: str = "t5-base",
    config_id: str = "cfg",
    valid_sf: tuple[float, int] | None = None,
    precision: str | None = None,
    selection: dict | None = None,
    extra_metrics: dict | None = None,
    seconds: float | None = None,
    test_diagnostics: dict | None = None,
    fit: dict | None = None,
    scoring=None,
) -> str:
    """One trial's record and scores; ``noise_of`` reuses another method's noise, so
    that with the same shift the two methods' scores are identical. ``scoring(prepared,
    base)``: the scores from the test split and the seed's base, in place of the shift."""
    prepared, base = test_split(seed)
    indices = np.arange(len(base))
    noise = np.random.default_rng(zlib.crc32(f"{noise_of or method}/{seed}".encode())).normal(
        scale=0.05, size=len(base)
    )
    scores = scoring(prepared, base) if scoring else base + noise + shift * prepared.samples.label
    results = {s: setting_metrics(prepared, indices, scores + 0.1 * i) for i, s in enumerate(SETTINGS)}
    frames = [scores_frame(prepared, indices, s, scores + 0.1 * i) for i, s in enumerate(SETTINGS)]
    job = TrialJob(
        experiment=experiment,
        phase=phase,
        arm=f"{dataset}/{method}",
        config_id=config_id,
        params={},
        seed=seed,
        dataset=dataset,
        backbone=backbone,
        smoke=smoke,
        selection=selection,
    )
    record = TrialRecord(
        job,
        status,
        error=None if status == "ok" else "RuntimeError: boom",
        config={
            "train": {"train_setting": "implicit", **({"precision": precision} if precision else {})},
            "stereotype": {"z": z},
        },
        parameters={"percent": 0.01 * (1 + len(method))},
        threshold_moments=MOMENTS,
        metrics=None
        if status != "ok"
        else {
            "valid_auc": valid_auc if valid_auc is not None else 0.5 + 0.01 * shift,
            **({"valid_abs_sf": valid_sf[0], "valid_sf_support": valid_sf[1]} if valid_sf else {}),
            **(extra_metrics or {}),
            "test": {s: {"sf": r.sf, "performance": r.performance} for s, r in results.items()},
        },
        seconds=seconds,
        test_diagnostics=test_diagnostics,
        fit=fit,
        provenance={"date_utc": date, "machine": {"cpu_model": "Test CPU"}},
    )
    store.write(record, pd.concat(frames, ignore_index=True) if status == "ok" else None)
    return job.key


def write_experiment(
    folder,
    methods: dict[str, float],
    seeds=(0, 1, 2),
    datasets=("movielens-100k",),
    experiment: str = "table4_fairness_methods",
    **kwargs,
) -> Store:
    store = Store(str(folder))
    for dataset in datasets:
        for method, shift in methods.items():
            for seed in seeds:
                write_record(store, experiment, dataset, method, seed, shift, **kwargs)
    return store


def ranked_where(chosen):
    """A ``scoring`` that ranks the pairs ``chosen(prepared)`` picks perfectly (Yes exactly on their
    liked ones) and the others at random (the seed's base)."""

    def scoring(prepared, base):
        perfect = prepared.samples.label - 0.5 + 0.01 * base
        return np.where(chosen(prepared), perfect, base)

    return scoring


# Figures 4 and 5's answers by construction: per method, the pairs it ranks perfectly (GROUPS[0] is male)
FIGURE_SCORING = {
    "mos": ranked_where(lambda p: p.samples.user_group == 0),  # male users' pairs
    "items": ranked_where(lambda p: p.measurement.target_in_group[:, 0]),  # targets stereotyped to male
    "flat": ranked_where(lambda p: ~p.measurement.target_in_group.any(axis=1)),  # targets below the threshold
}


def write_figures(folder, experiment: str, dataset: str, seeds=(0, 1, 2)):
    """An experiment of ``FIGURE_SCORING``'s methods on ``seeds``; returns its folder."""
    store = Store(str(folder))
    for method, scoring in FIGURE_SCORING.items():
        for seed in seeds:
            write_record(store, experiment, dataset, method, seed, 0.0, scoring=scoring)
    return folder

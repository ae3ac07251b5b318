"""Experiment tracking with MLflow, optional (``pip install -e ".[tracking]"``) and off by default.

One MLflow experiment per harness experiment; one MLflow run per trial, found again by its trial
key (tag ``harness.trial_key``), so a resumed sweep continues the run a trial already has
instead of starting a second, and a trial reused from its record is logged at most once.

- While a trial trains (``log_epoch``, fed by the sweep's Tune callback): its per-epoch training
  loss, validation AUC and validation SF, at step = epoch; an epoch already logged (a trial that
  resumed from a checkpoint) is not logged again.
- When its record lands (``finish``): the record's resolved configuration as parameters, every
  epoch of its fit not yet logged, the test metrics of each prompt setting, tags for the
  experiment, phase, arm, seed, config id, commit, machine and status, the record JSON as an
  artifact (``record.json``), and the run's end (FINISHED, or FAILED for a failed trial). A run
  already FINISHED for that key is left as it is.

Why not Ray Tune's ``MLflowLoggerCallback``: it starts one run per Tune trial, and Tune starts a
trial for every job again on a resume, reused or not, so a resumed sweep would log each finished
trial a second time; it also names runs by Tune's trial id, which changes between resumes, where
the harness's identity of a trial is its key. The record, not Tune's result stream, holds the
test metrics and the provenance, so the run is completed from the record. What the sweep keeps of
Tune's integration is its place: a ``tune.Callback`` on the driver (``harness.sweep.tracked``).

The local default (``default_store``): MLflow 3's file store (``mlruns/``) refuses to start unless
told to (it is in maintenance mode), so the default is its SQLite store, one file beside the
experiment's records, with the runs' artifacts in a folder beside it.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

from harness.prompts import SETTINGS
from harness.records import TrialJob, TrialRecord

KEY_TAG = "harness.trial_key"
DEFAULT_STORE = ("mlflow.db", "mlartifacts")  # the local default's store and artifacts, in the storage folder
EPOCH_KEYS = ("train_loss", "valid_auc", "valid_sf", "valid_abs_sf")  # what a live epoch logs (and train_*)
MAX_PARAM = 6000  # MLflow's limit on a parameter's value


class TrackingError(RuntimeError):
    """Tracking cannot start; the message says why and how to fix it."""


def _client(uri: str):
    try:
        from mlflow.tracking import MlflowClient
    except ImportError as error:
        raise TrackingError(
            'experiment tracking needs MLflow: pip install -e ".[tracking]" (or drop '
            "--tracking-uri / tracking: from the search space)"
        ) from error
    return MlflowClient(tracking_uri=uri)


def flatten(values: dict, prefix: str = "") -> dict[str, str]:
    """A nested mapping as MLflow parameters: dotted keys, values as text (JSON for lists)."""
    out = {}
    for key, value in values.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            out.update(flatten(value, f"{name}."))
        else:
            text = json.dumps(value) if isinstance(value, (list, tuple, dict)) or value is None else str(value)
            out[name] = text[:MAX_PARAM]
    return out


def epoch_metrics(epoch: dict) -> dict[str, float]:
    """The loggable numbers of one epoch of a fit: the training loss and its parts (``train_*``),
    the validation AUC and SF (and every other ``valid_*`` number the record has)."""
    return {
        k: float(v)
        for k, v in epoch.items()
        if (k.startswith("train_") or k.startswith("valid_"))
        and isinstance(v, (int, float))
        and not isinstance(v, bool)
        and math.isfinite(v)
    }


def final_metrics(record: TrialRecord) -> dict[str, float]:
    """The record's test metrics per prompt setting: ``test_<metric>_<setting>`` (×1, not ×100)."""
    out = {}
    for setting in SETTINGS:
        entry = record.test.get(setting) or {}
        sf = ((entry.get("sf") or {}).get("all") or {}).get("value")
        if sf is not None:
            out[f"test_sf_{setting}"] = float(sf)
        for metric, value in ((entry.get("performance") or {}).get("all") or {}).items():
            if isinstance(value, dict) and value.get("value") is not None:
                out[f"test_{metric}_{setting}"] = float(value["value"])
    return out


def default_store(folder: str | Path) -> tuple[str, str]:
    """The tracking URI and artifact folder when none is given: SQLite in ``folder`` (the storage root)."""
    store, artifacts = (Path(folder).absolute() / name for name in DEFAULT_STORE)
    return f"sqlite:///{store}", str(artifacts)


def end_status(record: TrialRecord) -> str:
    """The MLflow status a trial's run ends with: FINISHED (ok, or stopped by ASHA) or FAILED."""
    return "FAILED" if record.status == "failed" else "FINISHED"


class Tracker:
    """The MLflow side of one harness experiment (``uri``: a tracking server or a store; ``artifacts``:
    where a new experiment keeps its runs' artifacts, None for the server's own choice)."""

    def __init__(self, uri: str, experiment: str, artifacts: str | None = None):
        self.uri, self.client = uri, _client(uri)
        if uri.startswith("sqlite:///"):
            Path(uri[len("sqlite:///") :]).parent.mkdir(parents=True, exist_ok=True)
        found = self.client.get_experiment_by_name(experiment)
        self.experiment_id = (
            found.experiment_id if found else self.client.create_experiment(experiment, artifact_location=artifacts)
        )
        self._epochs: dict[str, set[int]] = {}  # run id -> epochs logged

    def ended(self) -> dict[str, str]:
        """Trial key -> the status of its run, for every run that has ended (one query, page by page)."""
        ended: dict[str, str] = {}
        token = None
        while True:
            page = self.client.search_runs(
                [self.experiment_id], "attributes.status != 'RUNNING'", max_results=1000, page_token=token
            )
            ended.update((run.data.tags[KEY_TAG], run.info.status) for run in page if KEY_TAG in run.data.tags)
            token = page.token
            if not token:
                return ended

    def run_of(self, key: str):
        """The run of trial ``key``, or None."""
        runs = self.client.search_runs([self.experiment_id], filter_string=f"tags.`{KEY_TAG}` = '{key}'", max_results=1)
        return runs[0] if runs else None

    def _run_id(self, job: TrialJob) -> str:
        run = self.run_of(job.key)
        if run is not None:
            return run.info.run_id
        tags = {
            KEY_TAG: job.key,
            "harness.experiment": job.experiment,
            "harness.phase": job.phase,
            "harness.arm": job.arm,
            "harness.seed": str(job.seed),
            "harness.config_id": job.config_id,
            **({"harness.smoke": "true"} if job.smoke else {}),
        }
        return self.client.create_run(self.experiment_id, tags=tags, run_name=job.key).info.run_id

    def _logged(self, run_id: str) -> set[int]:
        if run_id not in self._epochs:
            history = self.client.get_metric_history(run_id, "valid_auc")
            self._epochs[run_id] = {int(m.step) for m in history}
        return self._epochs[run_id]

    def log_epoch(self, job: TrialJob, epoch: int, metrics: dict) -> None:
        """One epoch of a running trial (skipped when its run has it already)."""
        run_id = self._run_id(job)
        logged = self._logged(run_id)
        if epoch in logged:
            return
        self._metrics(run_id, epoch_metrics(metrics), epoch)
        logged.add(epoch)

    def finish(self, record: TrialRecord) -> str | None:
        """Complete (or create) the run of ``record``'s trial from the record; None when the run
        was already FINISHED (a reused trial: nothing logged twice). Returns the run id."""
        run = self.run_of(record.key)
        if run is not None and run.info.status == "FINISHED":
            return None
        run_id = self._run_id(record.job)
        self._params(run_id, {**flatten(record.config or {}), **flatten(record.job.params, "params.")})
        logged = self._logged(run_id)
        for epoch in (record.fit or {}).get("epochs") or []:
            if int(epoch["epoch"]) not in logged:
                self._metrics(run_id, epoch_metrics(epoch), int(epoch["epoch"]))
                logged.add(int(epoch["epoch"]))
        if record.ok:
            self._metrics(run_id, final_metrics(record), 0)
        provenance = record.provenance or {}
        machine = provenance.get("machine") or {}
        for key, value in (
            ("harness.status", record.status),
            ("harness.commit", provenance.get("git_commit")),
            ("harness.machine", machine.get("gpu") or machine.get("cpu_model")),
            ("harness.device", record.device),
        ):
            if value:
                self.client.set_tag(run_id, key, str(value))
        self.client.log_text(run_id, json.dumps(record.to_json(), indent=1), "record.json")
        self.client.set_terminated(run_id, end_status(record))
        return run_id

    def _metrics(self, run_id: str, values: dict[str, float], step: int) -> None:
        from mlflow.entities import Metric

        if values:
            stamp = 0  # the step orders them; a fixed timestamp keeps a re-run's log identical
            self.client.log_batch(run_id, metrics=[Metric(k, v, stamp, step) for k, v in sorted(values.items())])

    def _params(self, run_id: str, values: dict[str, str]) -> None:
        from mlflow.entities import Param

        have = self.client.get_run(run_id).data.params
        fresh = [Param(k, v) for k, v in sorted(values.items()) if k not in have]
        for start in range(0, len(fresh), 100):  # MLflow takes at most 100 parameters a batch
            self.client.log_batch(run_id, params=fresh[start : start + 100])

"""``python -m harness.sweep SPACE.yaml``: Ray Tune + Optuna over the harness.

Two phases per experiment (OptunaSearch rejects grid_search, and the tables need
every reported configuration on every seed):

1. search, per arm (data set x method) with searched parameters: seeded TPE
   (OptunaSearch) proposes ``budget`` configurations, each trained on the first
   seed and scored on validation (never test);
2. replication: the best configuration of each arm (or its only one) on every
   seed of the list. The search trial on the first seed is reused, not rerun.

Each trial is a Tune function trainable (``trial``) that trains through the sweep's
executor (``harness.executors``): by default it builds and fits a Ray Train
``TorchTrainer`` (Train V2 refuses ``Tuner(TorchTrainer)``), reporting back through
``TuneReportCallback``. Records are written by the trial (harness.records); the
sweep's own state is those records: running the same command again skips
finished trials, continues unfinished ones from their last epoch checkpoint (the
Train run name is the trial key), and warm-starts Optuna with every finished
search trial, so the searcher's state comes back whatever Tune keeps.

With ``resources: {executor: tune_trial}`` (one worker per trial) a trial trains in
the Tune trial's own process instead, which Tune reuses from trial to trial: no Train
controller, worker process or imports per trial. Its epoch checkpoints are Tune's,
so an unfinished trial continues from one when Tune retries it within the sweep; a
new run of the command starts it over.

- ``phases``: ``Sweep`` (the search and replication phases, the closing summary)
- ``adapters``: Tune and Optuna for the phases (distributions, grids, one phase's Tuner, ASHA,
  and the Tune 2.60 behaviours the sweep works around, each named)
- ``progress``: the status line's feed from Tune's callbacks
- ``trial``: the Tune trial function and a trial's resolution (its job and run config, once)
- ``cli``: ``python -m harness.sweep``; ``preflight``: what it checks before Ray starts (the data
  folder, every data set an arm reads, the tracking store); ``outcome``: its exit status
- ``tracked``: every trial logged to MLflow (``harness.tracking``) from a Tune callback on the driver
- ``dryrun``: ``--dry-run``: each phase's trials, those the storage holds, the cost of the rest (no Ray)
"""

from harness.sweep.cli import _parser, main
from harness.sweep.phases import Sweep, SweepInterrupted
from harness.sweep.trial import _work, trial

__all__ = ["Sweep", "SweepInterrupted", "_parser", "_work", "main", "trial"]

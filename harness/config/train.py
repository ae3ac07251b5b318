"""The training configuration (torch-free): what one trial trains and how, validated on
construction against the heads' and objectives' registries (``harness.config.heads``,
``harness.config.objectives``) and parsed there, once, into their options objects;
``harness.train.fit`` runs it."""

from __future__ import annotations

import copy
import dataclasses
from dataclasses import dataclass, field
from typing import Any

from harness.config.heads import DEFAULT_LR, get_head, validate_config
from harness.config.objectives import check_head, objective_options

# What validation measures after each epoch (harness.evaluate.validate), in every record's
# ``fit.epochs`` and ``metrics``; the ones a sweep may select on (``metric``) with the direction
# that is better, and the support each SF metric rests on. SF is ranked by its absolute value, as
# the report does by default. ``_liked``: S is the top-scored validation pairs, as many as are
# liked, not the pairs answered Yes (the report's --decision-rate liked; harness/report/decision.py).
VALID_METRICS = (
    "valid_auc",
    "valid_sf",
    "valid_abs_sf",
    "valid_sf_support",
    "valid_sf_liked",
    "valid_abs_sf_liked",
    "valid_sf_liked_support",
)
PRECISIONS = ("fp32", "bf16", "fp16")  # train.precision (harness.precision)
_LATER = {"precision": "fp32", "tf32": False, "force_precision": False}  # see TrainConfig.to_dict
SELECTABLE = {"valid_auc": "max", "valid_abs_sf": "min", "valid_abs_sf_liked": "min"}
SUPPORT = {"valid_abs_sf": "valid_sf_support", "valid_abs_sf_liked": "valid_sf_liked_support"}


@dataclass(frozen=True)
class TrainConfig:
    head: str = "mos"
    head_options: dict[str, Any] = field(default_factory=dict)  # the head's config fields, as given
    objectives: dict[str, Any] | None = None  # name -> options (incl. weight); None: the head's paper objectives
    lr: float | None = None  # None: the backbone's default, filled in by RunConfig (run.default_lr)
    # Adafactor's scale_parameter. False (the paper's T5 setting): lr is an absolute step, up to
    # 0.5 per step for a soft prompt, several times SmolLM2-135M's embedding RMS (0.136). True:
    # each step is scaled by the parameter's RMS, so lr is relative to the prompt's own scale.
    scale_parameter: bool = False
    batch_size: int = 8
    eval_batch_size: int = 32
    epochs: int = 5  # the paper gives none; 5 x 8,000 samples, early stopping ends most
    # runs sooner (the one home of this default: YAML and CLI read it)
    patience: int = 1  # epochs without a better validation AUC before stopping
    train_setting: str = "implicit"  # prompt setting the model is trained on
    max_train_samples: int | None = None  # cap for smoke runs; None uses the whole split
    max_eval_samples: int | None = None  # caps validation and test alike
    max_valid_samples: int | None = None  # caps validation alone (over max_eval_samples): a study that scores
    # its whole test split can still select on a cheaper validation
    seed: int = 0
    # Mixed precision (harness.precision): the frozen backbone's compute under autocast; the head,
    # its gradients and the optimizer's state stay fp32. fp16 adds loss scaling. A precision the
    # device cannot run fast is refused unless force_precision. tf32: TF32 matmuls on a GPU.
    precision: str = "fp32"
    tf32: bool = False
    force_precision: bool = False
    # parsed once, on construction, from head_options and objectives: the head's options object and each
    # objective's (what harness.heads and harness.objectives build from, never the dicts again)
    head_config: Any = field(init=False, repr=False, compare=False)
    objective_configs: dict[str, Any] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        spec = get_head(self.head)  # unknown head -> error listing heads
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {self.precision!r}")
        for name in ("batch_size", "eval_batch_size", "epochs"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        for name in ("max_train_samples", "max_eval_samples", "max_valid_samples"):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1 or null (no cap), got {getattr(self, name)}")
        if self.patience < 0 or (self.lr is not None and not self.lr > 0):
            raise ValueError(f"patience must be >= 0 and lr > 0, got {self.patience}, {self.lr}")
        object.__setattr__(self, "head_config", validate_config(spec, self.head_options))
        configs = {}
        for name, options in self.resolved_objectives().items():
            configs[name] = objective_options(name, **options)  # unknown objective or option, or one that
            check_head(name, configs[name], self.head)  # requires what the head lacks -> error
        object.__setattr__(self, "objective_configs", configs)

    @property
    def learning_rate(self) -> float:
        """The lr Adafactor steps with: ``lr``, which a ``RunConfig`` fills from its backbone where it
        is null (``default_lr``). A head with nothing to train has none; any other without one is an
        error (its default depends on the backbone, which a bare TrainConfig does not know)."""
        if self.lr is not None:
            return self.lr
        if get_head(self.head).family == "none":
            return DEFAULT_LR["none"]
        raise ValueError(
            f"train.lr is null for head {self.head!r}: its default depends on the backbone, so give "
            "lr or build the TrainConfig inside a RunConfig, which fills it (config.run.default_lr)"
        )

    def with_lr(self, lr: float) -> TrainConfig:
        """This config with ``lr`` set: a copy that keeps the parsed options (nothing to parse again)."""
        if not lr > 0:
            raise ValueError(f"lr must be > 0, got {lr}")
        out = copy.copy(self)
        object.__setattr__(out, "lr", lr)
        return out

    @property
    def valid_cap(self) -> int | None:
        return self.max_valid_samples if self.max_valid_samples is not None else self.max_eval_samples

    def resolved_objectives(self) -> dict[str, dict[str, Any]]:
        if self.objectives is not None:
            return {name: dict(options or {}) for name, options in self.objectives.items()}
        return {name: {} for name in get_head(self.head).objectives}

    def to_dict(self) -> dict[str, Any]:
        """Everything that sets the numbers, defaults resolved: the head's full config too, so a
        changed default (e.g. MoS's gate) changes the record's config and the sweep's config_id."""
        head = dataclasses.asdict(self.head_config)
        # the precision fields came after records existed: at their defaults (fp32, the numbers those
        # records hold) they are left out, so that every earlier configuration keeps its config_id
        own = {f.name: copy.deepcopy(getattr(self, f.name)) for f in dataclasses.fields(self) if f.init}
        own = {k: v for k, v in own.items() if k not in _LATER or v != _LATER[k]}
        return own | {
            "learning_rate": self.learning_rate,
            "resolved_head_options": head,
            "resolved_objectives": self.resolved_objectives(),
        }

"""The schema of a search-space file: its top-level keys and what each may hold, the data and train
fields an arm or a search may set (read off the configs' dataclasses), an arm's keys, a searched
parameter's ``Distribution``, a ``Method`` (one arm's head, options and overrides) and an ``Arm``
(a data set x a method). ``harness.space.parse`` checks a file against it; ``harness.space.spec``
builds the trials' run configs from it."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from typing import Any, Literal, get_type_hints

from harness.config.data import SampleConfig, StereotypeConfig
from harness.config.run import RunConfig
from harness.config.train import TrainConfig
from harness.prompts import SETTINGS

MODES = ("max", "min")
SCHEDULERS = ("asha",)
DISTRIBUTIONS = ("loguniform", "uniform", "int", "choice")
SEARCH_SECTIONS = ("data.<field>", "train.<field>", "head_options.<field>", "objectives.<name>.<option>")
_IDENTITY = ("name", "description", "paper")  # describe one file; never inherited
_MAPPINGS = ("data", "train", "search", "smoke", "resources")  # null here means {}
_ARM_KEYS = ("name", "head", "head_options", "objectives", "data", "train")
_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")  # names that become folder names
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


@dataclass(frozen=True)
class Distribution:
    """One searched parameter: kind in DISTRIBUTIONS; args (low, high) or the choices.
    ``int`` bounds are inclusive at both ends (Optuna's suggest_int, not tune.randint)."""

    kind: str
    args: tuple

    def corners(self) -> tuple:
        """Values that bound what a search can draw (checked at load time)."""
        return tuple(map(float, self.args)) if self.kind in ("uniform", "loguniform") else self.args

    def to_dict(self) -> dict:
        return {self.kind: list(self.args)}


@dataclass(frozen=True)
class Method:
    """One arm of the comparison: a head, its options and objectives, and its own overrides."""

    name: str
    head: str
    head_options: dict = field(default_factory=dict)
    objectives: dict | None = None  # None: the head's paper objectives
    data: dict = field(default_factory=dict)
    train: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Arm:
    dataset: str
    name: str  # the method's name
    method: Method = field(compare=False, repr=False)

    @property
    def key(self) -> str:
        return f"{self.dataset}/{self.name}"

    @property
    def slug(self) -> str:
        """``key`` as one folder name."""
        return f"{self.dataset}__{self.name}"


def _hints(cls, drop=()) -> dict:
    """The types of a config dataclass's fields that a file may set (those its constructor takes)."""
    given = {f.name for f in dataclasses.fields(cls) if f.init}
    return {k: v for k, v in get_type_hints(cls).items() if k in given and k not in drop}


_SAMPLE_FIELDS = _hints(SampleConfig, drop=("seed",))
DATA_FIELDS = {
    **_SAMPLE_FIELDS,
    "z": float,
    "threshold_scope": get_type_hints(StereotypeConfig)["scope"],
    "max_tokens": int,
}
TRAIN_FIELDS = {
    **_hints(TrainConfig, drop=("head", "head_options", "objectives", "seed")),
    "train_setting": Literal[SETTINGS],
}
_TOP = {
    "name": str,
    "description": str,
    "paper": str,
    "datasets": list,
    "data_dir": str | None,
    "backbone": str,
    "data": dict,
    "train": dict,
    "methods": list,
    "search": dict,
    "seeds": list,
    "metric": str | list,
    "mode": str | list,
    "select": dict | None,
    "budget": int,
    "resources": dict,
    "concurrency": int | None,
    "max_failures": int,
    "scheduler": dict | None,
    "searcher_seed": int,
    "tracking": str | None,
    "searcher_draws": str,
    "smoke": dict,
}
_SMOKE_KEYS = sorted(set(_TOP) - {*_IDENTITY, "smoke"})
# what a key is when no file sets it; the folder's defaults.yaml overrides these
_SPEC_DEFAULTS: dict[str, Any] = {
    "description": "",
    "paper": "",
    "data_dir": None,
    "backbone": RunConfig.backbone,
    "data": {},
    "train": {},
    "search": {},
    "seeds": [0],
    "metric": "valid_auc",
    "mode": "max",
    "select": None,
    "budget": 1,
    "resources": {},
    "concurrency": None,
    "max_failures": 0,
    "scheduler": None,
    "searcher_seed": 0,
    "tracking": None,
    "searcher_draws": "per_arm",
    "smoke": {},
}

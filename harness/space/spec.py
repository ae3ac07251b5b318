"""The ``SweepSpec`` model: arms (data sets x methods), their searched parameters, and the
``RunConfig`` of every trial, built and checked through the configs (``harness.config``), with
its config id. The schema of a search-space file is ``harness.space.schema``;
``harness.space.parse`` reads a file into a spec.
"""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.config.data import SampleConfig, StereotypeConfig
from harness.config.datasets import DATASETS
from harness.config.heads import get_head, validate_config
from harness.config.objectives import OBJECTIVES, objective_options
from harness.config.run import RunConfig
from harness.config.sweep import ASHA, Resources, Selection
from harness.config.train import TrainConfig
from harness.space.files import SpaceError, _Origins
from harness.space.schema import (
    _SAMPLE_FIELDS,
    DATA_FIELDS,
    SEARCH_SECTIONS,
    TRAIN_FIELDS,
    Arm,
    Distribution,
    Method,
    _hints,
)


def config_id_of(arm_key: str, config: RunConfig) -> str:
    """A short stable hash of an arm and its resolved config, seeds and data_dir left out (so every
    seed of a configuration shares it)."""
    values = config.to_dict()
    del values["data_dir"], values["sample"]["seed"], values["train"]["seed"]
    sample, dataset = values["sample"], DATASETS.get(config.dataset)
    if sample["like_threshold"] is None and dataset.paper_median is not None:
        # a data set whose default like threshold moved after ids existed (BookCrossing: 5, then 7): its None is
        # hashed as what it stands for, so one id never names two label rules; MovieLens's ids are as they were
        sample["like_threshold"] = dataset.resolve_like_threshold(None, sample["like_comparison"])
    payload = json.dumps({"arm": arm_key, "config": values}, sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()[:12]


@dataclass(frozen=True)
class SweepSpec:
    """A validated search space. ``arms()`` = datasets x methods; each arm's trials are
    ``run_config(arm, params, seed)`` for params drawn from ``search_space(arm)``."""

    name: str
    description: str
    paper: str  # the table or figure it reproduces
    datasets: tuple[str, ...]
    data_dir: str | None
    backbone: str  # a registered name, tiny-t5/tiny-llama, a path or a hub id
    data: dict  # DATA_FIELDS, shared by every arm
    train: dict  # TRAIN_FIELDS, shared by every arm
    methods: tuple[Method, ...]
    search: dict[str, Distribution]
    seeds: tuple[int, ...]
    metric: str  # the primary selection metric (the first of ``metric``): epochs report it
    mode: str
    selection: Selection  # every selection metric, and which configurations replicate
    budget: int  # configurations tried per arm in the search phase
    resources: Resources
    concurrency: int | None  # None: see max_concurrent
    max_failures: int
    scheduler: ASHA | None
    searcher_seed: int
    searcher_draws: str  # SEARCHER_DRAWS: a random stream per arm, or one shared by every arm
    source: Path
    smoke: bool
    files: tuple[Path, ...] = ()  # the extends chain, root first
    tracking: str | None = None  # an MLflow tracking URI: every trial logged there (harness.tracking); None: off
    _origins: _Origins | None = field(default=None, compare=False, repr=False)

    def __post_init__(self):
        if self._origins is None:  # built by hand, not by load_spec: blame the source file
            object.__setattr__(self, "_origins", _Origins([Path(self.source)], Path(self.source)))

    @property
    def experiment(self) -> str:
        """The results folder name: smoke runs never share one with real runs."""
        return f"{self.name}-smoke" if self.smoke else self.name

    def arms(self) -> list[Arm]:
        return [Arm(d, m.name, m) for d in self.datasets for m in self.methods]

    def arm(self, key: str) -> Arm:
        arms = {a.key: a for a in self.arms()}
        if key not in arms:
            raise SpaceError(self.source, "arm", f"no arm {key!r}", sorted(arms))
        return arms[key]

    def search_space(self, arm: Arm) -> dict[str, Distribution]:
        """The searched paths that apply to ``arm`` (its head has the field, its objectives
        use the objective, and the arm does not fix the value itself)."""
        return {p: d for p, d in self.search.items() if self._hint(arm.method, p) is not None}

    def max_concurrent(self, cpus: float, gpus: float = 0.0) -> int:
        """``concurrency``, else how many trials fit in ``cpus`` (and ``gpus``) at once."""
        if self.concurrency is not None:
            return self.concurrency
        r = self.resources
        fits = [cpus // (r.workers * r.cpus_per_worker)] + (
            [gpus // (r.workers * r.gpus_per_worker)] if r.gpus_per_worker else []
        )
        return max(1, int(min(fits)))

    def run_config(self, arm: Arm, params: dict, seed: int) -> RunConfig:
        """defaults < the arm's overrides < ``params``; sample and training seeds = ``seed``."""
        space = self.search_space(arm)
        for path in params:
            if path not in space:
                raise SpaceError(self.source, f"params.{path}", f"not searched for arm {arm.key}", sorted(space))
        return self._config(arm.dataset, arm.method, params, seed)

    def config_id(self, arm: Arm, params: dict) -> str:
        """The config id of ``arm`` with ``params`` (``config_id_of`` its run config)."""
        return config_id_of(arm.key, self.run_config(arm, params, seed=0))

    def to_dict(self) -> dict:
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if not f.name.startswith("_")}
        out.update(
            source=str(self.source),
            files=[str(p) for p in self.files],
            experiment=self.experiment,
            methods=[dataclasses.asdict(m) for m in self.methods],
            arms=[a.key for a in self.arms()],
            search={p: d.to_dict() for p, d in self.search.items()},
            resources=dataclasses.asdict(self.resources),
            selection=dataclasses.asdict(self.selection),
            scheduler=self.scheduler and {"asha": dataclasses.asdict(self.scheduler)},
        )
        return json.loads(json.dumps(out))

    # -- internals --------------------------------------------------------------------------------

    def _hint(self, method: Method, path: str):
        """The type a searched path takes for ``method``; None when it does not apply."""
        section, _, rest = path.partition(".")
        if section in ("data", "train"):
            return (
                None
                if rest in getattr(method, section)
                else (DATA_FIELDS if section == "data" else TRAIN_FIELDS).get(rest)
            )
        if section == "head_options":
            spec = get_head(method.head)
            hints = _hints(spec.config_cls, drop=(*spec.preset, *method.head_options))
            return hints.get(rest)
        name, _, option = rest.partition(".")
        objectives = method.objectives or dict.fromkeys(get_head(method.head).objectives)
        if section != "objectives" or name not in objectives or name not in OBJECTIVES:
            return None
        return _hints(OBJECTIVES[name].config_cls, drop=tuple(objectives[name] or ())).get(option)

    def _check_path(self, path: str) -> None:
        o, at = self._origins, ("search", path)
        section, _, rest = path.partition(".")
        if section in ("data", "train"):
            fields = DATA_FIELDS if section == "data" else TRAIN_FIELDS
            if rest not in fields:
                o.fail(at, f"{section} has no field {rest!r}", sorted(fields))
        elif section == "objectives":
            name, _, option = rest.partition(".")
            if name not in OBJECTIVES:
                o.fail(at, f"unknown objective {name!r}", sorted(OBJECTIVES))
            if option not in _hints(OBJECTIVES[name].config_cls):
                o.fail(at, f"objective {name!r} has no option {option!r}", sorted(_hints(OBJECTIVES[name].config_cls)))
        elif section != "head_options":
            o.fail(at, "a searched path starts with data., train., head_options. or objectives.", SEARCH_SECTIONS)
        if not any(self._hint(m, path) is not None for m in self.methods):
            o.fail(at, *self._applies_to_none(section, rest))

    def _applies_to_none(self, section: str, rest: str) -> tuple[str, list | None]:
        """Why a searched path applies to no arm, and what would."""
        if section in ("data", "train"):
            return f"every arm sets {section}.{rest} itself, so no arm searches it", None
        if section == "head_options":
            free = {
                k
                for m in self.methods
                for k in _hints(get_head(m.head).config_cls)
                if self._hint(m, f"head_options.{k}") is not None
            }
            return f"no arm's head has option {rest!r} left free (a preset or the arm may fix it)", sorted(free)
        name = rest.partition(".")[0]
        used = {n for m in self.methods for n in (m.objectives or get_head(m.head).objectives)}
        if name not in used:
            return f"no arm trains with objective {name!r}", sorted(used)
        return f"every arm that uses {name!r} sets {rest!r} itself", None

    def _validate(self) -> None:
        """Every arm builds, alone and at every corner of its search space, before any trial starts."""
        for path in self.search:
            self._check_path(path)
        for arm in self.arms():
            space = self.search_space(arm)
            trials: list[dict[str, Any]] = [{}] + [{p: c} for p, d in space.items() for c in d.corners()]
            trials += [{p: d.corners()[0] for p, d in space.items()}, {p: d.corners()[-1] for p, d in space.items()}]
            for params in trials:
                config = self._config(arm.dataset, arm.method, params, self.seeds[0])
            if self.scheduler and self.scheduler.grace_period > config.train.epochs:
                self._origins.fail(
                    ("scheduler", "asha", "grace_period"),
                    f"{self.scheduler.grace_period} is more than train.epochs = {config.train.epochs} of arm {arm.key}",
                )

    def _config(self, dataset: str, m: Method, params: dict, seed: int) -> RunConfig:
        o, i = self._origins, [x.name for x in self.methods].index(m.name)
        values = {p: o.check(("search", p), v, self._hint(m, p)) for p, v in params.items()}

        def layer(section: str, base: dict, own: dict) -> tuple[dict, Callable]:
            """defaults < the arm's own < searched values, and who set each key (for errors)."""
            found = {p[len(section) + 1 :]: v for p, v in values.items() if p.startswith(section + ".")}

            def owner(k):
                return (
                    ("search", f"{section}.{k}")
                    if k in found
                    else ("methods", i, *section.split("."), k)
                    if k in own
                    else (section, k)
                )

            return {**base, **own, **found}, owner

        data, data_owner = layer("data", self.data, m.data)
        sample = o.build(
            SampleConfig, {k: v for k, v in data.items() if k in _SAMPLE_FIELDS}, data_owner, ("data",), seed=seed
        )
        o.build(
            DATASETS[dataset].check_like_threshold,  # a threshold no rating of the data set reaches
            {k: getattr(sample, k) for k in ("like_threshold", "like_comparison")},
            data_owner,
            ("data",),
        )
        renamed = {"z": "z", "scope": "threshold_scope"}
        stereotype = o.build(
            StereotypeConfig,
            {k: data[v] for k, v in renamed.items() if v in data},
            lambda k: data_owner(renamed[k]),
            ("data",),
        )
        searched = any(p.startswith("objectives.") for p in values)
        train = self._train(m, i, layer, searched, seed)
        return o.build(
            RunConfig,
            {"max_tokens": data.get("max_tokens", RunConfig.max_tokens)},
            data_owner,
            ("data",),
            dataset=dataset,
            data_dir=self.data_dir,
            backbone=self.backbone,
            sample=sample,
            stereotype=stereotype,
            train=train,
        )

    def _train(self, m: Method, i: int, layer: Callable, searched: bool, seed: int) -> TrainConfig:
        """The arm's ``TrainConfig``, parsed once. Where it fails, its parts are built one by one to
        name the key to blame: the head's options, then (when searched) each objective's, then train's."""
        o, spec = self._origins, get_head(m.head)
        options, options_owner = layer("head_options", {}, m.head_options)
        objectives, owners = m.objectives, {}
        if searched:
            objectives = {}
            for name, own in (m.objectives or dict.fromkeys(spec.objectives)).items():
                objectives[name], owners[name] = layer(f"objectives.{name}", {}, own or {})
        train, train_owner = layer("train", self.train, m.train)
        fixed = {"head": m.head, "head_options": options, "objectives": objectives, "seed": seed}
        try:
            return TrainConfig(**fixed, **train)
        except (ValueError, TypeError, KeyError):
            pass
        o.build(lambda **kw: validate_config(spec, kw), options, options_owner, ("methods", i, "head_options"))
        for name, owner in owners.items():
            o.build(
                functools.partial(objective_options, name), objectives[name], owner, ("methods", i, "objectives", name)
            )
        return o.build(TrainConfig, train, train_owner, ("train",), **fixed)

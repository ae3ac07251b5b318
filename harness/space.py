"""Search-space YAML -> a validated ``SweepSpec`` (issue 4). No Ray here: ``harness.sweep``
turns the spec's ``Distribution``s into Tune/Optuna objects and its ``run_config`` into trials.

A file may say ``extends: <file>`` (relative to itself; ``extends: null`` extends nothing);
otherwise it extends ``defaults.yaml`` of its folder. Deep merge, parent first: mappings merge
key by key, lists and scalars replace. ``name``, ``description`` and ``paper`` are never
inherited. Everything is checked before any trial starts; a ``SpaceError`` names the file
that set the bad key, the dotted key, what is wrong and the valid choices.
See search_spaces/README.md for the schema.
"""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
import numbers
import re
from dataclasses import dataclass, field
from pathlib import Path
from types import NoneType, UnionType
from typing import Literal, Union, get_args, get_origin, get_type_hints

import yaml

from harness.backbones.registry import BACKBONES
from harness.config.data import SampleConfig, StereotypeConfig
from harness.config.heads import HEADS, get_head, validate_config
from harness.config.objectives import OBJECTIVES, check_head, objective_options
from harness.config.run import RunConfig
from harness.config.sweep import ASHA, EXECUTORS, Resources  # noqa: F401  (their home: harness.config.sweep)
from harness.config.train import TrainConfig
from harness.data.registry import DATASETS
from harness.prompts import SETTINGS

DEFAULTS_FILE = "defaults.yaml"
METRICS = ("valid_auc",)  # what a trial reports (harness.worker) and a sweep may select on (`metric`)
MODES = ("max", "min")
SCHEDULERS = ("asha",)
DISTRIBUTIONS = ("loguniform", "uniform", "int", "choice")
SEARCH_SECTIONS = ("data.<field>", "train.<field>", "head_options.<field>", "objectives.<name>.<option>")
_IDENTITY = ("name", "description", "paper")   # describe one file; never inherited
_MAPPINGS = ("data", "train", "search", "smoke", "resources")  # null here means {}
_ARM_KEYS = ("name", "head", "head_options", "objectives", "data", "train")
_SAFE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")   # names that become folder names
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.-]*/[\w.-]+$")


class SpaceError(ValueError):
    """A search-space file is wrong: ``file``, dotted ``key``, the problem and the valid ``choices``."""

    def __init__(self, file, key: str, problem: str, choices=None):
        self.file, self.key, self.problem = Path(file), key, problem
        self.choices = tuple(choices) if choices else None
        valid = f"; valid: {', '.join(map(str, choices))}" if choices else ""
        super().__init__(f"{file}: {key}: {problem}{valid}")

    def __reduce__(self):   # survives pickling (Ray ships a trial's exception to the driver)
        return type(self), (self.file, self.key, self.problem, self.choices)


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
    objectives: dict | None = None   # None: the head's paper objectives
    data: dict = field(default_factory=dict)
    train: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Arm:
    dataset: str
    name: str                                               # the method's name
    method: Method = field(compare=False, repr=False)

    @property
    def key(self) -> str:
        return f"{self.dataset}/{self.name}"

    @property
    def slug(self) -> str:
        """``key`` as one folder name."""
        return f"{self.dataset}__{self.name}"


def _hints(cls, drop=()) -> dict:
    return {k: v for k, v in get_type_hints(cls).items() if k not in drop}


_SAMPLE_FIELDS = _hints(SampleConfig, drop=("seed",))
DATA_FIELDS = {**_SAMPLE_FIELDS, "z": float, "threshold_scope": get_type_hints(StereotypeConfig)["scope"],
               "max_tokens": int}
TRAIN_FIELDS = {**_hints(TrainConfig, drop=("head", "head_options", "objectives", "seed")),
                "train_setting": Literal[SETTINGS]}
_TOP = {"name": str, "description": str, "paper": str, "datasets": list, "data_dir": str | None, "backbone": str,
        "data": dict, "train": dict, "methods": list, "search": dict, "seeds": list, "metric": Literal[METRICS],
        "mode": Literal[MODES], "budget": int, "resources": dict, "concurrency": int | None, "max_failures": int,
        "scheduler": dict | None, "searcher_seed": int, "smoke": dict}
_SMOKE_KEYS = sorted(set(_TOP) - {*_IDENTITY, "smoke"})
# what a key is when no file sets it; the folder's defaults.yaml overrides these
_SPEC_DEFAULTS = {"description": "", "paper": "", "data_dir": None, "backbone": RunConfig.backbone, "data": {},
                  "train": {}, "search": {}, "seeds": [0], "metric": "valid_auc", "mode": "max", "budget": 1,
                  "resources": {}, "concurrency": None, "max_failures": 0, "scheduler": None, "searcher_seed": 0,
                  "smoke": {}}


class _Mismatch(Exception):
    pass


def _coerce(value, hint):
    """``value`` as type ``hint`` (ints pass as floats, lists as tuples); _Mismatch otherwise."""
    origin, args = get_origin(hint), get_args(hint)
    if origin in (Union, UnionType):
        if value is None and NoneType in args:
            return None
        for arg in (a for a in args if a is not NoneType):
            try:
                return _coerce(value, arg)
            except _Mismatch:
                pass
    elif origin is Literal:
        if any(value == a and type(value) is type(a) for a in args):
            return value
    elif hint is bool or (isinstance(value, bool) and hint in (int, float)):
        if isinstance(value, bool) and hint is bool:
            return value
    elif hint is int and isinstance(value, numbers.Integral):
        return int(value)
    elif hint is float and isinstance(value, numbers.Real):
        return float(value)
    elif hint in (str, dict, list) and isinstance(value, hint):
        return value
    elif origin is tuple and isinstance(value, (list, tuple)):
        if args[-1] is Ellipsis:
            return tuple(_coerce(v, args[0]) for v in value)
        if len(value) == len(args):
            return tuple(_coerce(v, a) for v, a in zip(value, args))
    elif origin is dict and isinstance(value, dict):
        return value
    raise _Mismatch


def _describe(hint) -> str:
    origin, args = get_origin(hint), get_args(hint)
    if origin in (Union, UnionType):
        return " or ".join(_describe(a) for a in args)
    if origin is Literal:
        return "one of " + ", ".join(map(repr, args))
    if origin is tuple:
        return f"a list, each {_describe(args[0])}" if args[-1] is Ellipsis else \
            f"a list of {len(args)} ({', '.join(_describe(a) for a in args)})"
    names = {bool: "true or false", int: "an integer", float: "a number", str: "a string", dict: "a mapping",
             list: "a list", NoneType: "null"}
    return names.get(hint, names.get(origin, str(hint)))


class _Origins:
    """Which file set each key (dotted path as a tuple); a replaced mapping forgets its children."""

    def __init__(self, files: list[Path], source: Path):
        self.files, self.source, self.at = files, source, {}

    def set(self, path: tuple, origin: tuple[Path, bool]) -> None:
        for known in [p for p in self.at if p[:len(path)] == path]:
            del self.at[known]
        self.at[path] = origin

    def _origin(self, path: tuple) -> tuple[Path, bool]:
        for i in range(len(path), 0, -1):
            if path[:i] in self.at:
                return self.at[path[:i]]
        below = [o for p, o in self.at.items() if p[:len(path)] == path]
        return max(below, key=lambda o: self.files.index(o[0])) if below else (self.source, False)

    def file(self, path: tuple) -> Path:
        return self._origin(path)[0]

    def fail(self, path: tuple, problem: str, choices=None):
        file, via_smoke = self._origin(path)
        key = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path).lstrip(".")
        raise SpaceError(file, ("smoke." if via_smoke else "") + key, problem, choices)

    def check(self, path: tuple, value, hint):
        try:
            return _coerce(value, hint)
        except _Mismatch:
            self.fail(path, f"expected {_describe(hint)}, got {value!r}")

    def fields(self, path: tuple, raw, schema: dict) -> dict:
        if not isinstance(raw, dict):
            self.fail(path, f"expected a mapping, got {raw!r}", sorted(schema))
        for key in raw:
            if key not in schema:
                self.fail(path + (key,), "unknown key", sorted(schema))
        return {k: self.check(path + (k,), v, schema[k]) for k, v in raw.items()}

    def build(self, make, values: dict, owner, whole: tuple, **fixed):
        """``make(**fixed, **values)``; on error blame the one value that fails alone, else ``whole``."""
        try:
            return make(**fixed, **values)
        except (ValueError, TypeError, KeyError) as error:
            culprit = next((k for k in values if not _builds(make, {**fixed, k: values[k]})), None) \
                if _builds(make, fixed) else None       # the fixed values alone fail: no one value to blame
            self.fail(owner(culprit) if culprit else whole, error.args[0] if error.args else str(error))


def _builds(make, kwargs) -> bool:
    try:
        make(**kwargs)
        return True
    except (ValueError, TypeError, KeyError):
        return False


class _Loader(yaml.SafeLoader):
    """YAML 1.2 floats (``1e-3`` is a number, not text) and no silently repeated keys."""

    def construct_mapping(self, node, deep=False):
        keys = []
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in keys:
                raise yaml.constructor.ConstructorError(None, None, f"key {key!r} appears twice", key_node.start_mark)
            keys.append(key)
        return super().construct_mapping(node, deep)


_Loader.add_implicit_resolver("tag:yaml.org,2002:float", re.compile(
    r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"), list("-+0123456789"))


def _read(path: Path) -> dict:
    try:
        raw = yaml.load(path.read_text(), Loader=_Loader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark else ""
        raise SpaceError(path, "(yaml)", f"not valid YAML: {where}{getattr(error, 'problem', None) or error}") from None
    raw = {} if raw is None else raw
    if not isinstance(raw, dict):
        raise SpaceError(path, "(top level)", f"expected a mapping of keys, got {type(raw).__name__}")
    for key in raw:
        if key not in _TOP and key != "extends":
            raise SpaceError(path, str(key), "unknown key", sorted([*_TOP, "extends"]))
    for key in raw["smoke"] if isinstance(raw.get("smoke"), dict) else ():
        if key not in _SMOKE_KEYS:
            raise SpaceError(path, f"smoke.{key}", "not something smoke can override", _SMOKE_KEYS)
    return raw


def _chain(path: Path, seen: tuple = ()) -> list[tuple[Path, dict]]:
    """The files ``path`` extends, root first, each with its raw mapping."""
    if path.resolve() in seen:
        raise SpaceError(path, "extends", "extends itself: " + " -> ".join(str(p) for p in (*seen, path.resolve())))
    raw = _read(path)
    parent = raw.pop("extends", "" if path.name != DEFAULTS_FILE else None)
    if parent == "":
        parent = DEFAULTS_FILE if (path.parent / DEFAULTS_FILE).is_file() else None
    if parent is not None:
        if not isinstance(parent, str) or not (path.parent / parent).is_file():
            raise SpaceError(path, "extends", f"{parent!r} is not a file next to this one (or null)")
        return _chain(path.parent / parent, (*seen, path.resolve())) + [(path, raw)]
    return [(path, raw)]


def _merge(base: dict, over: dict, origins: _Origins, origin_of, path: tuple = ()) -> dict:
    out = dict(base)
    for key, value in over.items():
        at = path + (key,)
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value, origins, origin_of, at)
        else:
            out[key] = copy.deepcopy(value)
            origins.set(at, origin_of(at))
    return out


def list_files(folder) -> list[Path]:
    """The experiment files of a folder (every ``*.yaml`` but ``defaults.yaml``), sorted."""
    return sorted(p for p in Path(folder).glob("*.yaml") if p.name != DEFAULTS_FILE)


def load_spec(path, smoke: bool = False) -> SweepSpec:
    """Read, merge and validate a search-space file; ``smoke`` applies its ``smoke`` overrides."""
    path = Path(path)
    if not path.is_file():
        raise SpaceError(path, "(file)", "no such file")
    chain = _chain(path)
    origins = _Origins([p for p, _ in chain], path)
    merged = copy.deepcopy(_SPEC_DEFAULTS)
    for file, raw in chain:
        layer = {k: v for k, v in raw.items() if file == path or k not in _IDENTITY}
        merged = _merge(merged, layer, origins, lambda at, f=file: (f, False))
    if smoke:
        merged = _merge(merged, merged["smoke"] or {}, origins, lambda at: (origins.file(("smoke", *at)), True))
    for key in _MAPPINGS:
        merged[key] = {} if merged[key] is None else merged[key]
    return _parse(merged, origins, path, bool(smoke))


def _parse(merged: dict, origins: _Origins, source: Path, smoke: bool) -> SweepSpec:
    top = {k: origins.check((k,), merged[k], _TOP[k]) for k in merged if k in _TOP and k != "name"}
    name = origins.check(("name",), merged.get("name", source.stem), str)
    if not _SAFE.match(name):
        origins.fail(("name",), f"{name!r} must be letters, digits, '.', '_' or '-' (it names a folder)")
    for key, least in (("budget", 1), ("max_failures", 0), ("concurrency", 1)):
        if top[key] is not None and top[key] < least:
            origins.fail((key,), f"must be >= {least}, got {top[key]}")
    methods = _methods(origins, merged.get("methods"))
    resources = origins.fields(("resources",), top["resources"], _hints(Resources))
    spec = SweepSpec(
        name=name, description=top["description"], paper=top["paper"],
        datasets=_names(origins, ("datasets",), merged.get("datasets"), sorted(DATASETS), "data set"),
        data_dir=top["data_dir"] and str(Path(top["data_dir"]).expanduser().resolve()),
        backbone=_backbone(origins, top["backbone"]),
        data=origins.fields(("data",), top["data"], DATA_FIELDS),
        train=origins.fields(("train",), top["train"], TRAIN_FIELDS), methods=methods,
        search={p: _distribution(origins, ("search", p), d) for p, d in top["search"].items() if d is not None},
        seeds=_seeds(origins, top["seeds"]), metric=top["metric"], mode=top["mode"], budget=top["budget"],
        resources=origins.build(Resources, resources, lambda k: ("resources", k), ("resources",)),
        concurrency=top["concurrency"], max_failures=top["max_failures"],
        scheduler=_scheduler(origins, top["scheduler"]), searcher_seed=top["searcher_seed"],
        source=source, smoke=smoke, files=tuple(origins.files), _origins=origins)
    spec._validate()
    return spec


def _names(origins, path, raw, valid, what) -> tuple[str, ...]:
    if not isinstance(raw, list) or not raw:
        origins.fail(path, f"expected a non-empty list of {what} names, got {raw!r}", valid)
    for i, name in enumerate(raw):
        if name not in valid:
            origins.fail(path + (i,), f"unknown {what} {name!r}", valid)
        if name in raw[:i]:
            origins.fail(path + (i,), f"{name!r} appears twice")
    return tuple(raw)


def _backbone(origins, name: str) -> str:
    """Checked by form only (loading it is the trial's job); a local folder becomes absolute."""
    known = list(BACKBONES)
    if name not in known and Path(name).expanduser().is_dir():
        return str(Path(name).expanduser().resolve())
    if name in known or _HUB_ID.match(name) or "/" in name or name.startswith(("~", ".")):
        return name
    origins.fail(("backbone",), f"unknown backbone {name!r} (nor a path or an owner/name hub id)", known)


def _seeds(origins, raw) -> tuple[int, ...]:
    if not raw:
        origins.fail(("seeds",), "needs at least one seed (the tables need replicates)")
    seeds = tuple(origins.check(("seeds", i), s, int) for i, s in enumerate(raw))
    if len(set(seeds)) != len(seeds):
        origins.fail(("seeds",), f"seeds must be distinct, got {list(seeds)}")
    return seeds


def _scheduler(origins, raw) -> ASHA | None:
    if raw is None:
        return None
    if len(raw) != 1 or next(iter(raw)) not in SCHEDULERS:
        origins.fail(("scheduler",), f"expected null or one scheduler, got {raw!r}", SCHEDULERS)
    values = origins.fields(("scheduler", "asha"), raw["asha"] or {}, _hints(ASHA))
    return origins.build(ASHA, values, lambda k: ("scheduler", "asha", k), ("scheduler", "asha"))


def _distribution(origins, path, raw) -> Distribution:
    if not isinstance(raw, dict) or len(raw) != 1 or next(iter(raw)) not in DISTRIBUTIONS:
        origins.fail(path, f"expected one distribution such as {{loguniform: [0.01, 1.0]}}, got {raw!r}",
                     DISTRIBUTIONS)
    (kind, args), = raw.items()
    at = path + (kind,)
    if not isinstance(args, list) or not args:
        origins.fail(at, f"expected a non-empty list, got {args!r}")
    if kind == "choice":
        if not all(a is None or isinstance(a, (bool, int, float, str)) for a in args):
            origins.fail(at, f"choices must be scalars (Optuna's categorical distribution), got {args!r}")
        if len({json.dumps(a) for a in args}) != len(args):
            origins.fail(at, f"choices must be distinct, got {args!r}")
        return Distribution(kind, tuple(args))
    low, high = (origins.check(at, args, tuple[int, int] if kind == "int" else tuple[float, float]))
    if kind == "loguniform" and not 0 < low < high:
        origins.fail(at, f"needs 0 < low < high, got [{low}, {high}]")
    if (kind == "uniform" and not low < high) or (kind == "int" and not low <= high):
        origins.fail(at, f"needs low {'<' if kind == 'uniform' else '<='} high, got [{low}, {high}]")
    return Distribution(kind, (low, high))


def _methods(origins, raw) -> tuple[Method, ...]:
    if not isinstance(raw, list) or not raw:
        origins.fail(("methods",), f"expected a non-empty list of arms ({', '.join(_ARM_KEYS)}), got {raw!r}")
    methods = tuple(_method(origins, ("methods", i), arm) for i, arm in enumerate(raw))
    for i, method in enumerate(methods):
        if method.name in [m.name for m in methods[:i]]:
            origins.fail(("methods", i, "name"), f"arm name {method.name!r} is used twice; give each arm a name")
    return methods


def _method(origins, path, raw) -> Method:
    if not isinstance(raw, dict):
        origins.fail(path, f"an arm is a mapping, got {raw!r}", _ARM_KEYS)
    for key in raw:
        if key not in _ARM_KEYS:
            origins.fail(path + (key,), "unknown key", _ARM_KEYS)
    head = raw.get("head")
    if head not in HEADS:
        origins.fail(path + ("head",), f"unknown head {head!r}", sorted(HEADS))
    spec = get_head(head)
    name = origins.check(path + ("name",), raw.get("name", head), str)
    if not _SAFE.match(name):
        origins.fail(path + ("name",), f"{name!r} must be letters, digits, '.', '_' or '-' (it names a folder)")
    options = origins.fields(path + ("head_options",), raw.get("head_options") or {}, _hints(spec.config_cls))
    origins.build(lambda **kw: validate_config(spec, kw), options, lambda k: path + ("head_options", k),
                  path + ("head_options",))
    objectives = raw.get("objectives")
    if objectives is not None:
        objectives = origins.check(path + ("objectives",), objectives, dict)
        if not objectives:
            origins.fail(path + ("objectives",), "empty; write null for the head's paper objectives")
        objectives = {n: _objective(origins, path + ("objectives", n), n, o) for n, o in objectives.items()}
        for n, o in objectives.items():    # div on a head without experts: refused here, not in the trial
            origins.build(lambda **kw: check_head(n, objective_options(n, **kw), head),  # noqa: B023
                          o, lambda k: path + ("objectives", n, k), path + ("objectives", n))
    return Method(name, head, options, objectives, origins.fields(path + ("data",), raw.get("data") or {}, DATA_FIELDS),
                  origins.fields(path + ("train",), raw.get("train") or {}, TRAIN_FIELDS))


def _objective(origins, path, name, raw) -> dict:
    if name not in OBJECTIVES:
        origins.fail(path, f"unknown objective {name!r}", sorted(OBJECTIVES))
    options = origins.fields(path, raw or {}, _hints(OBJECTIVES[name].config_cls))
    origins.build(lambda **kw: objective_options(name, **kw), options, lambda k: path + (k,), path)
    return options


@dataclass(frozen=True)
class SweepSpec:
    """A validated search space. ``arms()`` = datasets x methods; each arm's trials are
    ``run_config(arm, params, seed)`` for params drawn from ``search_space(arm)``."""

    name: str
    description: str
    paper: str                        # the table or figure it reproduces
    datasets: tuple[str, ...]
    data_dir: str | None
    backbone: str                     # a registered name, tiny-t5/tiny-llama, a path or a hub id
    data: dict                        # DATA_FIELDS, shared by every arm
    train: dict                       # TRAIN_FIELDS, shared by every arm
    methods: tuple[Method, ...]
    search: dict[str, Distribution]
    seeds: tuple[int, ...]
    metric: str
    mode: str
    budget: int                       # configurations tried per arm in the search phase
    resources: Resources
    concurrency: int | None           # None: see max_concurrent
    max_failures: int
    scheduler: ASHA | None
    searcher_seed: int
    source: Path
    smoke: bool
    files: tuple[Path, ...] = ()      # the extends chain, root first
    _origins: _Origins | None = field(default=None, compare=False, repr=False)

    def __post_init__(self):
        if self._origins is None:   # built by hand, not by load_spec: blame the source file
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
        fits = [cpus // (r.workers * r.cpus_per_worker)] + ([gpus // (r.workers * r.gpus_per_worker)]
                                                            if r.gpus_per_worker else [])
        return max(1, int(min(fits)))

    def run_config(self, arm: Arm, params: dict, seed: int) -> RunConfig:
        """defaults < the arm's overrides < ``params``; sample and training seeds = ``seed``."""
        space = self.search_space(arm)
        for path in params:
            if path not in space:
                raise SpaceError(self.source, f"params.{path}", f"not searched for arm {arm.key}", sorted(space))
        return self._config(arm.dataset, arm.method, params, seed)

    def config_id(self, arm: Arm, params: dict) -> str:
        """A short stable hash of the arm and its resolved config, seeds and data_dir left out."""
        config = self.run_config(arm, params, seed=0).to_dict()
        del config["data_dir"], config["sample"]["seed"], config["train"]["seed"]
        payload = json.dumps({"arm": arm.key, "config": config}, sort_keys=True, default=str)
        return hashlib.sha256(payload.encode()).hexdigest()[:12]

    def to_dict(self) -> dict:
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if not f.name.startswith("_")}
        out.update(source=str(self.source), files=[str(p) for p in self.files], experiment=self.experiment,
                   methods=[dataclasses.asdict(m) for m in self.methods], arms=[a.key for a in self.arms()],
                   search={p: d.to_dict() for p, d in self.search.items()},
                   resources=dataclasses.asdict(self.resources),
                   scheduler=self.scheduler and {"asha": dataclasses.asdict(self.scheduler)})
        return json.loads(json.dumps(out))

    # -- internals --------------------------------------------------------------------------------

    def _hint(self, method: Method, path: str):
        """The type a searched path takes for ``method``; None when it does not apply."""
        section, _, rest = path.partition(".")
        if section in ("data", "train"):
            return None if rest in getattr(method, section) else (DATA_FIELDS if section == "data" else
                                                                   TRAIN_FIELDS).get(rest)
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
            free = {k for m in self.methods for k in _hints(get_head(m.head).config_cls)
                    if self._hint(m, f"head_options.{k}") is not None}
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
            trials = [{}] + [{p: c} for p, d in space.items() for c in d.corners()]
            trials += [{p: d.corners()[0] for p, d in space.items()}, {p: d.corners()[-1] for p, d in space.items()}]
            for params in trials:
                config = self._config(arm.dataset, arm.method, params, self.seeds[0])
            if self.scheduler and self.scheduler.grace_period > config.train.epochs:
                self._origins.fail(("scheduler", "asha", "grace_period"), f"{self.scheduler.grace_period} is more "
                                   f"than train.epochs = {config.train.epochs} of arm {arm.key}")

    def _config(self, dataset: str, m: Method, params: dict, seed: int) -> RunConfig:
        o, i = self._origins, [x.name for x in self.methods].index(m.name)
        values = {p: o.check(("search", p), v, self._hint(m, p)) for p, v in params.items()}

        def layer(section: str, base: dict, own: dict) -> tuple[dict, callable]:
            """defaults < the arm's own < searched values, and who set each key (for errors)."""
            found = {p[len(section) + 1:]: v for p, v in values.items() if p.startswith(section + ".")}

            def owner(k):
                return ("search", f"{section}.{k}") if k in found else \
                    ("methods", i, *section.split("."), k) if k in own else (section, k)
            return {**base, **own, **found}, owner

        data, data_owner = layer("data", self.data, m.data)
        sample = o.build(SampleConfig, {k: v for k, v in data.items() if k in _SAMPLE_FIELDS}, data_owner,
                         ("data",), seed=seed)
        o.build(DATASETS[dataset].check_like_threshold,     # a threshold no rating of the data set reaches
                {k: getattr(sample, k) for k in ("like_threshold", "like_comparison")}, data_owner, ("data",))
        renamed = {"z": "z", "scope": "threshold_scope"}
        stereotype = o.build(StereotypeConfig, {k: data[v] for k, v in renamed.items() if v in data},
                             lambda k: data_owner(renamed[k]), ("data",))
        options, options_owner = layer("head_options", {}, m.head_options)
        spec = get_head(m.head)
        o.build(lambda **kw: validate_config(spec, kw), options, options_owner, ("methods", i, "head_options"))
        objectives = m.objectives
        if any(p.startswith("objectives.") for p in values):
            objectives = {}
            for name, own in (m.objectives or dict.fromkeys(spec.objectives)).items():
                objectives[name], owner = layer(f"objectives.{name}", {}, own or {})
                o.build(lambda **kw: objective_options(name, **kw), objectives[name], owner,  # noqa: B023
                        ("methods", i, "objectives", name))
        train, train_owner = layer("train", self.train, m.train)
        train = o.build(TrainConfig, train, train_owner, ("train",), head=m.head, head_options=options,
                        objectives=objectives, seed=seed)
        return o.build(RunConfig, {"max_tokens": data.get("max_tokens", RunConfig.max_tokens)}, data_owner,
                       ("data",), dataset=dataset, data_dir=self.data_dir, backbone=self.backbone, sample=sample,
                       stereotype=stereotype, train=train)

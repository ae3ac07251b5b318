"""A search-space file -> a validated ``SweepSpec``: the ``extends`` chain merged, every key
checked against the schema (``harness.space.spec``) with the file that set it, every arm
built at every corner of its search space before any trial starts."""

from __future__ import annotations

import copy
import functools
import json
from pathlib import Path

from harness.config.backbones import BACKBONES
from harness.config.datasets import DATASETS
from harness.config.heads import HEADS, get_head, validate_config
from harness.config.objectives import OBJECTIVES, check_head, objective_options
from harness.config.sweep import ASHA, SEARCHER_DRAWS, Resources, Selection
from harness.space.files import SpaceError, _Origins, chain, merge
from harness.space.schema import (
    _ARM_KEYS,
    _HUB_ID,
    _IDENTITY,
    _MAPPINGS,
    _SAFE,
    _SMOKE_KEYS,
    _SPEC_DEFAULTS,
    _TOP,
    DATA_FIELDS,
    DISTRIBUTIONS,
    SCHEDULERS,
    TRAIN_FIELDS,
    Distribution,
    Method,
    _hints,
)
from harness.space.spec import SweepSpec


def load_spec(path, smoke: bool = False) -> SweepSpec:
    """Read, merge and validate a search-space file; ``smoke`` applies its ``smoke`` overrides."""
    path = Path(path)
    if not path.is_file():
        raise SpaceError(path, "(file)", "no such file")
    files = chain(path, _TOP, _SMOKE_KEYS)
    origins = _Origins([p for p, _ in files], path)
    merged = copy.deepcopy(_SPEC_DEFAULTS)
    for file, raw in files:
        layer = {k: v for k, v in raw.items() if file == path or k not in _IDENTITY}
        merged = merge(merged, layer, origins, lambda at, f=file: (f, False))
    if smoke:
        merged = merge(merged, merged["smoke"] or {}, origins, lambda at: (origins.file(("smoke", *at)), True))
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
    selection = _selection(origins, top["metric"], top["mode"], top["select"])
    _check_scheduler(origins, top["scheduler"], selection)
    spec = SweepSpec(
        name=name,
        description=top["description"],
        paper=top["paper"],
        datasets=_names(origins, ("datasets",), merged.get("datasets"), sorted(DATASETS), "data set"),
        data_dir=top["data_dir"] and str(Path(top["data_dir"]).expanduser().resolve()),
        backbone=_backbone(origins, top["backbone"]),
        data=origins.fields(("data",), top["data"], DATA_FIELDS),
        train=origins.fields(("train",), top["train"], TRAIN_FIELDS),
        methods=methods,
        search={p: _distribution(origins, ("search", p), d) for p, d in top["search"].items() if d is not None},
        seeds=_seeds(origins, top["seeds"]),
        metric=selection.metrics[0],
        mode=selection.modes[0],
        selection=selection,
        budget=top["budget"],
        resources=origins.build(Resources, resources, lambda k: ("resources", k), ("resources",)),
        concurrency=top["concurrency"],
        max_failures=top["max_failures"],
        scheduler=_scheduler(origins, top["scheduler"]),
        searcher_seed=top["searcher_seed"],
        searcher_draws=_draws(origins, top["searcher_draws"]),
        source=source,
        smoke=smoke,
        files=tuple(origins.files),
        tracking=top["tracking"],
        _origins=origins,
    )
    spec._validate()
    return spec


def _check_scheduler(origins, scheduler, selection: Selection) -> None:
    """ASHA compares trials on the first selection metric, on one metric only."""
    if selection.several and scheduler:
        origins.fail(
            ("scheduler",),
            "ASHA stops trials on one metric; a search on several metrics runs every "
            "trial to its end: set scheduler: null",
        )
    if scheduler and selection.metrics[0] != "valid_auc":
        origins.fail(
            ("scheduler",),
            f"ASHA compares trials on {selection.metrics[0]} after every epoch, where an "
            "SF can be undefined, and it does not check SF's support (min_support): "
            "search SF with scheduler: null, or select on valid_auc",
        )


def _draws(origins, draws: str) -> str:
    if draws not in SEARCHER_DRAWS:
        origins.fail(
            ("searcher_draws",),
            f"{draws!r} is not a way to draw: per_arm (each arm its own random stream, the default) "
            "or shared (every arm the same stream, as before issue 36)",
            SEARCHER_DRAWS,
        )
    return draws


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


def _selection(origins, metric, mode, select) -> Selection:
    """``metric`` and ``mode`` (one name each, or lists of equal length) and ``select``'s rule."""
    metrics = tuple(metric) if isinstance(metric, list) else (metric,)
    modes = tuple(mode) if isinstance(mode, list) else (mode,)
    values = origins.fields(("select",), select or {}, _hints(Selection, drop=("metrics", "modes")))
    values.setdefault("rule", "pareto" if len(metrics) > 1 else "best")
    try:
        return Selection(metrics, modes, **values)
    except ValueError as error:
        message = error.args[0]
        key = next((k for k in ("bounds", "best", "rule", "min_support") if k in values and k in message), None)
        origins.fail(("select", key) if key else ("mode",) if "its mode is" in message else ("metric",), message)


def _scheduler(origins, raw) -> ASHA | None:
    if raw is None:
        return None
    if len(raw) != 1 or next(iter(raw)) not in SCHEDULERS:
        origins.fail(("scheduler",), f"expected null or one scheduler, got {raw!r}", SCHEDULERS)
    values = origins.fields(("scheduler", "asha"), raw["asha"] or {}, _hints(ASHA))
    return origins.build(ASHA, values, lambda k: ("scheduler", "asha", k), ("scheduler", "asha"))


def _distribution(origins, path, raw) -> Distribution:
    if not isinstance(raw, dict) or len(raw) != 1 or next(iter(raw)) not in DISTRIBUTIONS:
        origins.fail(path, f"expected one distribution such as {{loguniform: [0.01, 1.0]}}, got {raw!r}", DISTRIBUTIONS)
    ((kind, args),) = raw.items()
    at = path + (kind,)
    if not isinstance(args, list) or not args:
        origins.fail(at, f"expected a non-empty list, got {args!r}")
    if kind == "choice":
        if not all(a is None or isinstance(a, (bool, int, float, str)) for a in args):
            origins.fail(at, f"choices must be scalars (Optuna's categorical distribution), got {args!r}")
        if len({json.dumps(a) for a in args}) != len(args):
            origins.fail(at, f"choices must be distinct, got {args!r}")
        return Distribution(kind, tuple(args))
    low, high = origins.check(at, args, tuple[int, int] if kind == "int" else tuple[float, float])
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
    origins.build(
        lambda **kw: validate_config(spec, kw), options, lambda k: path + ("head_options", k), path + ("head_options",)
    )
    objectives = raw.get("objectives")
    if objectives is not None:
        objectives = origins.check(path + ("objectives",), objectives, dict)
        if not objectives:
            origins.fail(path + ("objectives",), "empty; write null for the head's paper objectives")
        objectives = {n: _objective(origins, path + ("objectives", n), n, o) for n, o in objectives.items()}
        for n, o in objectives.items():  # div on a head without experts: refused here, not in the trial
            at = path + ("objectives", n)
            origins.build(functools.partial(_fits_head, n, head), o, functools.partial(_under, at), at)
    return Method(
        name,
        head,
        options,
        objectives,
        origins.fields(path + ("data",), raw.get("data") or {}, DATA_FIELDS),
        origins.fields(path + ("train",), raw.get("train") or {}, TRAIN_FIELDS),
    )


def _fits_head(name: str, head: str, **options) -> None:
    """Objective ``name`` with ``options`` on ``head``: its options valid, and what it requires the head provides."""
    check_head(name, objective_options(name, **options), head)


def _under(path: tuple, key: str) -> tuple:
    return path + (key,)


def _objective(origins, path, name, raw) -> dict:
    if name not in OBJECTIVES:
        origins.fail(path, f"unknown objective {name!r}", sorted(OBJECTIVES))
    options = origins.fields(path, raw or {}, _hints(OBJECTIVES[name].config_cls))
    origins.build(lambda **kw: objective_options(name, **kw), options, lambda k: path + (k,), path)
    return options

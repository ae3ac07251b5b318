"""Search-space files: YAML read strictly (YAML 1.2 floats, no repeated keys), the
``extends`` chain, the deep merge that remembers which file set each key (``_Origins``),
and type coercion with messages that name the file, the dotted key and the valid choices.
Knows nothing of what the keys mean: ``harness.space.spec`` holds the schema.
"""

from __future__ import annotations

import copy
import numbers
import re
from pathlib import Path
from types import NoneType, UnionType
from typing import Literal, NoReturn, Union, get_args, get_origin

import yaml

DEFAULTS_FILE = "defaults.yaml"


class SpaceError(ValueError):
    """A search-space file is wrong: ``file``, dotted ``key``, the problem and the valid ``choices``."""

    def __init__(self, file, key: str, problem: str, choices=None):
        self.file, self.key, self.problem = Path(file), key, problem
        self.choices = tuple(choices) if choices else None
        valid = f"; valid: {', '.join(map(str, choices))}" if choices else ""
        super().__init__(f"{file}: {key}: {problem}{valid}")

    def __reduce__(self):  # survives pickling (Ray ships a trial's exception to the driver)
        return type(self), (self.file, self.key, self.problem, self.choices)


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
            return tuple(_coerce(v, a) for v, a in zip(value, args, strict=True))
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
        return (
            f"a list, each {_describe(args[0])}"
            if args[-1] is Ellipsis
            else f"a list of {len(args)} ({', '.join(_describe(a) for a in args)})"
        )
    names = {
        bool: "true or false",
        int: "an integer",
        float: "a number",
        str: "a string",
        dict: "a mapping",
        list: "a list",
        NoneType: "null",
    }
    return names.get(hint, names.get(origin, str(hint)))


class _Origins:
    """Which file set each key (dotted path as a tuple); a replaced mapping forgets its children."""

    def __init__(self, files: list[Path], source: Path):
        self.files, self.source = files, source
        self.at: dict[tuple, tuple[Path, bool]] = {}

    def set(self, path: tuple, origin: tuple[Path, bool]) -> None:
        for known in [p for p in self.at if p[: len(path)] == path]:
            del self.at[known]
        self.at[path] = origin

    def _origin(self, path: tuple) -> tuple[Path, bool]:
        for i in range(len(path), 0, -1):
            if path[:i] in self.at:
                return self.at[path[:i]]
        below = [o for p, o in self.at.items() if p[: len(path)] == path]
        return max(below, key=lambda o: self.files.index(o[0])) if below else (self.source, False)

    def file(self, path: tuple) -> Path:
        return self._origin(path)[0]

    def fail(self, path: tuple, problem: str, choices=None) -> NoReturn:
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
            culprit = (
                next((k for k in values if not _builds(make, {**fixed, k: values[k]})), None)
                if _builds(make, fixed)
                else None
            )  # the fixed values alone fail: no one value to blame
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


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float", re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"), list("-+0123456789")
)


def read(path: Path, top: dict, smoke_keys) -> dict:
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
        if key not in top and key != "extends":
            raise SpaceError(path, str(key), "unknown key", sorted([*top, "extends"]))
    for key in raw["smoke"] if isinstance(raw.get("smoke"), dict) else ():
        if key not in smoke_keys:
            raise SpaceError(path, f"smoke.{key}", "not something smoke can override", smoke_keys)
    return raw


def chain(path: Path, top: dict, smoke_keys, seen: tuple = ()) -> list[tuple[Path, dict]]:
    """The files ``path`` extends, root first, each with its raw mapping."""
    if path.resolve() in seen:
        raise SpaceError(path, "extends", "extends itself: " + " -> ".join(str(p) for p in (*seen, path.resolve())))
    raw = read(path, top, smoke_keys)
    parent = raw.pop("extends", "" if path.name != DEFAULTS_FILE else None)
    if parent == "":
        parent = DEFAULTS_FILE if (path.parent / DEFAULTS_FILE).is_file() else None
    if parent is not None:
        if not isinstance(parent, str) or not (path.parent / parent).is_file():
            raise SpaceError(path, "extends", f"{parent!r} is not a file next to this one (or null)")
        return chain(path.parent / parent, top, smoke_keys, (*seen, path.resolve())) + [(path, raw)]
    return [(path, raw)]


def merge(base: dict, over: dict, origins: _Origins, origin_of, path: tuple = ()) -> dict:
    out = dict(base)
    for key, value in over.items():
        at = path + (key,)
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value, origins, origin_of, at)
        else:
            out[key] = copy.deepcopy(value)
            origins.set(at, origin_of(at))
    return out


def list_files(folder) -> list[Path]:
    """The experiment files of a folder (every ``*.yaml`` but ``defaults.yaml``), sorted."""
    return sorted(p for p in Path(folder).glob("*.yaml") if p.name != DEFAULTS_FILE)

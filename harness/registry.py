"""One registry for every kind of named component: heads, objectives, data sets, backbones,
executors; and ``resolve``, the one way a registered spec's code is imported when it is used.

A ``Registry`` maps names to specs. Registering a name twice is refused; asking for an
unknown name raises a ``KeyError`` that lists the registered ones (and the closest
match). It reads like a dict (``name in r``, ``r[name]``, ``sorted(r)``, ``r.items()``).
No torch here: the specs it holds are plain dataclasses, so configs validate without it.
"""

from __future__ import annotations

import difflib
import importlib
from collections.abc import Callable, ItemsView, Iterator, KeysView, ValuesView
from typing import Any, Generic, TypeVar

T = TypeVar("T")


def resolve(target: str) -> Any:
    """The object that ``target`` ("module:attr", e.g. "harness.heads.mos:MoSHead") names, its module
    imported now: how a torch-free spec names code (a head's class, a loader, a fetcher, an
    executor) that only the layer using it imports."""
    module, _, attr = target.partition(":")
    if not module or not attr:
        raise ValueError(f"expected 'module:attr', got {target!r}")
    return getattr(importlib.import_module(module), attr)


class Registry(Generic[T]):
    def __init__(self, kind: str, check: Callable[[str, T], None] | None = None):
        """kind: what the names name, for messages ("head", "data set"). check(name, spec):
        raises ValueError for a spec that cannot be registered."""
        self.kind, self._check = kind, check
        self._items: dict[str, T] = {}

    def register(self, name: str, spec: T) -> T:
        if name in self._items:
            raise ValueError(f"{self.kind} {name!r} is already registered")
        if self._check is not None:
            self._check(name, spec)
        self._items[name] = spec
        return spec

    def get(self, name: str) -> T:
        try:
            return self._items[name]
        except (KeyError, TypeError):
            raise KeyError(self.unknown(name)) from None

    def unknown(self, name: object) -> str:
        """The message for an unknown ``name``: the registered names and the closest one."""
        close = difflib.get_close_matches(str(name), list(self._items), n=1)
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return f"unknown {self.kind} {name!r}{hint}; registered {self.kind}s: {', '.join(sorted(self._items))}"

    __getitem__ = get

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self._items)

    def __len__(self) -> int:
        return len(self._items)

    def keys(self) -> KeysView[str]:
        return self._items.keys()

    def values(self) -> ValuesView[T]:
        return self._items.values()

    def items(self) -> ItemsView[str, T]:
        return self._items.items()

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}: {', '.join(self._items)})"

"""The proposals ledger (issue 36): every configuration an arm's search proposed, written
before its trial runs, so that a resumed sweep re-runs a proposal that was asked but did not
finish as it was, instead of asking again, and knows how many proposals its budget has spent.

``<results>/<experiment>/proposals/<arm>/<index>.json``, one immutable file per proposal,
written atomically (temporary file, then rename) on a local disk or an object store, as the
trial records are (``harness.records.Store``). No Ray, no torch.
"""

from __future__ import annotations

import dataclasses
import json
import uuid
from dataclasses import dataclass
from typing import Any

from pyarrow import fs as pafs

from harness.records import safe


@dataclass(frozen=True)
class Proposal:
    """The ``index``-th configuration proposed for ``arm`` (0-based, in the order asked).

    sampler_seed: the seed its sampler was built with (``proposals.sampler_seed``); seen: how
    many proposals before it (indices 0 .. seen - 1) it was conditioned on; concurrency: the
    sweep's, which sets ``seen`` (``proposals.window``); adopted: not proposed through this
    ledger but found as a trial record or marker of a sweep that predates it (its sampler seed
    and window unknown, so None)."""

    arm: str
    index: int
    params: dict[str, Any]
    sampler_seed: int | None
    seen: int | None
    concurrency: int | None
    sampler: str = "tpe"
    adopted: bool = False

    def to_json(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Proposal:
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ValueError(f"a proposal has no field {', '.join(unknown)}; it has {', '.join(sorted(names))}")
        return cls(**data)


class Ledger:
    """The proposals folder of one experiment (``results``: the experiment's folder or URI)."""

    def __init__(self, results: str):
        self.filesystem, base = (
            pafs.FileSystem.from_uri(results) if "://" in results else (pafs.LocalFileSystem(), str(results))
        )
        self.folder = f"{base.rstrip('/')}/proposals"

    def _arm(self, arm: str) -> str:
        return f"{self.folder}/{safe(arm)}"

    def write(self, proposal: Proposal) -> None:
        """Written once, before its trial runs; a proposal already written is never replaced."""
        folder = self._arm(proposal.arm)
        self.filesystem.create_dir(folder, recursive=True)
        final, temporary = f"{folder}/{proposal.index}.json", f"{folder}/.{proposal.index}.{uuid.uuid4().hex}"
        with self.filesystem.open_output_stream(temporary) as stream:
            stream.write(json.dumps(proposal.to_json(), indent=1, sort_keys=True).encode())
        self.filesystem.move(temporary, final)

    def read(self, arm: str) -> list[Proposal]:
        """The arm's proposals in index order; they must be 0 .. n - 1 (a gap is an error that names it)."""
        selector = pafs.FileSelector(self._arm(arm), allow_not_found=True)
        paths = [i.path for i in self.filesystem.get_file_info(selector) if i.base_name.endswith(".json")]
        proposals = []
        for path in paths:
            if path.rsplit("/", 1)[-1].startswith("."):
                continue
            with self.filesystem.open_input_stream(path) as stream:
                proposals.append(Proposal.from_json(json.loads(stream.read())))
        proposals.sort(key=lambda p: p.index)
        gaps = [i for i, p in enumerate(proposals) if p.index != i or p.arm != arm]
        if gaps:
            raise ValueError(
                f"{self._arm(arm)} holds proposals {[p.index for p in proposals]} of arm(s) "
                f"{sorted({p.arm for p in proposals})}: they must be 0 .. n - 1 of {arm}; restore the missing ones"
            )
        return proposals

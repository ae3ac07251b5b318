"""Batches of prepared samples: dynamic padding to the longest prompt in each batch."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import torch

from harness.data.encode import Encoded
from harness.model import Batch


def pad(sequences: list[np.ndarray], pad_id: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Right-pad token id arrays: (B, T) ids and attention mask."""
    width = max(len(s) for s in sequences)
    ids = np.full((len(sequences), width), pad_id, dtype=np.int64)
    mask = np.zeros((len(sequences), width), dtype=np.int64)
    for row, seq in enumerate(sequences):
        ids[row, : len(seq)] = seq
        mask[row, : len(seq)] = 1
    return torch.from_numpy(ids), torch.from_numpy(mask)


def collate(
    prepared, encoded: dict[str, Encoded], indices: np.ndarray, setting: str, pad_id: int, group_prompts: bool
) -> Batch:
    """The Batch of samples ``indices`` with the ``setting`` prompt as model input."""
    s, m = prepared.samples, prepared.measurement
    ids, mask = pad([encoded[setting][i] for i in indices], pad_id)
    group_ids = group_mask = None
    if group_prompts:
        per_group = [pad([encoded[f"group:{g}"][i] for i in indices], pad_id) for g in s.groups]
        width = max(t.shape[1] for t, _ in per_group)
        group_ids = torch.stack(
            [torch.nn.functional.pad(t, (0, width - t.shape[1]), value=pad_id) for t, _ in per_group]
        )
        group_mask = torch.stack([torch.nn.functional.pad(k, (0, width - k.shape[1])) for _, k in per_group])
    return Batch(
        input_ids=ids,
        attention_mask=mask,
        labels=torch.from_numpy(s.label[indices]),
        user_group=torch.from_numpy(s.user_group[indices]),
        h=torch.from_numpy(np.nan_to_num(m.h[indices])).float(),
        target_in_group=torch.from_numpy(m.target_in_group[indices]),
        index=torch.from_numpy(indices),
        group_input_ids=group_ids,
        group_attention_mask=group_mask,
    )


def batches(
    prepared,
    encoded: dict[str, Encoded],
    indices: np.ndarray,
    setting: str,
    batch_size: int,
    pad_id: int,
    group_prompts: bool,
    generator: torch.Generator | None = None,
) -> Iterator[Batch]:
    """Batches over ``indices``, shuffled by ``generator`` when given (seeded: same order every run)."""
    order = indices if generator is None else indices[torch.randperm(len(indices), generator=generator).numpy()]
    for start in range(0, len(order), batch_size):
        yield collate(prepared, encoded, order[start : start + batch_size], setting, pad_id, group_prompts)

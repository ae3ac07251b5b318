"""The one normalised form every data set loader returns.

Loaders differ (GroupLens files, RecBole atomic files, two BookCrossing layouts);
everything downstream (samples, stereotype degree, prompts) sees only this.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd


class DataError(Exception):
    """A data set is missing, malformed or fails its checksum.

    The message always says what is wrong, with which file, and how to fix it.
    """


@dataclass
class LoadReport:
    """What a loader saw and did, so nothing is dropped silently.

    files: path -> SHA-256 of every file read.
    malformed: file name -> number of rows that could not be parsed.
    malformed_examples: file name -> up to 5 ``"line N: <text>"`` strings.
    dropped: reason -> number of interactions left out (e.g. implicit ratings).
    users_without_group: reason -> number of users left out of every
        stereotype group (e.g. missing age, implausible age).
    notes: free-text facts worth printing (layout detected, encoding...).
    """

    layout: str = ""
    files: dict[str, str] = field(default_factory=dict)
    malformed: dict[str, int] = field(default_factory=dict)
    malformed_examples: dict[str, list[str]] = field(default_factory=dict)
    dropped: dict[str, int] = field(default_factory=dict)
    users_without_group: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "layout": self.layout,
            "files": dict(self.files),
            "malformed": dict(self.malformed),
            "malformed_examples": {k: list(v) for k, v in self.malformed_examples.items()},
            "dropped": dict(self.dropped),
            "users_without_group": dict(self.users_without_group),
            "notes": list(self.notes),
        }


@dataclass(frozen=True)
class RatingsTable:
    """One rating data set in the harness's normal form.

    interactions: one row per rating, in the source file's order, columns
        ``user_id`` (str), ``item_id`` (str), ``rating`` (float64),
        ``timestamp`` (float64; NaN where the data set has none).
    users: one row per user, columns ``user_id`` (str), ``group`` (str, one of
        ``groups``, or <NA> for users outside every stereotype group), then the
        raw attribute the group came from (``gender`` or ``age``).
    items: one row per item, columns ``item_id`` (str), ``title`` (str).
    groups: the stereotype group names in the paper's G1, G2 order
        (Table 3: male/female for MovieLens, adult/teen for BookCrossing).
    """

    name: str
    interactions: pd.DataFrame
    users: pd.DataFrame
    items: pd.DataFrame
    groups: tuple[str, ...]
    report: LoadReport

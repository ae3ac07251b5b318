"""The report: one row per data set × method (× relation for Table 1), the paper's
columns as mean ± std over seeds, direction-aware best (bold) and second best
(underline) per data set, significance markers against the reference method,
its improvement over the best other method, and optionally the paper's numbers.
"""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from tabulate import tabulate

from harness.report import decisions, write
from harness.report.collect import HIGHER_IS_BETTER, LABELS
from harness.report.comparison import TestConfig
from harness.report.support import FLAG

MARK = "†"
SUPPORT_CAPTION = (
    "per row, the fewest recommended targets stereotyped to a group on any seed where its SF is "
    "defined (Eq. 4's denominator); all-yes: how many the test pairs hold."
)


@dataclass(frozen=True)
class Report:
    experiment: str
    summary: pd.DataFrame  # dataset, relation, method, source, n, <col>_mean, <col>_std, <col>_rank, ...
    comparisons: pd.DataFrame  # harness.report.comparison.FIELDS
    tests: TestConfig
    columns: tuple[str, ...]
    caption: str
    notes: tuple[str, ...] = ()
    smoke: bool = False
    figures: dict = field(default_factory=dict)  # name -> matplotlib Figure
    sf_rank: str = "abs"  # how SF was ranked (table.SF_RANKS)
    per_seed: pd.DataFrame | None = None  # dataset, relation, method, source, seed, <col>: each cell's seeds
    provenance: dict = field(default_factory=dict)  # what made the records: commits, machines, dates, packages
    tradeoff: pd.DataFrame | None = None  # a multi-metric search's replicated configurations (report.pareto)
    routing: pd.DataFrame | None = None  # MoS rows' routing per seed and setting (report.routing); None without MoS
    groups: tuple[str, ...] = ()  # the stereotype groups, in the records' order

    # ---- numbers ----------------------------------------------------------------------
    def to_dataframe(self) -> pd.DataFrame:
        return self.summary.copy()

    def claims(self) -> pd.DataFrame:
        """The comparisons that test the experiment's claims, with their verdicts (empty when it names none)."""
        c = self.comparisons
        return c[c.claim != ""].reset_index(drop=True) if len(c) and "claim" in c else c.iloc[0:0]

    def claims_markdown(self) -> str:
        """claims.md (``harness.report.write.claims_markdown``)."""
        return write.claims_markdown(self)

    def _cells(self, markup) -> list[list[str]]:
        rows = []
        for _, r in self.summary.iterrows():
            ours = r["source"] == "ours"
            measured = r["source"] in ("ours", "reference")  # ours or a reference's, per seed
            cells = []
            for c in self.columns:
                mean, std = r[f"{c}_mean"], r[f"{c}_std"]
                if np.isnan(mean):
                    cells.append("–")
                    continue
                digits = 4 if c == "params" else 2
                text = f"{mean:.{digits}f}" + (f" ± {std:.{digits}f}" if measured and not np.isnan(std) else "")
                if measured and r[f"{c}_n"] < r["n"]:
                    text += f" [{int(r[f'{c}_n'])}/{int(r['n'])} seeds]"
                if ours and r.get(f"{c}_thin") is True:
                    text += FLAG
                if ours and r.get(f"{c}_significant") is True:
                    text += MARK
                if ours and c != "params" and not np.isnan(r.get(f"{c}_improvement", np.nan)):
                    text += f" ({r[f'{c}_improvement']:+.1f}%)"
                rank = r.get(f"{c}_rank")
                cells.append(markup(text, rank if ours else 0))
            label = r["method"] + {"ours": "", "reference": " (reference)", "paper": " (paper)"}[r["source"]]
            if r["source"] == "paper" and r.get("comparable") is False:
                label = label.replace("(paper)", "(paper, not comparable)")
            rows.append(
                [r["dataset"]]
                + ([r["relation"]] if self._relations() else [])
                + [label]
                + ([str(int(r["n"]))] if measured else ["paper"])
                + cells
            )
        return rows

    def _relations(self) -> bool:
        return set(self.summary["relation"]) != {"all"}

    def _headers(self, arrows=True) -> list[str]:
        def arrow(c):  # SF under |SF| ranking: closer to 0 is better
            return "→0" if c.startswith("sf_") and self.sf_rank == "abs" else "↑" if HIGHER_IS_BETTER[c] else "↓"

        heads = [f"{LABELS[c]} {arrow(c)}" if arrows else LABELS[c] for c in self.columns]
        return ["Dataset"] + (["Target items"] if self._relations() else []) + ["Method", "n"] + heads

    def support_rows(self) -> tuple[list[str], list[list[str]]]:
        """SF's support table (headers, rows): per row, the fewest recommended targets stereotyped
        to a group on any seed (Eq. 4's smallest denominator; FLAG below the report's minimum);
        the all-yes reference row first, with what the test pairs hold. No rows without counts
        (a report with --no-significance reads no per-example scores)."""
        columns = [c for c in self.columns if c.startswith("sf_") and f"{c}_support" in self.summary]
        if not columns:
            return [], []
        keep = self.summary[
            (self.summary.source == "ours")
            | ((self.summary.source == "reference") & (self.summary.method == "all-yes"))
        ]
        rows = []
        for _, r in keep.iterrows():
            label = r["method"] + (" (reference: the test pairs hold)" if r["source"] == "reference" else "")
            cells = [
                "–"
                if pd.isna(r[f"{c}_support"])
                else f"{int(r[f'{c}_support'])}" + (f" {FLAG}" if r.get(f"{c}_thin") is True else "")
                for c in columns
            ]
            rows.append([r["dataset"]] + ([r["relation"]] if self._relations() else []) + [label] + cells)
        heads = (
            ["Dataset"] + (["Target items"] if self._relations() else []) + ["Method"] + [LABELS[c] for c in columns]
        )
        return (heads, rows) if rows else ([], [])

    def support_caption(self) -> str:
        _, rows = self.support_rows()
        flagged = any(FLAG in cell for row in rows for cell in row)
        return SUPPORT_CAPTION + (f" {FLAG}: below the report's minimum (--min-support)." if flagged else "")

    def _title(self) -> str:
        return ("SMOKE (not results): " if self.smoke else "") + self.experiment

    def to_markdown(self) -> str:
        mark = lambda t, rank: f"**{t}**" if rank == 1 else f"<u>{t}</u>" if rank == 2 else t  # noqa: E731
        body = tabulate(self._cells(mark), headers=self._headers(), tablefmt="pipe", disable_numparse=True)
        notes = "".join(f"\n- {n}" for n in self.notes)
        heads, rows = self.support_rows()
        support = (
            (
                f"\nSF support: {self.support_caption()}\n\n"
                + tabulate(rows, headers=heads, tablefmt="pipe", disable_numparse=True)
                + "\n"
            )
            if rows
            else ""
        )
        heads, rows = decisions.rows(self.summary)
        choices = (
            (
                f"\nDecisions: {decisions.CAPTION}\n\n"
                + tabulate(rows, headers=heads, tablefmt="pipe", disable_numparse=True)
                + "\n"
            )
            if rows
            else ""
        )
        return (
            f"### {self._title()}\n\n{body}\n\n{self.caption}\n"
            + support
            + choices
            + (f"\nNotes:{notes}\n" if notes else "")
        )

    def to_latex(self) -> str:
        """A booktabs table (written here: tabulate's LaTeX escapes the markup)."""

        def mark(text, rank):
            text = _latex_escape(text)
            return rf"\textbf{{{text}}}" if rank == 1 else rf"\underline{{{text}}}" if rank == 2 else text

        cells = self._cells(mark)
        lead = len(self._headers()) - len(self.columns)
        rows = [" & ".join([_latex_escape(x) for x in row[:lead]] + row[lead:]) + r" \\" for row in cells]
        head = " & ".join(_latex_escape(h) for h in self._headers()) + r" \\"
        body = "\n".join(
            [
                rf"\begin{{tabular}}{{{'l' * lead}{'r' * len(self.columns)}}}",
                r"\toprule",
                head,
                r"\midrule",
                *rows,
                r"\bottomrule",
                r"\end{tabular}",
            ]
        )
        return (
            f"% {self._title()}\n\\begin{{table}}[t]\n\\centering\n\\small\n{body}\n"
            f"\\caption{{{_latex_escape(self.caption)}}}\n\\end{{table}}\n"
        )

    def to_html(self) -> str:
        mark = lambda t, rank: f"<b>{t}</b>" if rank == 1 else f"<u>{t}</u>" if rank == 2 else t  # noqa: E731
        body = tabulate(self._cells(mark), headers=self._headers(), tablefmt="unsafe_html", disable_numparse=True)
        notes = "".join(f"<li>{n}</li>" for n in self.notes)
        return f"<h3>{self._title()}</h3>\n{body}\n<p>{self.caption}</p>\n" + (f"<ul>{notes}</ul>\n" if notes else "")

    def to_page(self) -> str:
        """``index.html``: the whole report as one self-contained page (``harness.report.page``)."""
        from harness.report.page import render

        return render(self)

    def to_csv(self) -> str:
        return self.summary.to_csv(index=False, float_format="%.6g", lineterminator="\n")

    def to_json(self) -> str:
        summary = json.loads(self.summary.to_json(orient="records", double_precision=10))
        return (
            json.dumps(
                {
                    "experiment": self.experiment,
                    "smoke": self.smoke,
                    "caption": self.caption,
                    "notes": list(self.notes),
                    "tests": dataclasses.asdict(self.tests),
                    "rows": summary,
                },
                indent=2,
                ensure_ascii=False,
            )
            + "\n"
        )

    def render(self, fmt: str) -> str:
        renderers = {
            "md": self.to_markdown,
            "latex": self.to_latex,
            "html": self.to_html,
            "csv": self.to_csv,
            "json": self.to_json,
            "page": self.to_page,
        }
        if fmt not in renderers:
            raise ValueError(f"unknown format {fmt!r}; choose one of {sorted(renderers)}")
        return renderers[fmt]()

    def save(self, folder: str | Path) -> list[Path]:
        """Every file of the report under ``folder`` (``harness.report.write.save``); the paths written."""
        return write.save(self, folder)


def _latex_escape(text: str) -> str:
    for a, b in (
        ("\\", r"\textbackslash{}"),
        ("&", r"\&"),
        ("%", r"\%"),
        ("_", r"\_"),
        ("#", r"\#"),
        ("{", r"\{"),
        ("}", r"\}"),
        ("$", r"\$"),
        ("±", r"$\pm$"),
        ("†", r"$^\dagger$"),
        ("‡", r"$^\ddagger$"),
        ("→", r"$\rightarrow$"),
        ("–", "--"),
        ("×", r"$\times$"),
        ("↓", r"$\downarrow$"),
        ("↑", r"$\uparrow$"),
        ("α", r"$\alpha$"),
        ("∈", r"$\in$"),
    ):
        text = text.replace(a, b)
    return text

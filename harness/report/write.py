"""A report's files: every format, the comparisons, the claims, the routing and trade-off tables,
the figures, and the removal of what an earlier report left that this one does not write; the
claims' Markdown (claims.md)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from tabulate import tabulate

from harness.report.collect import LABELS
from harness.report.subsets import difference


def _num(value, spec: str) -> str:
    return "–" if value is None or (isinstance(value, float) and np.isnan(value)) else format(value, spec)


def claims_markdown(report) -> str:
    """claims.md: one line per claim (and data set): effect, t-interval, p after Holm, MDE, the
    paper's effect and the seeds it needs, P(A better) over seeds, agreement, verdict."""
    rows = []
    for r in report.claims().itertuples():
        rows.append(
            [
                r.claim,
                r.dataset,
                difference(r.method_a, r.method_b, r.relation),
                LABELS[r.metric] + (r" (\|SF\|)" if r.sf_effect == "abs" else ""),
                str(r.seeds),
                _num(r.effect, "+.2f") + f" [{_num(r.ci_low, '.2f')}, {_num(r.ci_high, '.2f')}]",
                _num(r.p_adjusted, ".3g"),
                _num(r.mde, ".2f"),
                _num(r.paper_gap, "+.1f"),
                _num(r.seeds_for_paper_gap, ".0f"),
                f"{_num(r.poi, '.2f')} [{_num(r.poi_low, '.2f')}, {_num(r.poi_high, '.2f')}]",
                _num(r.agreement, ".3f"),
                f"**{r.verdict}**: {r.why}",
            ]
        )
    heads = [
        "Claim",
        "Dataset",
        "A − B",
        "Column",
        "Seeds",
        "Effect [t-interval]",
        "p (Holm)",
        "MDE",
        "Paper's effect",
        "Seeds for it",
        "P(A better) [CP]",
        "Same decisions",
        "Verdict",
    ]
    return (
        f"### {report._title()}: claims\n\n"
        + tabulate(rows, headers=heads, tablefmt="pipe", disable_numparse=True)
        + "\n"
    )


def save(report, folder: str | Path) -> list[Path]:
    """Write every format, the comparisons and the figures under ``folder``, and remove the
    trade-off files and figures an earlier report left there that this one does not write;
    returns the paths written."""
    from harness.report.figures import save_figure

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in _texts(report):
        (folder / name).write_text(text)
        written.append(folder / name)
    for name, figure in sorted(report.figures.items()):
        written += save_figure(figure, folder / "figures" / name)
    # what an earlier report wrote here and this one does not (a trade-off, a figure) would
    # be read beside this one's files as if it were current
    figures = folder / "figures"
    for stale in (
        folder / "pareto.md",
        folder / "pareto.csv",
        folder / "claims.md",
        folder / "claims.csv",
        folder / "routing.md",
        folder / "routing.csv",
        *(sorted(figures.glob("*.png")) + sorted(figures.glob("*.svg")) if figures.is_dir() else ()),
    ):
        if stale.exists() and stale not in written:
            stale.unlink()
    return written


def _texts(report) -> list[tuple[str, str]]:
    """Each text file of the report, (name, text), in the order they are written."""
    csv = {"index": False, "float_format": "%.6g", "lineterminator": "\n"}
    texts = [
        ("table.md", report.to_markdown()),
        ("table.tex", report.to_latex()),
        ("table.html", report.to_html()),
        ("index.html", report.to_page()),
        ("table.csv", report.to_csv()),
        ("table.json", report.to_json()),
        ("comparisons.csv", report.comparisons.to_csv(**csv)),
        ("comparisons.json", report.comparisons.to_json(orient="records", indent=2, double_precision=10) + "\n"),
    ]
    claims = report.claims()
    if len(claims):
        texts += [("claims.md", report.claims_markdown()), ("claims.csv", claims.to_csv(**csv))]
    if report.routing is not None and len(report.routing):
        from harness.report.routing import to_markdown as routing_markdown

        table = report.routing.assign(usage=[json.dumps(u) for u in report.routing.usage])
        texts += [("routing.md", routing_markdown(report.routing, report.groups)), ("routing.csv", table.to_csv(**csv))]
    if report.tradeoff is not None:
        from harness.report.pareto import to_markdown

        texts += [("pareto.md", to_markdown(report.tradeoff) + "\n"), ("pareto.csv", report.tradeoff.to_csv(**csv))]
    return texts

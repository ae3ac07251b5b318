"""``report/index.html``: the report as one self-contained page an analyst opens in a browser.

Inline CSS, figures embedded as PNG data, no script needed to read it (a small inline
script only sorts the comparisons by a column): it reads offline and travels as one
e-mail attachment. The main table is a real ``<table>`` whose cells are the Markdown
table's, marker for marker (``Report._cells``); each measured cell's per-seed values are
its tooltip. Reference rows and the paper's rows are set apart from the methods, SF's
support has its own table, then the comparisons, the notes, the figures and the
provenance of the records.
"""

from __future__ import annotations

import base64
import html
import io

import numpy as np
import pandas as pd

from harness.report import decisions
from harness.report.assets import SORT_SCRIPT, STYLE
from harness.report.collect import LABELS

COMPARISON_COLUMNS = (
    ("dataset", "Dataset"),
    ("relation", "Target items"),
    ("method_a", "A"),
    ("method_b", "B"),
    ("metric", "Column"),
    ("claim", "Claim"),
    ("seeds", "Seeds"),
    ("effect", "Effect (A − B)"),
    ("ci_low", "t-interval low"),
    ("ci_high", "t-interval high"),
    ("p", "p (seeds, t-test)"),
    ("p_adjusted", "p (Holm)"),
    ("significant", "†"),
    ("p_signflip", "p (sign-flip)"),
    ("poi", "P(A better), seeds"),
    ("mde", "MDE"),
    ("paper_gap", "Paper's gap"),
    ("seeds_for_paper_gap", "Seeds for the paper's gap"),
    ("agreement", "Same decisions"),
    ("p_users", "p (users, models fixed)"),
    ("poi_users", "P(A better), users"),
)
CLAIM_COLUMNS = (
    ("claim", "Claim"),
    ("dataset", "Dataset"),
    ("method_a", "A"),
    ("method_b", "B"),
    ("metric", "Column"),
    ("seeds", "Seeds"),
    ("effect", "Effect (A − B)"),
    ("ci_low", "t-interval low"),
    ("ci_high", "t-interval high"),
    ("p_adjusted", "p (Holm)"),
    ("mde", "MDE"),
    ("paper_gap", "Paper's effect"),
    ("seeds_for_paper_gap", "Seeds for it"),
    ("poi", "P(A better), seeds"),
    ("verdict", "Verdict"),
    ("why", "Why"),
)
LEAD = ("dataset", "relation", "method_a", "method_b", "metric", "claim")


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def _glue(text: str) -> str:
    """No-break spaces inside "mean ± std" and "[k/n seeds]": a narrow window wraps a cell only
    before its markers and relative change, never inside a number."""
    return text.replace(" ± ", "\u00a0±\u00a0").replace(" seeds]", "\u00a0seeds]")


def _mark(text: str, rank) -> str:
    text = _e(_glue(text))
    return f"<b>{text}</b>" if rank == 1 else f"<u>{text}</u>" if rank == 2 else text


def _seed_tooltips(report) -> list[list[str]]:
    """Per row of the summary and per column: "seed 0: 51.20; seed 1: –", or "" (paper rows)."""
    per_seed = report.per_seed
    out = []
    for _, r in report.summary.iterrows():
        if per_seed is None or r["source"] not in ("ours", "reference"):
            out.append([""] * len(report.columns))
            continue
        rows = per_seed[
            (per_seed.dataset == r["dataset"])
            & (per_seed.relation == r["relation"])
            & (per_seed.method == r["method"])
            & (per_seed.source == r["source"])
        ].sort_values("seed")
        tips = []
        for c in report.columns:
            digits = 4 if c == "params" else 2
            tips.append(
                "; ".join(
                    f"seed {int(s)}: " + ("–" if np.isnan(v) else f"{v:.{digits}f}")
                    for s, v in zip(rows["seed"], rows[c].astype(float), strict=True)
                )
            )
        out.append(tips)
    return out


def main_table(report) -> str:
    """The Markdown table's cells in a ``<table>``: rows classed by source, a rule before each
    data-set block and between the reference rows and the methods."""
    headers = report._headers()
    lead = len(headers) - len(report.columns)
    cells = report._cells(_mark)
    tips = _seed_tooltips(report)
    head = "".join(f'<th class="lead">{_e(h)}</th>' if i < lead else f"<th>{_e(h)}</th>" for i, h in enumerate(headers))
    body, previous = [], None
    for (_, r), row, tip in zip(report.summary.iterrows(), cells, tips, strict=True):
        classes = [r["source"]]
        block = (r["dataset"], r["relation"])
        if previous is not None and block != previous[0]:
            classes.append("block")
        elif previous is not None and previous[1] == "reference" and r["source"] != "reference":
            classes.append("first-method")
        previous = (block, r["source"])
        tds = [f'<td class="lead">{_e(x)}</td>' for x in row[:lead]]
        tds += [f'<td title="{_e(t)}">{x}</td>' if t else f"<td>{x}</td>" for x, t in zip(row[lead:], tip, strict=True)]
        body.append(f'<tr class="{" ".join(classes)}">{"".join(tds)}</tr>')
    return (
        f'<div class="wide"><table class="main"><thead><tr>{head}</tr></thead>\n<tbody>\n'
        + "\n".join(body)
        + "\n</tbody></table></div>"
    )


def support_table(report) -> str:
    """SF's support (``Report.support_rows``: the Markdown's support table, cell for cell)."""
    heads, rows = report.support_rows()
    return small_table(heads, rows, len(heads) - sum(h in LABELS.values() for h in heads))


def small_table(heads: list[str], rows: list[list[str]], lead: int, kind: str = "") -> str:
    """A plain table of text cells, its first ``lead`` columns the row's labels; "" without rows. ``kind``
    names the table in its class (``support decisions``), so that a reader or a test can find it."""
    if not rows:
        return ""
    head = "".join(f'<th class="lead">{_e(h)}</th>' if i < lead else f"<th>{_e(h)}</th>" for i, h in enumerate(heads))
    body = [
        "<tr>"
        + "".join(f'<td class="lead">{_e(x)}</td>' if i < lead else f"<td>{_e(x)}</td>" for i, x in enumerate(row))
        + "</tr>"
        for row in rows
    ]
    return (
        f'<table class="{" ".join(("support", kind)).strip()}"><thead><tr>{head}</tr></thead>\n<tbody>\n'
        + "\n".join(body)
        + "\n</tbody></table>"
    )


def comparisons_table(comparisons: pd.DataFrame, columns=COMPARISON_COLUMNS) -> str:
    if comparisons is None or comparisons.empty:
        return "<p>No comparisons (one method, or --no-significance).</p>"
    columns = [(k, label) for k, label in columns if k in comparisons.columns]
    head = "".join(
        f'<th class="lead">{_e(label)}</th>' if key in LEAD else f"<th>{_e(label)}</th>" for key, label in columns
    )
    ordered = comparisons.sort_values(["dataset", "relation", "method_b", "metric"], kind="stable")
    body = []
    for _, r in ordered.iterrows():
        tds = []
        for key, _ in columns:
            value = r[key]
            if key == "metric":
                text, sort = LABELS.get(value, value), value
            elif key == "significant":
                text, sort = ("†" if value is True else ""), str(value)
            elif value is None:
                text, sort = "–", ""
            elif isinstance(value, (float, np.floating)):
                text = "–" if np.isnan(value) else f"{value:.4g}"
                sort = "" if np.isnan(value) else repr(float(value))
            else:
                text, sort = str(value), str(value)
            lead = ' class="lead"' if key in LEAD else ""
            tds.append(f'<td{lead} data-v="{_e(sort)}">{_e(text)}</td>')
        body.append(f"<tr>{''.join(tds)}</tr>")
    return (
        f'<div class="wide"><table class="comparisons sortable"><thead><tr>{head}</tr></thead>\n<tbody>\n'
        + "\n".join(body)
        + "\n</tbody></table></div>"
    )


def _routing(report) -> str:
    """MoS's routing per row (``report.routing``), as routing.md has it."""
    if report.routing is None or not len(report.routing):
        return ""
    from harness.report.routing import to_markdown

    lines = [line for line in to_markdown(report.routing, report.groups).splitlines() if line.startswith("|")]
    cells = [[c.strip() for c in line.strip("|").split("|")] for line in lines]
    heads, rows = cells[0], [r for r in cells[2:]]
    return (
        "<h2>Routing</h2><p>Per MoS row: the separation of the groups' expert usage on the test split (0: the "
        "same experts as often, 1: no expert serves both groups), each group's most used expert, and the "
        "router's gradient norm over training.</p>" + small_table(heads, rows, 2, "routing")
    )


def _figure(name: str, figure) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", metadata={"Software": None}, bbox_inches="tight", dpi=100)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<div class="figure"><h3>{_e(name)}</h3><img alt="{_e(name)}" src="data:image/png;base64,{data}"></div>'


def _provenance(provenance: dict) -> str:
    if not provenance:
        return "<p>The records carry no provenance.</p>"
    items = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in provenance.items())
    return f'<dl class="provenance">{items}</dl>'


def render(report) -> str:
    """The whole page as one string."""
    title = report._title()
    notes = "".join(f"<li>{_e(n)}</li>" for n in report.notes)
    figures = "".join(_figure(name, fig) for name, fig in sorted(report.figures.items()))
    support = support_table(report)
    support_caption = report.support_caption()
    choices = decisions.rows(report.summary)
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_e(title)}</title><style>{STYLE}</style></head><body>",
        '<p class="smoke">SMOKE: tiny untrained models, not results</p>' if report.smoke else "",
        f"<h1>{_e(title)}</h1>",
        main_table(report),
        f'<p class="caption">{_e(report.caption)}</p>',
        "<p>Hover a cell for its value on each seed.</p>",
        (f"<h2>SF support</h2><p>{_e(support_caption[0].upper() + support_caption[1:])}</p>" + support)
        if support
        else "",
        (
            f"<h2>Decisions</h2><p>{_e(decisions.CAPTION[0].upper() + decisions.CAPTION[1:])}</p>"
            + small_table(*choices, len(choices[0]) - 3 * sum(h.startswith("Yes %") for h in choices[0]), "decisions")
        )
        if choices[1]
        else "",
        _routing(report),
        (
            "<h2>Claims</h2><p>The claims the experiment named before its records (report.yaml), each tested at "
            "the seed level with Holm over them; the verdict rule is in the notes.</p>"
            + comparisons_table(report.claims(), CLAIM_COLUMNS)
        )
        if len(report.claims())
        else "",
        "<h2>Comparisons</h2><p>Each method against the reference, and each claim (an effect is A's value minus "
        "B's, the mean over seeds; in a Table 1 contrast, relation inside-outside, a method's inside pairs minus "
        "its outside pairs); † and p (Holm) only for the family; p (users, models fixed) and P(A better), users "
        "hold the trained models fixed and never decide anything; click a header to sort.</p>",
        comparisons_table(report.comparisons),
        f'<h2>Notes</h2><ul class="notes">{notes}</ul>' if notes else "<h2>Notes</h2><p>None.</p>",
        f"<h2>Figures</h2>{figures}" if figures else "",
        "<h2>Provenance</h2>",
        _provenance(report.provenance),
        f"<script>{SORT_SCRIPT}</script>",
        "</body></html>",
    ]
    return "\n".join(p for p in parts if p) + "\n"

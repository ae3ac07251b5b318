"""report/index.html: the Markdown table's content in a real <table>, self-contained, and laid
out as a table by a real browser (headless Chromium from the system's packages)."""

import json
import os
import shutil
import subprocess
from html.parser import HTMLParser

import numpy as np
import pytest

from harness.report import build_report
from harness.report.__main__ import main

from .fixtures import write_experiment

FAST = {"resamples": 500}


class _Tables(HTMLParser):
    """Every <table>'s rows as lists of cells: (text, tags inside the cell, attributes of the cell)."""

    def __init__(self):
        super().__init__()
        self.tables, self.cell, self.images, self.external = [], None, [], []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "table":
            self.tables.append({"class": attrs.get("class", ""), "rows": []})
        elif tag == "tr":
            self.tables[-1]["rows"].append({"class": attrs.get("class", ""), "cells": []})
        elif tag in ("td", "th"):
            self.cell = {"text": "", "tags": set(), "attrs": attrs}
        elif self.cell is not None:
            self.cell["tags"].add(tag)
        if tag == "img":
            self.images.append(attrs.get("src", ""))
        if tag in ("link", "script", "img") and any(
            str(attrs.get(a, "")).startswith(("http:", "https:", "//")) for a in ("src", "href")
        ):
            self.external.append(attrs)

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self.cell is not None:
            self.tables[-1]["rows"][-1]["cells"].append(self.cell)
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:  # a no-break space (inside "mean ± std") reads as a space
            self.cell["text"] += data.replace("\u00a0", " ")


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    folder = tmp_path_factory.mktemp("page") / "exp"
    write_experiment(folder, {"mos": 1.5, "same": 1.5, "weak": 0.0}, datasets=("movielens-100k", "bookcrossing"))
    return build_report(folder, **FAST)


def _parse(page: str) -> _Tables:
    parser = _Tables()
    parser.feed(page)
    return parser


def test_the_pages_table_is_the_markdown_tables_cell_for_cell(report):
    page = _parse(report.to_page())
    main_table = next(t for t in page.tables if t["class"] == "main")
    headers, *rows = main_table["rows"]
    assert [c["text"] for c in headers["cells"]] == report._headers()
    plain = report._cells(lambda text, rank: text)
    ranks = report._cells(lambda text, rank: rank)
    assert [[c["text"] for c in r["cells"]] for r in rows] == plain
    lead = len(report._headers()) - len(report.columns)
    for row, rank_row in zip(rows, ranks, strict=True):  # bold = best, underline = second, as in the Markdown
        for cell, rank in zip(row["cells"][lead:], rank_row[lead:], strict=True):
            assert ("b" in cell["tags"], "u" in cell["tags"]) == (rank == 1, rank == 2), (cell, rank)
    markdown = report.to_markdown()
    assert markdown.count("**") // 2 == sum(r == 1 for row in ranks for r in row[lead:])
    # the reference rows are set apart by class, a rule before the first method of a block
    sources = list(report.summary.source)
    assert [r["class"].split()[0] for r in rows] == sources
    assert sum("first-method" in r["class"] for r in rows) == 2 and sum("block" in r["class"] for r in rows) == 1


def test_the_support_table_is_the_markdowns_too(report):
    heads, rows = report.support_rows()
    page = _parse(report.to_page())
    support = next(t for t in page.tables if t["class"] == "support")["rows"]
    assert [[c["text"] for c in r["cells"]] for r in support] == [heads, *rows]
    markdown = report.to_markdown()
    label = heads.index("Method")
    assert "SF support: " in markdown and all(f"| {row[label]} " in markdown for row in rows)
    labels = [row[label] for row in rows]
    blocks = report.summary.groupby(["dataset", "relation"]).ngroups
    assert labels[0].startswith("all-yes (reference") and len(rows) == blocks + (report.summary.source == "ours").sum()


def test_each_measured_cell_carries_its_seeds(report):
    page = _parse(report.to_page())
    rows = next(t for t in page.tables if t["class"] == "main")["rows"][1:]
    lead = len(report._headers()) - len(report.columns)
    auc = lead + list(report.columns).index("auc")
    for (_, r), row in zip(report.summary.iterrows(), rows, strict=True):
        tip = row["cells"][auc]["attrs"].get("title", "")
        per_seed = report.per_seed[
            (report.per_seed.dataset == r["dataset"])
            & (report.per_seed.method == r["method"])
            & (report.per_seed.source == r["source"])
        ].sort_values("seed")
        assert tip == "; ".join(f"seed {s}: {v:.2f}" for s, v in zip(per_seed.seed, per_seed.auc, strict=True))
        assert np.mean(per_seed.auc) == pytest.approx(r["auc_mean"])


def test_the_page_is_self_contained_and_has_every_part(report):
    text = report.to_page()
    page = _parse(text)
    assert not page.external and "<link" not in text
    assert page.images and all(src.startswith("data:image/png;base64,") for src in page.images)
    classes = [t["class"] for t in page.tables]
    assert classes == ["main", "support", "support decisions", "comparisons sortable"]
    comparisons = next(t for t in page.tables if "comparisons" in t["class"])["rows"][1:]
    assert len(comparisons) == len(report.comparisons)
    assert not {c["text"] for r in comparisons for c in r["cells"]} & {"None", "nan", "NaN"}  # missing: "–"
    for part in ("Decisions", "Comparisons", "Notes", "Figures", "Provenance", report.caption[:60]):
        assert part in text.replace("&#x27;", "'")
    assert "git commits" in text and "machines" in text and "commands" in text and "search-space files" in text


def test_cli_writes_the_page_and_open_prints_its_path(tmp_path, capsys, monkeypatch):
    write_experiment(tmp_path / "exp", {"mos": 1.0, "weak": 0.0}, seeds=(0, 1))
    monkeypatch.delenv("DISPLAY", raising=False)  # no graphical browser: the path alone, no window
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert main([str(tmp_path / "exp"), "--resamples", "200", "--no-figures", "--open"]) == 0
    captured = capsys.readouterr()
    out = captured.out.strip().splitlines()
    assert out[-1] == f"report page: {(tmp_path / 'exp' / 'report' / 'index.html').resolve()}"
    assert "no graphical browser here" in captured.err
    assert (tmp_path / "exp" / "report" / "index.html").read_text().startswith("<!DOCTYPE html>")


LAYOUT_PROBE = """<script>
window.addEventListener("load", function () {
  var rows = Array.from(document.querySelectorAll("table.main tr")).map(function (tr) {
    return Array.from(tr.cells).map(function (c) { var b = c.getBoundingClientRect();
      return [Math.round(b.left), Math.round(b.top), Math.round(b.width), Math.round(b.height)]; }); });
  var out = document.createElement("pre"); out.id = "layout"; out.textContent = JSON.stringify(rows);
  document.body.appendChild(out);
});
</script>"""


def _chromium():
    found = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
    if found is None:
        if os.environ.get("CI"):
            pytest.fail(
                "no chromium on this CI machine: `make test` (its `browser` target) installs Debian's "
                "chromium package as root"
            )
        pytest.skip("no chromium here (Debian: apt-get install chromium; `make browser` does it as root)")
    return found


def test_a_real_browser_lays_the_table_out_as_a_table(report, tmp_path):
    chromium = _chromium()
    page = tmp_path / "index.html"
    page.write_text(report.to_page().replace("</body>", LAYOUT_PROBE + "</body>"))
    flags = [
        chromium,
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--hide-scrollbars",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--window-size=1400,1000",
    ]
    dom = subprocess.run(
        flags + ["--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120, check=True
    ).stdout
    layout = json.loads(dom.split('<pre id="layout">', 1)[1].split("</pre>", 1)[0].replace("&quot;", '"'))
    assert len(layout) == len(report.summary) + 1 and {len(r) for r in layout} == {len(report._headers())}
    for row in layout:  # a row's cells side by side, at one height
        lefts = [c[0] for c in row]
        assert lefts == sorted(lefts) and len(set(lefts)) == len(lefts)
        assert len({c[1] for c in row}) == 1 and min(c[2] for c in row) > 0
    for column in zip(*layout, strict=True):  # a column's cells one above the other, aligned
        assert len({c[0] for c in column}) == 1
        tops = [c[1] for c in column]
        assert tops == sorted(tops) and len(set(tops)) == len(tops)
    shot = tmp_path / "page.png"
    subprocess.run(flags + [f"--screenshot={shot}", page.as_uri()], capture_output=True, timeout=120, check=True)
    from matplotlib import image

    pixels = image.imread(shot)[..., :3]
    assert pixels.shape[:2] == (1000, 1400)
    dark = (pixels.mean(axis=2) < 0.5).mean()  # text: not blank, not a solid block
    assert 0.005 < dark < 0.5 and pixels.std() > 0.05

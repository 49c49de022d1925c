"""The HTML report in headless Chromium (tests/harness/chromium.py): loads nothing, runs
nothing, draws its charts, prints on A4 pages."""

from __future__ import annotations

import base64
import re
from pathlib import Path

import pytest

from tests.harness.chromium import (
    Chromium,
    assert_hostile_text_is_inert,
    chart_shapes,
    only_local,
)
from tests.harness.cli import run_cli
from tests.harness.sample import copy_store


@pytest.fixture(scope="module")
def report_file(tmp_path_factory: pytest.TempPathFactory, marked_folder: Path) -> Path:
    """`monitor report --format html` on the marked sample, as a user runs it."""
    sample = copy_store(marked_folder, tmp_path_factory.mktemp("report"))
    out = sample.folder / "report.html"
    result = run_cli("--config", str(sample.config), "report", "--since", "2026-08-01",
                     "--until", "2026-12-01", "--format", "html", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    return out


def test_report_loads_nothing_and_runs_nothing(chromium: Chromium, report_file: Path) -> None:
    chromium.open(report_file.as_uri())
    assert only_local(chromium.requests()) == []
    assert chromium.console_errors() == []
    assert chromium.eval("document.title") == "Voice report: maison-lumiere"
    assert_hostile_text_is_inert(chromium)
    chromium.screenshot("report.png")
    # Printable: the print stylesheet lays it out on A4 pages.
    pdf = base64.b64decode(chromium.send("Page.printToPDF", session=True,
                                         preferCSSPageSize=True)["data"])
    pages = len(re.findall(rb"/Type\s*/Page\b(?!s)", pdf))
    assert pdf.startswith(b"%PDF") and pages >= 3, pages
    (chromium.artifacts / "report.pdf").write_bytes(pdf)


def test_report_charts_are_drawn(chromium: Chromium, report_file: Path) -> None:
    chromium.open(report_file.as_uri())
    for chart_id, title in (("chart-weekly", "Weekly overlap rate"),
                            ("chart-mix", "Class mix per week"),
                            ("chart-similarity", "Similarity distribution")):
        shape = chart_shapes(chromium, chart_id)
        assert shape["tag"] == "svg" and shape["title"] == title
        assert shape["width"] > 300 and shape["height"] > 100
        assert shape["shapes"] > 20
    # The alert weeks of the launch are shaded, and listed in words under the chart.
    assert "Weeks at or above the alert threshold:" in chromium.eval(
        "document.getElementById('s-weekly').textContent")
    assert chromium.eval("document.querySelectorAll('#weekly tr.alert-week').length") >= 2
    ids = chromium.eval("[...document.querySelectorAll('[id]')].map(e => e.id)")
    assert len(ids) == len(set(ids))  # three inline SVGs, no shared id


def test_report_file_is_self_contained(report_file: Path) -> None:
    html = report_file.read_text(encoding="utf-8")
    # The only absolute URLs are the <a href> links to the posts: nothing to load, not even an
    # SVG namespace URL that a reviewer would have to think about.
    absolute = re.findall(r"(?:https?:)?//[\w.-]+", html)
    links = re.findall(r'<a [^>]*href="(https://x\.com/[\w]+/status/\d+)"', html)
    assert links and len(absolute) == len(links), sorted(set(absolute))
    assert "<script" not in html.lower() and " on" not in html.split("<body>")[0]
    assert "Content-Security-Policy" in html  # a browser refuses any load or script anyway

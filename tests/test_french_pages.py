"""What a French comms lead reads, in headless Chromium, on the bundled sample: the report,
the digest of the day the CEO attacked two parties, and the dashboard's pair page. French
words, French dates in Paris time, the risk first; screenshots in the test artefacts."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.harness.chromium import (
    Chromium,
    assert_hostile_text_is_inert,
    chart_shapes,
    only_local,
)
from tests.harness.cli import run_cli as run
from tests.harness.net import serving
from tests.harness.sample import SampleStore, copy_store, record_alerts

PAIR = "maison-lumiere"
NBSP = "\u00a0"
RISK = "LFI qui veut taxer les PME"  # the post of 2026-11-11 18:00:01 UTC
RISK_ID = "2120577299751477249"


@pytest.fixture(scope="module")
def sample_fr(tmp_path_factory: pytest.TempPathFactory, marked_folder: Path) -> SampleStore:
    """The module's copy of the marked sample (with its alert history), read through a French
    configuration."""
    folder = tmp_path_factory.mktemp("sample-fr")
    english = (marked_folder / "monitor.toml").read_text(encoding="utf-8")
    copy = copy_store(marked_folder, folder, config=english.replace(
        'language = "en"', 'language = "fr"\nbase_url = "http://127.0.0.1:9"'))
    record_alerts(copy.config)
    return copy


def _text(browser: Chromium, selector: str) -> str:
    return str(browser.eval(f"(document.querySelector({json.dumps(selector)}) || "
                            "{textContent: ''}).textContent"))


def test_french_report(chromium: Chromium, sample_fr: SampleStore) -> None:
    out = sample_fr.folder / "report-fr.html"
    result = run("--config", str(sample_fr.config), "report", "--since", "2026-08-01",
                 "--until", "2026-12-01", "-o", str(out))
    assert result.exit_code == 0, result.stderr
    chromium.open(out.as_uri())
    assert only_local(chromium.requests()) == [] and chromium.console_errors() == []
    assert chromium.eval("document.documentElement.lang") == "fr"
    assert chromium.eval("document.title") == f"Rapport de voix{NBSP}: {PAIR}"
    assert "heures du fuseau Europe/Paris" in _text(chromium, "#tz")
    # The risk block comes before the figures, with the post, its topic and its reason.
    order = chromium.eval("[...document.querySelectorAll('main section')].map(s => s.id)")
    assert order.index("s-risk") < order.index("headline")
    risk = _text(chromium, "#s-risk")
    assert "publications sensibles" in risk and RISK in risk and "politique" in risk
    assert f"proche du sujet interdit «{NBSP}politique{NBSP}»" in risk
    assert "11 nov. 2026 19:00" in risk  # 18:00 UTC, in Paris time
    assert "Taux de redite" in _text(chromium, "#headline")
    assert "publications propres" in _text(chromium, "#voice-line")
    shape = chart_shapes(chromium, "chart-voice")
    assert shape["title"] == "Parcours de la voix par semaine" and shape["shapes"] > 10
    assert "nov." in _text(chromium, "#chart-weekly")  # French month names on the axis
    assert_hostile_text_is_inert(chromium)
    chromium.screenshot("report-fr.png")


def test_french_digest(chromium: Chromium, sample_fr: SampleStore,
                       artifacts: Path) -> None:
    html, text = sample_fr.folder / "digest-fr.html", sample_fr.folder / "digest-fr.txt"
    for out in (html, text):
        result = run("--config", str(sample_fr.config), "digest", "--date", "2026-11-11",
                     "-o", str(out))
        assert result.exit_code == 0, result.stderr
    (artifacts / "digest-fr.txt").write_text(text.read_text(encoding="utf-8"), encoding="utf-8")
    chromium.open(html.as_uri())
    assert only_local(chromium.requests()) == [] and chromium.console_errors() == []
    assert chromium.eval("document.documentElement.lang") == "fr"
    title = chromium.eval("document.title")
    assert title.startswith(f"1 publication sensible{NBSP}: politique · [monitor]")
    assert chromium.eval("document.querySelector('h1').textContent") == \
        "Synthèse du mercredi 11 novembre 2026"
    assert "fuseau Europe/Paris" in _text(chromium, "#digest-meta")
    first = _text(chromium, ".post")  # the first post of the digest is the risk
    assert RISK in first and "11 nov. 2026 19:00" in first
    assert "proche du sujet interdit" in first
    # Deep link to the dashboard's view of the post ([ui] base_url).
    assert chromium.eval("document.querySelector('.risk a[href*=\"/posts/\"]').href") == \
        f"http://127.0.0.1:9/pairs/{PAIR}/posts/{RISK_ID}"
    assert "Taux de redite du jour" in _text(chromium, ".pair")
    chromium.screenshot("digest-fr.png")


@pytest.fixture(scope="module")
def dashboard_fr(sample_fr: SampleStore, use_encoder: object) -> Iterator[int]:
    from monitor.config import load_config
    from monitor.store import Store
    from monitor.web.app import Dashboard, create_app

    cfg = load_config(sample_fr.config)
    now = datetime(2026, 11, 20, 9, tzinfo=UTC)
    with Store.open(cfg.database_url()) as store:
        if not store.silences(pair=PAIR):
            store.add_silence(PAIR, now + timedelta(days=60), "lancement commun", now,
                              author="Léa Martin")
        app = create_app(Dashboard(cfg, store, encoder_factory=lambda: use_encoder,
                                   clock=lambda: now))
        with serving(app) as port:
            yield port


def test_french_dashboard_pair_page(chromium: Chromium, dashboard_fr: int) -> None:
    base = f"http://127.0.0.1:{dashboard_fr}"
    chromium.open(f"{base}/pairs/{PAIR}?since=2026-08-01&until=2026-12-01")
    assert only_local(chromium.requests()) == [] and chromium.console_errors() == []
    assert chromium.eval("document.documentElement.lang") == "fr"
    risk = _text(chromium, "#s-risk")
    assert RISK in risk and "11 nov. 2026 19:00" in risk
    alerts = _text(chromium, "#s-alerts")
    assert "État actuel" in alerts and "déclenchée" in alerts
    silences = _text(chromium, "#silences")
    assert "Léa Martin" in silences and "lancement commun" in silences
    assert "20 nov. 2026 10:00" in silences  # its start, 09:00 UTC, in Paris time
    assert chart_shapes(chromium, "chart-voice")["shapes"] > 10
    assert_hostile_text_is_inert(chromium)
    chromium.screenshot("dashboard-pair-fr.png")
    chromium.open(f"{base}/pairs/{PAIR}/posts/{RISK_ID}")
    assert chromium.console_errors() == []
    assert RISK in _text(chromium, "#post-text")
    assert "proche du sujet interdit" in _text(chromium, "#post-reason")
    chromium.screenshot("dashboard-post-fr.png")

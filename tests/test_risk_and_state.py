"""Risk first, honest state, the voice path and every class, on findings built directly (the
analysis of issue 10 will produce them; these tests do not wait for it)."""

from __future__ import annotations

import email
import email.policy
import json
import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from monitor.cli import cli
from monitor.config import MonitorConfig, parse_config
from monitor.models import AlertState, AlertStatus, Finding, OutboxMessage, PostClass, PostKind
from tests.harness.seeds import make_post as _post
from tests.harness.seeds import seed_day

DAY = date(2026, 11, 11)  # a Wednesday, local day in Paris
NBSP = "\u00a0"


def config(tmp_path: Path, *, language: str = "fr", **extra: Any) -> MonitorConfig:
    return parse_config({
        "database": {"url": f"sqlite:///{tmp_path / 'm.db'}"},
        "model": {"name": "use-multilingual"}, "ui": {"language": language},
        "email": {"recipients": ["comms@example.com"], "smtp_host": "127.0.0.1",
                  "security": "none", "timeout_s": 5, **extra.pop("email", {})},
        "pairs": [{"name": "ml", "executive": ["claire_ml"], "corporate": ["MaisonLumiere"]}],
        **extra}, source=str(tmp_path / "monitor.toml"))


def write_config(tmp_path: Path, text: str = "") -> Path:
    path = tmp_path / "monitor.toml"
    path.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "m.db"}"\n[model]\n'
                    f'name = "use-multilingual"\n{text}\n[[pairs]]\nname = "ml"\n'
                    'executive = ["claire_ml"]\ncorporate = ["MaisonLumiere"]\n',
                    encoding="utf-8")
    return path


# -- risk first --------------------------------------------------------------------------------

def test_a_risk_day_at_zero_overlap_leads_with_the_risk(tmp_path: Path) -> None:
    from monitor.app.digests import build_digests
    from monitor.store import Store

    cfg = config(tmp_path)
    with Store.open(cfg.database_url()) as store:
        seed_day(store, cfg)
        [d] = build_digests(store, cfg, DAY, now=datetime(2026, 11, 12, 7, tzinfo=UTC))
    p = d.pairs[0]
    assert p.today.overlap_rate == 0 and p.today.posts == 2
    assert d.subject.startswith(f"1 publication sensible{NBSP}: politique · [monitor]")
    assert f"0{NBSP}% de redite le 11 nov. 2026" in d.subject
    # The first post of the text digest is the risk, with its reason; in the HTML too.
    first = next(line for line in d.text.splitlines() if line.startswith("  [")
                 and "@claire_ml" in line)
    assert "LFI et LR" in first and "sensible" in first
    assert "11 nov. 2026 19:00" in first  # 18:00 UTC, shown in Paris time
    assert f"Pourquoi{NBSP}: proche du sujet interdit «{NBSP}politique{NBSP}»" in d.text
    first_post = re.search(r'class="post"[^>]*>(.*?)</td>', d.html, re.S)
    assert first_post and "LFI et LR" in first_post.group(1)
    assert "&lt;script&gt;x()&lt;/script&gt;" in first_post.group(1)
    assert "<script>" not in d.html
    assert 'lang="fr"' in d.html and "Synthèse du mercredi 11 novembre 2026" in d.html


def test_the_risk_alert_is_sent_at_once_and_once(tmp_path: Path) -> None:
    from monitor.app.alerting import evaluate_alert
    from monitor.config import load_secrets
    from monitor.notify.outbox import deliver_pending, transports_for
    from monitor.store import Store
    from tests.harness.net import free_port
    from tests.harness.smtp import SmtpSink

    port = free_port()
    cfg = config(tmp_path, email={"smtp_port": port},
                 alerts={"for_evaluations": 3, "threshold": 0.3})
    now = datetime(2026, 11, 11, 19, 5, tzinfo=UTC)
    with Store.open(cfg.database_url()) as store, SmtpSink(port) as sink:
        seed_day(store, cfg)
        # A silence for a joint campaign does not mute a risk.
        store.add_silence("ml", now + timedelta(days=30), "lancement", now,
                                author="léa")
        evaluate_alert(store, cfg, cfg.pairs[0], now)  # the first evaluation: no pending
        report = deliver_pending(store, transports_for(cfg, load_secrets()), lambda: now)
        assert len(report.sent) == 1 and report.failed == ()
        for minutes in (30, 60):  # announced once
            evaluate_alert(store, cfg, cfg.pairs[0], now + timedelta(minutes=minutes))
        assert store.pending_messages(now + timedelta(days=1)) == []
        events = [e.kind for e in store.alert_events("ml")]
    assert events == ["risk"]
    [msg] = sink.messages
    assert str(msg["Subject"]).startswith(f"1 publication sensible{NBSP}: politique")
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
    text = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = msg.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "Gravité" in text and "critique" in text and "LFI et LR" in text
    assert "&lt;script&gt;" in html and "<script>" not in html


def test_overlap_alert_email_lists_the_posts_and_links_to_the_dashboard(tmp_path: Path) -> None:
    from monitor.app.alerting import evaluate_alert
    from monitor.store import Store

    cfg = config(tmp_path, language="en", alerts={"for_evaluations": 1, "min_posts": 3},
                 ui={"language": "en", "base_url": "https://monitor.example.com/"})
    now = datetime(2026, 11, 11, 19, 5, tzinfo=UTC)
    with Store.open(cfg.database_url()) as store:
        seed_day(store, cfg, redundant=4)
        evaluate_alert(store, cfg, cfg.pairs[0], now)
        [entry] = store.pending_messages(now)
    msg = email.message_from_string(entry.payload, policy=email.policy.default)
    # One message for the pair: the risk and the overlap alert together, risk first.
    assert entry.subject.startswith("1 sensitive post: politics · [monitor] FIRING ml")
    html = msg.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert html.count("RT @MaisonLumiere: Notre atelier") == 4  # the posts that made the rate
    assert 'href="https://monitor.example.com/pairs/ml/posts/910"' in html
    assert 'href="https://monitor.example.com/pairs/ml"' in html


# -- honest state --------------------------------------------------------------------------------

def test_a_digest_of_unanalysed_posts_says_so(tmp_path: Path) -> None:
    from monitor.store import Store

    cfg_file = write_config(tmp_path, '[ui]\nlanguage = "en"')
    cfg = config(tmp_path, language="en")
    with Store.open(cfg.database_url()) as store:
        seed_day(store, cfg, analysed=False)
    out = CliRunner().invoke(cli, ["--config", str(cfg_file), "digest", "--date", "2026-11-11"])
    assert out.exit_code == 0, out.output
    subject = out.output.splitlines()[0]
    assert "ml: 2 posts not analysed yet on 11 Nov 2026" in subject
    assert "no executive post" not in out.output
    assert "2 executive posts of 11 Nov 2026 are not analysed yet" in out.output


@pytest.mark.parametrize("service", ["none", "inactive", "firing"])
def test_a_cli_digest_never_contradicts_its_subject(tmp_path: Path, service: str) -> None:
    from monitor.app import freshness as state
    from monitor.store import Store

    cfg_file = write_config(tmp_path, '[ui]\nlanguage = "en"')
    cfg = config(tmp_path, language="en")
    now = datetime.now(UTC)
    with Store.open(cfg.database_url()) as store:
        seed_day(store, cfg, redundant=6)  # 6 of 8 posts redundant over the week: 75 %
        if service != "none":  # a running service evaluated the alert just now
            store.record_alert_evaluation(AlertState(
                pair="ml", status=AlertStatus(service), sequence=1,
                active_since=now if service == "firing" else None, notified=True,
                last_rate=0.75, last_posts=8, last_evaluated_at=now), [], [], now)
            state.record_heartbeat(store, now, 1234)
    out = CliRunner().invoke(cli, ["--config", str(cfg_file), "digest", "--date", "2026-11-11"])
    assert out.exit_code == 0, out.output
    subject, body = out.output.split("\n", 1)
    alert_line = next(line for line in body.splitlines() if line.startswith("Alert"))
    if service == "none":
        assert "(ALERT)" in subject
        assert "at or above the alert threshold" in alert_line and "no running service" in \
            alert_line
    elif service == "inactive":  # e.g. min_posts not reached: the service's word counts
        assert "(ALERT)" not in subject and "not firing" in alert_line
    else:
        assert "(ALERT)" in subject and "FIRING since" in alert_line
    assert ("(ALERT)" in subject) != ("not firing" in body)


def test_drift_with_no_recent_posts_is_not_stable() -> None:
    from monitor.analysis.drift import DriftResult
    from monitor.i18n import Lang
    from monitor.notify.digest import drift_status

    quiet = DriftResult("stable", 0.5, 0.0, 30, 0, None, None, "steady", "no change")
    assert drift_status(quiet) == "no posts"
    assert Lang("fr").drift_label(drift_status(quiet)) == "aucune publication dans la fenêtre"
    assert drift_status(None) == "unknown"


def test_status_shows_pairs_alerts_silences_and_freshness(tmp_path: Path) -> None:
    from monitor.store import Store

    cfg_file = write_config(tmp_path)
    runner = CliRunner()
    empty = runner.invoke(cli, ["--config", str(cfg_file), "status"])
    assert empty.exit_code == 0 and "Hint: no posts yet" in empty.output
    cfg = config(tmp_path)
    now = datetime.now(UTC)
    with Store.open(cfg.database_url()) as store:
        seed_day(store, cfg)
        store.import_posts([_post("999", "claire_ml", now - timedelta(hours=1), "nouveau")],
                           source="jsonl")  # imported, not analysed yet
        store.add_silence("ml", now + timedelta(days=3), "lancement", now,
                                author="léa")
        store.enqueue([OutboxMessage("digest:ml:x", "email", "s", "p", ("a@example.com",))],
                      now - timedelta(minutes=5))
    data = json.loads(runner.invoke(cli, ["--config", str(cfg_file), "status", "--json"]).output)
    assert {"database", "accounts", "budget", "outbox"} <= set(data)  # the contract stays
    assert set(data["budget"]) == {"month", "reads_by_account", "requests", "reads",
                                   "projected_reads", "price_per_read", "estimated_cost",
                                   "projected_cost", "monthly_read_cap", "cap_remaining",
                                   "paused"}
    assert data["budget"]["month"] == now.strftime("%Y-%m") and data["budget"]["reads"] == 0
    outbox = data["outbox"]
    assert set(outbox) == {"pending", "sent", "superseded", "oldest_pending_at",
                           "next_attempt_at", "last_sent_at", "last_error", "last_error_at",
                           "last_error_key"}
    assert (outbox["pending"], outbox["sent"], outbox["last_error"]) == (1, 0, None)
    assert datetime.fromisoformat(outbox["oldest_pending_at"]) == now - timedelta(minutes=5)
    assert {a["username"] for a in data["accounts"]} >= {"claire_ml", "MaisonLumiere"}
    [pair] = data["pairs"]
    assert pair["name"] == "ml" and pair["alert"] is None and pair["unanalysed_posts"] == 1
    assert pair["evaluated_by_running_service"] is False
    assert pair["silences"][0]["author"] == "léa" and pair["silences"][0]["reason"] == "lancement"
    brand = next(a for a in pair["accounts"] if a["username"] == "MaisonLumiere")
    assert brand["stale"] and brand["newest_age_days"] > 3
    assert datetime.fromisoformat(pair["last_import"]).tzinfo is not None  # ISO with offset
    assert any("monitor run" in h for h in data["hints"])
    text = runner.invoke(cli, ["--config", str(cfg_file), "status"]).output
    assert "1 post(s) not analysed yet" in text and "newest post" in text
    assert "is collection running?" in text and "by léa: lancement" in text
    assert "X reads in " in text and "Outbox: 1 message(s) waiting, 0 sent" in text


# -- the voice path and every class --------------------------------------------------------------

def test_voice_path_counts_kinds_replies_and_silent_days() -> None:
    from zoneinfo import ZoneInfo

    from monitor.report.voice import voice_path

    paris = ZoneInfo("Europe/Paris")
    t = datetime(2026, 11, 2, 9, tzinfo=UTC)  # a Monday
    posts = [
        _post("1", "ceo", t, "Mon premier vrai billet sur nos ateliers de Limoges"),
        _post("2", "ceo", t, "RT @brand: x", kind=PostKind.RETWEET),
        _post("3", "ceo", t + timedelta(days=1), "https://x.com/brand/status/9",
              kind=PostKind.QUOTE),
        _post("4", "ceo", t + timedelta(days=1),
              "Fière de cette équipe, trois ans de travail https://x.com/brand/status/9",
              kind=PostKind.QUOTE),
        _post("5", "ceo", t + timedelta(days=3), "@lea merci !", kind=PostKind.REPLY,
              referenced_accounts=("lea",)),
        _post("6", "ceo", t + timedelta(days=3), "2/ suite", kind=PostKind.REPLY,
              referenced_accounts=("ceo",)),
    ]
    monday = datetime(2026, 11, 2, tzinfo=paris)  # local midnight to local midnight
    v = voice_path(posts, monday, monday + timedelta(days=7), paris)
    assert v.counts == {"own": 1, "retweet": 1, "quote": 1, "quote-comment": 1, "reply": 1,
                        "thread": 1}
    assert v.reply_rate == pytest.approx(1 / 6)
    assert (v.days, v.silent_days) == (7, 4)  # posts on Monday, Tuesday and Thursday
    # The analysis' subkind wins over the post's own look.
    assert voice_path(posts, t, t + timedelta(days=7), paris,
                      subkinds={"4": "quote"}).counts["quote"] == 2


def test_the_report_shows_every_class_with_its_reason(tmp_path: Path) -> None:
    from monitor import pipeline
    from monitor.embed import model_id_for
    from monitor.i18n import Lang
    from monitor.report.render import render_html, render_md, report_dict
    from monitor.store import Store

    cfg = config(tmp_path)
    t = datetime(2026, 11, 2, 9, tzinfo=UTC)
    brand = [_post("80", "MaisonLumiere", t - timedelta(days=10), "La lampe Nomade revient."),
             _post("81", "MaisonLumiere", t + timedelta(hours=5), "RT @claire_ml: Nos ateliers",
                   kind=PostKind.RETWEET)]
    ceo = [_post("1", "claire_ml", t, "Nos ateliers recrutent."),
           _post("2", "claire_ml", t + timedelta(hours=1), "La lampe Nomade est de retour !"),
           _post("3", "claire_ml", t + timedelta(hours=2), "@lea bravo", kind=PostKind.REPLY,
                 referenced_accounts=("lea",))]
    made = {"1": (PostClass.AMPLIFIED, {"nearest_id": "81"}),
            "2": (PostClass.RECYCLED, {"nearest_id": "80", "similarity": 0.81,
                                       "subkind": "paraphrase"}),
            "3": (PostClass.CONVERSATION, {})}
    with Store.open(cfg.database_url()) as store:
        store.import_posts([*brand, *ceo], source="jsonl")
        store.save_findings("ml", model_id_for(cfg.model.name), [
            (sp.pk, sp.text_hash, "k", Finding(sp.post.post_id, "claire_ml", sp.post.created_at,
                                               made[sp.post.post_id][0], "analysis reason",
                                               **made[sp.post.post_id][1]))
            for sp in store.posts(["claire_ml"])])
        rep = pipeline.build_report(store, cfg, cfg.pairs[0], since=t - timedelta(days=1),
                                    until=t + timedelta(days=1), now=t + timedelta(days=1))
    lang = Lang.of("fr", "Europe/Paris")
    html = render_html(rep, lang=lang)
    recycled = html[html.index('id="recycled"'):html.index("</table>", html.index('id="recycled"'))]
    assert "La lampe Nomade est de retour" in recycled
    assert "10 jours d’écart" in recycled and "10 jours après la marque" in recycled
    amplified = html[html.index('id="amplified"'):]
    assert "Nos ateliers recrutent" in amplified.split("</table>")[0]
    assert "@MaisonLumiere a relayé ou repris cette publication" in amplified
    assert "1 réponse à un tiers (conversation)" in html
    for cls in PostClass:  # every class counted, with a badge of its family
        assert f'id="count-{cls.value}"' in html
    assert "fam-redundancy c-recycled" in html and "fam-own c-amplified" in html
    md = render_md(rep, lang=lang)
    assert "## Recyclages" in md and "| 10 |" in md
    data = report_dict(rep)
    assert data["totals"]["counts"]["recycled"] == 1 and data["voice"]["counts"]["reply"] == 1


# -- the catalogue and the package ---------------------------------------------------------------

def test_every_message_has_its_french_translation(tmp_path: Path) -> None:
    """A message added to the code or a template without its French translation fails here
    (`python scripts/update_catalogue.py` lists them)."""
    from babel.messages.extract import extract_from_dir
    from babel.messages.pofile import read_po

    root = Path(__file__).resolve().parent.parent
    method_map = [("**.py", "python"), ("**/templates/**.j2", "jinja2")]
    options = {"**/templates/**.j2": {"extensions": "jinja2.ext.i18n", "trim_blocks": "true",
                                      "lstrip_blocks": "true"}}
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "n_": (1, 2), "N_": None}
    found = {m[2] if isinstance(m[2], str) else m[2][0]
             for m in extract_from_dir(str(root / "monitor"), method_map, options, keywords)}
    with (root / "monitor" / "locale" / "fr" / "LC_MESSAGES" / "monitor.po").open("rb") as f:
        catalog = read_po(f)
    translated = {m.id if isinstance(m.id, str) else m.id[0] for m in catalog
                  if m.id and (all(m.string) if isinstance(m.string, tuple) else m.string)}
    assert len(found) > 300
    assert sorted(found - translated) == []


def test_init_example_writes_the_packaged_configuration(tmp_path: Path) -> None:
    from monitor.config import load_config

    target = tmp_path / "mine.toml"
    result = CliRunner().invoke(cli, ["init", "--example", str(target)])
    assert result.exit_code == 0, result.output
    cfg = load_config(target)
    assert cfg.ui.language == "fr" and cfg.pairs[0].name == "maison-lumiere"
    again = CliRunner().invoke(cli, ["init", "--example", str(target)])
    assert again.exit_code == 2 and "already exists" in again.output


def test_a_service_is_running_while_its_evaluations_are_on_time() -> None:
    from monitor.report.model import Freshness

    now = datetime(2026, 11, 12, 8, tzinfo=UTC)
    seen = now - timedelta(hours=5)
    assert not Freshness(now, service_seen_at=seen).service_running  # 30 min schedule
    assert Freshness(now, service_seen_at=seen,
                     evaluation_interval=timedelta(hours=6)).service_running
    assert not Freshness(now).service_running  # never seen

"""The daily digest: its figures, its HTML (escaped, self-contained), and delivery through the
outbox to a real SMTP server on loopback (aiosmtpd), including while that server is down."""

from __future__ import annotations

import email
import email.policy
import re
import shutil
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from tests.harness.cli import with_config as monitor
from tests.harness.net import free_port
from tests.harness.sample import XSS_DAY
from tests.harness.sample import digest_config as write_config
from tests.harness.smtp import SmtpSink

PASSWORD = "s3cret-Pa55word-for-smtp"


@pytest.fixture
def workdir(tmp_path: Path, marked_folder: Path) -> Path:
    """This test's copy (m.db) of the sample analysed once per run, with its markup posts."""
    shutil.copyfile(marked_folder / "monitor.db", tmp_path / "m.db")
    return tmp_path


def test_digest_send_delivers_one_message_with_both_parts(workdir: Path) -> None:
    port = free_port()
    config = write_config(workdir / "monitor.toml", workdir / "m.db", port)
    with SmtpSink(port) as sink:
        result = monitor(config, "digest", "--date", "2026-10-06", "--send")
        assert result.exit_code == 0, result.output
        assert "Sent the digest of 2026-10-06 for maison-lumiere" in result.output
        again = monitor(config, "digest", "--date", "2026-10-06", "--send")
        assert again.exit_code == 0 and "already sent" in again.output
    assert len(sink.messages) == 1
    msg = sink.messages[0]
    assert sink.envelopes == [("monitor@example.com",
                               ["comms@example.com", "ceo-office@example.com"])]
    assert msg.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
    # The subject carries the key figure: the day's and the week's overlap rate.
    assert re.search(r"maison-lumiere: \d+% overlap on 6 Oct 2026, 7 days \d+%", msg["Subject"])
    text = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    html = msg.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert "Lanterne Nomade est disponible" in text
    assert "Lanterne Nomade est disponible" in re.sub(r"</?mark>", "", html)  # shared terms
    assert "https://x.com/claire_ml/status/2107366562025897990" in html


def test_digest_figures_match_the_stored_findings(workdir: Path) -> None:
    from zoneinfo import ZoneInfo

    from monitor.app.digests import build_digests
    from monitor.config import load_config
    from monitor.embed import model_id_for
    from monitor.store import Store

    cfg = load_config(write_config(workdir / "monitor.toml", workdir / "m.db", 25))
    tz = ZoneInfo("Europe/Paris")
    with Store.open(cfg.database_url()) as store:
        findings = store.findings("maison-lumiere", model_id_for(cfg.model.name))
        [d] = build_digests(store, cfg, date(2026, 10, 6), now=datetime(2026, 10, 7, 7,
                                                                         tzinfo=UTC))
    days = [f.finding for f in findings]
    on_day = [f for f in days if f.created_at.astimezone(tz).date() == date(2026, 10, 6)]
    week = [f for f in days
            if date(2026, 9, 30) <= f.created_at.astimezone(tz).date() <= date(2026, 10, 6)]
    p = d.pairs[0]
    assert p.today.posts == len(on_day) and p.week.posts == len(week)
    redundant = sum(f.post_class.value in ("echo", "overlap", "recycled") for f in week)
    assert p.week.overlap_rate == pytest.approx(redundant / len(week))
    assert d.subject.startswith("[monitor] (ALERT)")  # the week is above the 30% threshold
    assert f"7 days {p.week.overlap_rate:.0%}" in d.subject
    assert any(line.startswith("Overlap rate of the day") and "the day before" in line
               for line in p.changes)
    assert p.top and all(i.finding.post_class.value in ("echo", "overlap", "recycled")
                         for i in p.top)
    assert [i.finding.similarity or 0 for i in p.top] == sorted(
        (i.finding.similarity or 0 for i in p.top), reverse=True)


def test_untrusted_post_text_is_escaped_and_the_html_is_self_contained(workdir: Path) -> None:
    config = write_config(workdir / "monitor.toml", workdir / "m.db", 25)
    out = workdir / "digest.html"
    result = monitor(config, "digest", "--date", XSS_DAY, "-o", str(out))
    assert result.exit_code == 0, result.output
    html = out.read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert not re.search(r"<\s*(script|img|link|iframe|object|style)\b", html, re.I)
    assert "onerror=alert" not in html.replace("&lt;img src=x onerror=alert(1)&gt;", "")
    assert not re.search(r"\bsrc\s*=", html.replace("&lt;img src=x", ""), re.I)
    assert 'style="' in html  # inline styles only
    # Every link goes to a post on x.com; nothing else is fetched or linked.
    assert set(re.findall(r'href="([^"/]+//[^/"]+)', html)) == {"https://x.com"}
    text = workdir / "digest.txt"
    assert monitor(config, "digest", "--date", XSS_DAY, "-o", str(text)).exit_code == 0
    assert "<script>alert('x')</script>" in text.read_text(encoding="utf-8")  # plain text


def test_digest_waits_in_the_outbox_while_smtp_is_down(workdir: Path) -> None:
    from monitor.config import load_config
    from monitor.store import Store

    port = free_port()  # nothing listens there yet
    config = write_config(workdir / "monitor.toml", workdir / "m.db", port,
                          username="monitor-user")
    env = {"MONITOR_SMTP_PASSWORD": PASSWORD}
    down = monitor(config, "digest", "--date", "2026-10-06", "--send", env=env)
    assert down.exit_code == 1
    assert "Traceback" not in down.output and PASSWORD not in down.output
    assert f"cannot deliver email via SMTP server 127.0.0.1:{port}" in down.output
    assert "wait in the outbox" in down.output
    cfg = load_config(config)
    with Store.open(cfg.database_url()) as store:
        status = store.outbox_summary()
    assert status.pending == 1 and status.sent == 0
    assert "connection refused" in (status.last_error or "")
    assert status.last_error_key == "digest:maison-lumiere:2026-10-06"

    with SmtpSink(port, password=PASSWORD) as sink:
        back = monitor(config, "digest", "--date", "2026-10-06", "--send", env=env)
        assert back.exit_code == 0, back.output
        assert "Sent the digest of 2026-10-06" in back.output
        third = monitor(config, "digest", "--date", "2026-10-06", "--send", env=env)
        assert third.exit_code == 0 and "already sent" in third.output
    assert len(sink.messages) == 1  # delivered once
    assert sink.logins == [(b"monitor-user", PASSWORD.encode())]
    with Store.open(cfg.database_url()) as store:
        status = store.outbox_summary()
    assert status.pending == 0 and status.sent == 1 and status.last_error is None
    assert PASSWORD.encode() not in (workdir / "m.db").read_bytes()
    assert PASSWORD not in back.output + third.output


def test_wrong_password_is_one_clear_error(workdir: Path) -> None:
    port = free_port()
    config = write_config(workdir / "monitor.toml", workdir / "m.db", port,
                          username="monitor-user")
    with SmtpSink(port, password=PASSWORD) as sink:
        result = monitor(config, "digest", "--date", "2026-10-06", "--send",
                         env={"MONITOR_SMTP_PASSWORD": "not-the-password"})
    assert result.exit_code == 1 and "Traceback" not in result.output
    assert "refused the login of 'monitor-user'" in result.output
    assert "not-the-password" not in result.output and sink.messages == []


def test_empty_day_is_not_sent_unless_configured(workdir: Path) -> None:
    port = free_port()
    config = write_config(workdir / "monitor.toml", workdir / "m.db", port)
    with SmtpSink(port) as sink:
        quiet = monitor(config, "digest", "--date", "2026-12-20", "--send")
        assert quiet.exit_code == 0 and "Nothing to send" in quiet.output
        assert sink.messages == []
        write_config(config, workdir / "m.db", port, send_when_empty=True)
        sent = monitor(config, "digest", "--date", "2026-12-20", "--send")
        assert sent.exit_code == 0, sent.output
    assert len(sink.messages) == 1
    assert "no executive post on 20 Dec 2026" in sink.messages[0]["Subject"]


def test_eml_output_and_preview(workdir: Path) -> None:
    config = write_config(workdir / "monitor.toml", workdir / "m.db", 25)
    eml = workdir / "digest.eml"
    assert monitor(config, "digest", "--date", "2026-10-06", "-o", str(eml)).exit_code == 0
    msg = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
    assert msg["To"] == "comms@example.com, ceo-office@example.com"
    preview = monitor(config, "digest", "--date", "2026-10-06")
    assert preview.exit_code == 0 and "== maison-lumiere ==" in preview.output
    bad = monitor(config, "digest", "--date", "06/10/2026")
    assert bad.exit_code == 2 and "--date '06/10/2026'" in bad.output


def test_one_email_per_recipient_list(workdir: Path) -> None:
    from monitor.app.digests import build_digests
    from monitor.config import load_config
    from monitor.store import Store

    config = write_config(workdir / "monitor.toml", workdir / "m.db", 25)
    config.write_text(config.read_text(encoding="utf-8") + """
[[pairs]]
name = "other"
executive = ["claire_ml"]
corporate = ["MaisonLumiere"]
recipients = ["exec-team@example.com"]
""", encoding="utf-8")
    cfg = load_config(config)
    with Store.open(cfg.database_url()) as store:
        digests = build_digests(store, cfg, date(2026, 10, 6))
    assert [(d.key, d.recipients) for d in digests] == [
        ("digest:maison-lumiere:2026-10-06", ("comms@example.com", "ceo-office@example.com")),
        ("digest:other:2026-10-06", ("exec-team@example.com",))]
    assert not digests[0].empty
    # "other" was never analysed: its day is not empty, it waits for analysis, and says so.
    other = digests[1].pairs[0]
    day_posts = digests[0].pairs[0].today.posts  # the same executive, analysed in the first
    assert other.today.posts == 0 and other.unanalysed == day_posts > 0
    assert f"other: {day_posts} posts not analysed yet on 6 Oct 2026" in digests[1].subject
    assert f"{day_posts} executive posts of 6 Oct 2026 are not analysed yet" in digests[1].text


@pytest.fixture(autouse=True)
def _no_stray_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    for name in ("MONITOR_SMTP_PASSWORD", "MONITOR_WEBHOOK_URL", "MONITOR_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    yield

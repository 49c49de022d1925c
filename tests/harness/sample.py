"""The bundled sample (341 posts of a fictional French lighting brand and its CEO), imported,
embedded with the real multilingual encoder and analysed ONCE per test run, then handed to each
test as a cheap copy of its SQLite file.

Two stores are built, both on first use:
- the demo store: `monitor demo` itself, in process, on the bundled sample (its report, its
  Markdown, its configuration and its database), exactly what a new user gets;
- the marked store: a copy of the demo's database plus four posts carrying markup (a hostile
  paraphrase of the brand's launch post, and a Sunday with two retweets of a corporate post
  whose texts hold <script> and <img onerror>), analysed on top (only those posts are embedded).

Under pytest-xdist the workers share them: the first worker that needs one builds it under a
file lock in the run's common temporary folder; the others wait and reuse it. Tests never open
these folders' databases directly: they copy them (`copy_store`), so a test may write freely.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

PAIR = "maison-lumiere"

# The corporate launch post of the sample, reworded, with markup that must stay text.
HOSTILE = ("La voici enfin : Lanterne Nomade, notre première lampe d'extérieur rechargeable. "
           "Laiton recyclé, verre soufflé à Lyon, 40 h d'autonomie, recharge USB-C. Lancement "
           "le 6 octobre, précommandes ouvertes dès aujourd'hui ! "
           "<script>window.__pwned = 1</script> <img src=x onerror=\"window.__pwned = 2\">")
HOSTILE_ID = "990000000000000001"
# Posted two hours after the brand's launch post it paraphrases (2026-09-29 09:00 UTC).
HOSTILE_POST = {"id": HOSTILE_ID, "account": "claire_ml", "created_at": "2026-09-29T11:00:00Z",
                "text": HOSTILE}

XSS_DAY = "2026-11-08"
# A Sunday of the sample with one harmless executive post, plus a corporate post and two
# executive retweets of it carrying markup: they must reach the digest, escaped.
EXTRA = [
    {"id": "2119400000000000001", "account": "MaisonLumiere", "created_at": "2026-11-08T08:00:00Z",
     "text": "Our Lyon workshop opens its doors this Saturday: bring a lamp, we repair it."},
    {"id": "2119400000000000002", "account": "claire_ml", "created_at": "2026-11-08T09:00:00Z",
     "kind": "retweet", "referenced_id": "2119400000000000001",
     "referenced_account": "MaisonLumiere",
     "text": "RT @MaisonLumiere: <script>alert('x')</script> Our Lyon workshop opens its doors"},
    {"id": "2119400000000000003", "account": "claire_ml", "created_at": "2026-11-08T10:00:00Z",
     "kind": "retweet", "referenced_id": "2119400000000000001",
     "referenced_account": "MaisonLumiere",
     "text": "RT @MaisonLumiere: <img src=x onerror=alert(1)> bring a lamp, we repair it"},
]

MARKED_CONFIG = f"""\
[database]
url = "sqlite:///monitor.db"
[model]
name = "use-multilingual"
[ui]
language = "en"
[[pairs]]
name = "{PAIR}"
executive = ["claire_ml"]
corporate = ["MaisonLumiere", "MaisonLumiereFR"]
"""

# Two firing episodes in the alert history: the launch (resolved) and one still firing.
ALERT_EVENTS = [("pending", "2026-09-29T06:00:00+00:00", 0, 0.62),
                ("firing", "2026-09-30T06:00:00+00:00", 1, 0.8),
                ("repeat", "2026-10-01T06:00:00+00:00", 1, 0.86),
                ("resolved", "2026-10-14T06:00:00+00:00", 1, 0.2),
                ("firing", "2026-10-27T06:00:00+00:00", 2, 0.42)]


@dataclass(frozen=True)
class SampleStore:
    """A test's own copy of a sample store: its folder, its configuration file."""

    folder: Path
    config: Path
    pair: str = PAIR

    @property
    def db(self) -> Path:
        return self.folder / "monitor.db"


def built_once(factory: pytest.TempPathFactory, name: str,
               build: Callable[[Path], None]) -> Path:
    """The folder `build` fills, built once for the whole run (all xdist workers)."""
    if os.environ.get("PYTEST_XDIST_WORKER") is None:
        folder = factory.mktemp(name)
        build(folder)
        return folder
    from filelock import FileLock

    shared = factory.getbasetemp().parent  # the run's folder, common to its workers
    folder = shared / name
    with FileLock(str(shared / f"{name}.lock")):
        if not (folder / ".built").exists():
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            build(folder)
            (folder / ".built").touch()
    return folder


def copy_store(source: Path, dest: Path, *, config: str | None = None,
               db_name: str = "monitor.db") -> SampleStore:
    """Copy a built store's database (and its configuration, or `config` instead) into dest."""
    dest.mkdir(parents=True, exist_ok=True)
    for suffix in ("", "-wal", "-shm"):
        if (source / f"monitor.db{suffix}").exists():
            shutil.copyfile(source / f"monitor.db{suffix}", dest / f"{db_name}{suffix}")
    target = dest / "monitor.toml"
    if config is None:
        shutil.copyfile(source / "monitor.toml", target)
    else:
        target.write_text(config, encoding="utf-8")
    return SampleStore(dest, target)


def build_demo(folder: Path) -> None:
    """`monitor demo --output FOLDER`, in process; its terminal output kept beside it."""
    from tests.harness.cli import run_cli

    result = run_cli("demo", "--output", str(folder))
    assert result.exit_code == 0, result.output
    (folder / "demo-output.txt").write_text(result.stdout, encoding="utf-8")


def build_marked(folder: Path, demo: Path, encoder: Any) -> None:
    """The demo's database plus the four marked-up posts, analysed with `encoder`."""
    from monitor import pipeline
    from monitor.config import load_config
    from monitor.store import Store

    sample = copy_store(demo, folder, config=MARKED_CONFIG)
    posts = folder / "marked.jsonl"
    posts.write_text("".join(json.dumps(p, ensure_ascii=False) + "\n"
                             for p in [HOSTILE_POST, *EXTRA]), encoding="utf-8")
    cfg = load_config(sample.config)
    with Store.open(cfg.database_url()) as store:
        assert pipeline.import_jsonl(store, posts).inserted == 4
        pipeline.analyse_pair(store, cfg, cfg.pairs[0], encoder)


def record_alerts(config: Path, pair: str = PAIR) -> None:
    """Write ALERT_EVENTS into the store as a service evaluating the pair would have."""
    from monitor.config import load_config
    from monitor.models import AlertEvent, AlertState, AlertStatus
    from monitor.store import Store

    when = [datetime.fromisoformat(at) for _, at, _, _ in ALERT_EVENTS]
    state = AlertState(pair=pair, status=AlertStatus.FIRING, pending_count=2, sequence=2,
                       active_since=when[-1], notified=True, last_notified_at=when[-1],
                       last_rate=0.42, last_posts=12, last_evaluated_at=when[-1])
    events = [AlertEvent(pair=pair, at=at, kind=kind, sequence=seq, rate=rate, posts=12,
                         detail=f"test history: {kind}")
              for (kind, _, seq, rate), at in zip(ALERT_EVENTS, when, strict=True)]
    with Store.open(load_config(config).database_url()) as store:
        store.record_alert_evaluation(state, events, [], when[-1])


def digest_config(path: Path, db: Path, port: int, *, language: str = "en",
                  **email_opts: object) -> Path:
    """A configuration for the sample pair that mails its digest to 127.0.0.1:port."""
    email_lines = "".join(f"{k} = {json.dumps(v)}\n" for k, v in email_opts.items())
    path.write_text(f"""
[ui]
language = "{language}"
[database]
url = "sqlite:///{db}"
[model]
name = "use-multilingual"
[email]
smtp_host = "127.0.0.1"
smtp_port = {port}
security = "none"
sender = "monitor@example.com"
recipients = ["comms@example.com", "ceo-office@example.com"]
timeout_s = 5
{email_lines}
[[pairs]]
name = "{PAIR}"
executive = ["claire_ml"]
corporate = ["MaisonLumiere", "MaisonLumiereFR"]
""", encoding="utf-8")
    return path

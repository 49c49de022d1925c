"""The CLI end to end: demo, status, report, check, errors and exit codes. Commands run in
process (tests/harness/cli.py); `--help` runs as a real process, as its import time is checked."""

from __future__ import annotations

import csv
import io
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.harness import ROOT
from tests.harness.cli import run_cli as run
from tests.harness.sample import SampleStore


def test_help_does_not_import_torch() -> None:
    result = subprocess.run([sys.executable, "-X", "importtime", "-m", "monitor", "--help"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    imported = {line.split("|")[-1].strip().split(".")[0] for line in result.stderr.splitlines()
                if line.startswith("import time:")}
    assert "click" in imported
    for heavy in ("torch", "sentence_transformers", "transformers", "sqlalchemy", "numpy",
                  "matplotlib"):
        assert heavy not in imported, heavy


def test_every_command_has_help_and_is_documented() -> None:
    from monitor.cli import cli

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name, command in cli.commands.items():
        assert command.help, name
        assert f"monitor {name}" in readme, f"`monitor {name}` is not in the README"


def test_demo_report_lists_flagged_pairs(demo_folder: Path) -> None:
    said = (demo_folder / "demo-output.txt").read_text(encoding="utf-8")
    assert f"Report: {demo_folder / 'report.html'}" in said
    assert "--config" in said  # tells what to try next
    html = (demo_folder / "report.html").read_text(encoding="utf-8")
    assert 'id="flagged"' in html
    rows = re.findall(r'<span class="chip fam-redundancy c-(echo|overlap)">', html)
    assert len(rows) >= 20
    # The demo speaks French, the first users' language, with French reasons.
    assert '<html lang="fr">' in html
    assert "paraphrase d’une publication de @MaisonLumiere" in html
    assert "retweet d’une publication de @MaisonLumiereFR" in html
    assert "<script" not in html  # self-contained and script-free
    md = (demo_folder / "report.md").read_text(encoding="utf-8")
    assert "| Semaine du |" in md and "<script>" not in md


def test_demo_twice_is_idempotent(demo_folder: Path, tmp_path: Path) -> None:
    again = tmp_path / "monitor-demo"
    shutil.copytree(demo_folder, again)
    result = run("demo", "--output", str(again))
    assert result.exit_code == 0, result.stderr
    assert "0 new posts, 341 already there" in result.stdout
    assert "Embedded 0 posts" in result.stdout  # the vectors are cached


def test_status_json(demo_store: SampleStore) -> None:
    result = run("--config", str(demo_store.config), "status", "--json")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    by_name = {a["username"]: a for a in data["accounts"]}
    assert set(by_name) == {"claire_ml", "MaisonLumiere", "MaisonLumiereFR"}
    assert by_name["claire_ml"]["posts"] == 161 and by_name["claire_ml"]["platform"] == "x"
    assert by_name["MaisonLumiereFR"]["newest"].startswith("2026-11-")


@pytest.mark.parametrize("fmt", ["md", "json", "csv", "html"])
def test_report_formats(demo_store: SampleStore, tmp_path: Path, fmt: str) -> None:
    out = tmp_path / f"r.{fmt}"
    result = run("--config", str(demo_store.config), "report", "--since", "2026-09-01",
                 "--until", "2026-11-16", "--format", fmt, "-o", str(out))
    assert result.exit_code == 0, result.stderr
    text = out.read_text(encoding="utf-8")
    if fmt == "json":
        data = json.loads(text)
        assert data["totals"]["posts"] == 161
        assert 0.2 < data["totals"]["overlap_rate"] < 0.7
        assert data["thresholds"]["details"]["overlap"] == "calibrated"
        weeks = [w["overlap_rate"] for w in data["weekly"] if w["posts"]]
        assert max(weeks) > 0.6  # the launch weeks stand out
    elif fmt == "csv":
        rows = list(csv.DictReader(io.StringIO(text)))
        assert len(rows) == 161
        assert {r["class"] for r in rows} >= {"echo", "overlap", "complementary"}
    elif fmt == "md":
        assert "## Paires signalées" in text
    else:
        assert "<svg" in text and "http://" not in text.split("<body>")[0]


def test_check_a_draft(demo_store: SampleStore) -> None:
    cfg = str(demo_store.config)
    # Pretend it is the day after the launch post, so the launch is in the lag window.
    result = run("--config", cfg, "check", "--json", "--pair", "maison-lumiere",
                 "--at", "2026-09-29T12:00:00Z",
                 "Fière de vous présenter Lanterne Nomade, notre première lampe d'extérieur "
                 "rechargeable, en laiton recyclé, 40 h d'autonomie.")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["class"] == "overlap"
    assert "Lanterne Nomade" in data["closest"][0]["text"]
    plain = run("--config", cfg, "check", "--at", "2026-09-29",
                "Ce week-end, randonnée dans les Écrins.")
    assert plain.exit_code == 0
    assert plain.stdout.split(":")[0] in ("COMPLEMENTARY", "OFF-LINE")
    assert "Closest corporate posts" in plain.stdout


def test_bad_config_names_the_key(tmp_path: Path) -> None:
    cfg = tmp_path / "monitor.toml"
    cfg.write_text('[[pairs]]\nname = "p"\nexecutive = ["not a name!"]\ncorporate = []\n'
                   '[model]\nnmae = "x"\n', encoding="utf-8")
    result = run("--config", str(cfg), "status")
    assert result.exit_code == 2
    assert "pairs[0] (p).executive" in result.stderr and "model.nmae" in result.stderr
    assert "Traceback" not in result.stderr


def test_missing_config_is_usage_error(tmp_path: Path) -> None:
    result = run("status", cwd=tmp_path)  # no monitor.toml there
    assert result.exit_code == 2
    assert "no configuration found" in result.stderr


def test_malformed_jsonl_exits_1_and_changes_nothing(tmp_path: Path) -> None:
    cfg = tmp_path / "monitor.toml"
    cfg.write_text('[[pairs]]\nname = "p"\nexecutive = ["a"]\ncorporate = ["b"]\n',
                   encoding="utf-8")
    good = tmp_path / "good.jsonl"
    good.write_text('{"id": "1", "account": "a", "created_at": "2026-10-01T08:00:00Z", '
                    '"text": "hello"}\n', encoding="utf-8")
    bad = tmp_path / "bad.jsonl"
    bad.write_text(good.read_text() + '{"id": "2", "account": "a", "created_at": "2026-10-01T08:'
                   '00:00Z", "text": "broken"\n', encoding="utf-8")
    assert run("--config", str(cfg), "ingest", "--from-jsonl", str(good)).exit_code == 0
    result = run("--config", str(cfg), "ingest", "--from-jsonl", str(bad))
    assert result.exit_code == 1
    assert f"{bad}: line 2" in result.stderr and "Traceback" not in result.stderr
    status = json.loads(run("--config", str(cfg), "status", "--json").stdout)
    assert [a["posts"] for a in status["accounts"] if a["username"] == "a"] == [1]


def test_archive_import_via_cli(tmp_path: Path) -> None:
    from tests.harness.archive import make_archive

    cfg = tmp_path / "monitor.toml"
    cfg.write_text('[database]\nurl = "sqlite:///m.db"\n', encoding="utf-8")
    archive = make_archive(tmp_path)
    first = run("--config", str(cfg), "ingest", "--from-archive", str(archive))
    second = run("--config", str(cfg), "ingest", "--from-archive", str(archive))
    assert first.exit_code == 0 and "6 new" in first.stdout
    assert second.exit_code == 0 and "0 new, 0 updated, 6 unchanged" in second.stdout
    assert (tmp_path / "m.db").exists()  # relative to the config file's folder


def test_hostile_post_text_is_escaped_everywhere(tmp_path: Path) -> None:
    hostile = "Lancement <script>alert('x')</script> <img src=x onerror=alert(1)> | **bold**"
    corp = "Lancement de la Lanterne Nomade aujourd'hui, notre lampe rechargeable."
    posts = tmp_path / "p.jsonl"
    posts.write_text("\n".join(json.dumps(r) for r in [
        {"id": "1", "account": "brand", "created_at": "2026-10-01T08:00:00Z", "text": corp},
        {"id": "2", "account": "ceo", "created_at": "2026-10-01T09:00:00Z",
         "text": corp + " " + hostile}]) + "\n", encoding="utf-8")
    cfg = tmp_path / "monitor.toml"
    cfg.write_text('[model]\nname = "use-multilingual"\n[[pairs]]\nname = "p"\n'
                   'executive = ["ceo"]\ncorporate = ["brand"]\n', encoding="utf-8")
    assert run("--config", str(cfg), "ingest", "--from-jsonl", str(posts)).exit_code == 0
    assert run("--config", str(cfg), "analyse").exit_code == 0
    outputs = {}
    for fmt in ("html", "md"):
        out = tmp_path / f"r.{fmt}"
        result = run("--config", str(cfg), "report", "--since", "2026-09-01", "--format", fmt,
                     "-o", str(out))
        assert result.exit_code == 0, result.stderr
        outputs[fmt] = out.read_text(encoding="utf-8")
    html, md = outputs["html"], outputs["md"]
    assert "overlap" in html  # the hostile post is flagged, so its text is in the report
    assert "<script>" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "<script>" not in md and "<img" not in md and "\\| \\*\\*bold" in md


@pytest.mark.parametrize(("toml", "expected"), [
    ('[schedule]\ntimezone = "Europe/Pariss"\n', "schedule.timezone: 'Europe/Pariss' is not a"),
    ('[schedule]\ningest_every = "30x"\n', "schedule.ingest_every: '30x' is not a duration"),
    ('[schedule]\ndigest_at = "25:00"\n', "schedule.digest_at: '25:00' is not a time of day"),
    ('[alerts]\nthreshold = 0.3\nrecover_threshold = 0.5\n', "must be below threshold"),
    ('[email]\nsecurity = "tls"\n', "email.security"),
    ('[database]\nurl = 5\n', "database.url"),
])
def test_service_settings_are_validated_on_load(tmp_path: Path, toml: str, expected: str) -> None:
    cfg = tmp_path / "monitor.toml"
    cfg.write_text(toml, encoding="utf-8")
    result = run("--config", str(cfg), "status")
    assert result.exit_code == 2
    assert expected in result.stderr and "Traceback" not in result.stderr


def test_example_config_is_valid() -> None:
    from monitor.config import load_config

    cfg = load_config(ROOT / "config" / "monitor.example.toml")
    assert cfg.pairs[0].name == "maison-lumiere" and cfg.model.name == "auto"

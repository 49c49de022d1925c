"""`monitor check` answered by a running process whose model is loaded (`web/check_server.py`)."""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from monitor.cli import cli
from monitor.config import load_config
from monitor.store import Store
from monitor.web.check_server import CheckServer

NOW = datetime(2026, 10, 2, 12, 0, tzinfo=UTC)
POSTS = [
    {"id": "1", "account": "brand", "created_at": "2026-10-01T08:00:00Z",
     "text": "Notre nouvelle Lanterne Nomade arrive en boutique avec 40 heures d'autonomie"},
    {"id": "2", "account": "ceo", "created_at": "2026-09-20T09:00:00Z",
     "text": "Dimanche, vingt kilomètres de course à pied au bord du lac d'Annecy"},
]
DRAFT = "La Lanterne Nomade arrive en boutique : quarante heures d'autonomie"


@pytest.fixture
def configured(tmp_path: Path, use_encoder: Any) -> Path:
    config = tmp_path / "monitor.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{tmp_path / "m.db"}"\n[model]\n'
                      'name = "use-multilingual"\n[[pairs]]\nname = "p"\nexecutive = ["ceo"]\n'
                      'corporate = ["brand"]\n', encoding="utf-8")
    posts = tmp_path / "p.jsonl"
    posts.write_text("\n".join(json.dumps(p) for p in POSTS) + "\n", encoding="utf-8")
    assert CliRunner().invoke(cli, ["--config", str(config), "ingest", "--from-jsonl",
                                    str(posts)]).exit_code == 0
    return config


def check(config: Path, *extra: str) -> Any:
    result = CliRunner().invoke(cli, ["--config", str(config), "check", DRAFT, "--at",
                                      NOW.isoformat(), *extra])
    assert result.exit_code == 0, result.output
    return result.output


def test_a_running_process_answers_without_loading_a_model(
        configured: Path, use_encoder: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = load_config(configured)
    with Store.open(cfg.database_url()) as store:
        server = CheckServer(cfg, store, use_encoder, lambda: NOW)
        try:
            address = configured.parent / ".monitor.check-server.json"
            assert address.exists() and address.stat().st_mode & 0o077 == 0
            def no_model(_cfg: Any) -> Any:
                raise AssertionError("the CLI loaded a model although a process answers")

            monkeypatch.setattr("monitor.cli._encoders", no_model)
            warm = json.loads(check(configured, "--json"))
            assert warm["class"] == "overlap" and warm["closest"][0]["post_id"] == "1"
            assert "OVERLAP" in check(configured)
        finally:
            server.close()
    assert not address.exists()  # gone with its process
    monkeypatch.undo()
    cold = json.loads(check(configured, "--json"))  # no process: the CLI checks on its own
    cold.pop("model_reason"), warm.pop("model_reason")  # the server was handed its encoder
    assert cold == warm


def test_the_check_server_wants_its_token(configured: Path, use_encoder: Any) -> None:
    cfg = load_config(configured)
    with Store.open(cfg.database_url()) as store:
        server = CheckServer(cfg, store, use_encoder, lambda: NOW)
        try:
            body = json.dumps({"pair": "p", "text": DRAFT}).encode()
            request = urllib.request.Request(f"{server.url}/check", data=body, method="POST",
                                             headers={"X-Monitor-Token": "guess"})
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(request, timeout=10)
            assert refused.value.code == 404
            empty = json.dumps({"pair": "p", "text": " "}).encode()
            request = urllib.request.Request(f"{server.url}/check", data=empty, method="POST",
                                             headers={"X-Monitor-Token": server.token})
            with pytest.raises(urllib.error.HTTPError) as bad:
                urllib.request.urlopen(request, timeout=10)
            assert bad.value.code == 422 and "empty" in json.loads(bad.value.read())["error"]
        finally:
            server.close()


def test_the_running_process_reads_pair_and_at_as_the_cold_check_would(
        configured: Path, use_encoder: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A warm check reads no configuration: the process names the only pair, reads --at in
    its [schedule] time zone, and its refusals keep the cold check's messages and exit codes."""
    cfg = load_config(configured)
    with Store.open(cfg.database_url()) as store:
        server = CheckServer(cfg, store, use_encoder, lambda: NOW)
        try:
            def no_config(*_args: Any) -> Any:
                raise AssertionError("the CLI validated the configuration although a "
                                     "process answers")

            monkeypatch.setattr("monitor.cli._config", no_config)
            # A local date (midnight in the configured zone), and no --pair: the only pair.
            result = CliRunner().invoke(cli, ["--config", str(configured), "check", DRAFT,
                                              "--at", "2026-10-02", "--json"])
            assert result.exit_code == 0, result.output
            warm = json.loads(result.output)
            assert warm["class"] == "overlap" and warm["closest"][0]["post_id"] == "1"
            bad_at = CliRunner().invoke(cli, ["--config", str(configured), "check", DRAFT,
                                              "--at", "someday"])
            assert bad_at.exit_code == 2 and "--at 'someday' is not understood" in bad_at.output
            assert "Europe/Paris" in bad_at.output
            unknown = CliRunner().invoke(cli, ["--config", str(configured), "check", DRAFT,
                                               "--pair", "nope"])
            assert unknown.exit_code == 2 and "no pair named 'nope'" in unknown.output
        finally:
            server.close()
    monkeypatch.undo()
    cold = CliRunner().invoke(cli, ["--config", str(configured), "check", DRAFT,
                                    "--at", "2026-10-02", "--json"])
    cold_answer = json.loads(cold.output)
    cold_answer.pop("model_reason"), warm.pop("model_reason")
    assert cold_answer == warm

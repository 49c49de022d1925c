"""`monitor demo`: the bundled sample through the whole pipeline, on embedded defaults."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from importlib import resources
from pathlib import Path

from monitor import pipeline
from monitor.app.models_choice import choose_model
from monitor.config import load_config
from monitor.embed import Encoders
from monitor.errors import UsageError
from monitor.i18n import Lang
from monitor.report.render import render_html, render_md
from monitor.store import Store

SAMPLE = "maison_lumiere.jsonl"
DEMO_CONFIG = """\
# Written by `monitor demo`: the bundled sample pair (a fictional French lighting brand).
[database]
url = "sqlite:///monitor.db"   # relative to this file's folder

[model]
name = "auto"                  # the zero-configuration default: this French pair gets the
                               # multilingual encoder; an English pair would get the bundled
                               # all-MiniLM-L6-v2. Both load offline.

[ui]
language = "fr"                # or "en": the reports, digests, alerts and dashboard

[[pairs]]
name = "maison-lumiere"
executive = ["claire_ml"]
corporate = ["MaisonLumiere", "MaisonLumiereFR"]
"""


@dataclass(frozen=True)
class DemoResult:
    config: Path
    html: Path
    markdown: Path


def sample_path() -> Path:
    return Path(str(resources.files("monitor") / "sample" / SAMPLE))


def run_demo(output: Path, *, progress: Callable[[int, int], None] | None = None,
             echo: Callable[[str], None] = print) -> DemoResult:
    """Write DIR/monitor.toml, import the sample, embed, analyse, write the reports."""
    if output.exists() and not output.is_dir():
        raise UsageError(f"{output} exists and is not a folder: choose another --output")
    output.mkdir(parents=True, exist_ok=True)
    config_path = output / "monitor.toml"
    config_path.write_text(DEMO_CONFIG, encoding="utf-8")
    cfg = load_config(config_path)
    pair = cfg.pairs[0]
    encoders = Encoders(batch_size=cfg.model.batch_size)
    with Store.open(cfg.database_url()) as store:
        result = pipeline.import_jsonl(store, sample_path())
        echo(f"Imported the sample: {result.inserted} new posts, {result.unchanged} already "
             f"there ({store.count_posts()} in {output / 'monitor.db'}).")
        choice = choose_model(store, cfg, pair)
        encoder = encoders.get(choice.name)
        echo(f"Embedding with {encoder.model_id} (offline): {choice.why}...")
        n = pipeline.embed_pending(store, encoder, pair.accounts, progress)
        analysis = pipeline.analyse_pair(store, cfg, pair, encoders)
        echo(f"Embedded {n} posts; classified {analysis.analysed} of {analysis.total} "
             "executive posts.")
        first, last = store.time_range(pair.accounts)
        assert first is not None and last is not None
        report = pipeline.build_report(store, cfg, pair, since=first,
                                       until=last + timedelta(seconds=1), now=last)
    html = output / "report.html"
    md = output / "report.md"
    lang = Lang.of(cfg.language_for(pair), cfg.schedule.timezone)
    html.write_text(render_html(report, lang=lang), encoding="utf-8")
    md.write_text(render_md(report, lang=lang), encoding="utf-8")
    echo(f"Overlap rate {report.totals.overlap_rate or 0:.0%} over {report.totals.posts} "
         f"executive posts; {len(report.top_overlaps(10**6))} flagged as echo or overlap.")
    return DemoResult(config_path, html, md)

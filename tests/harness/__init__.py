"""What the tests share, kept apart from the test modules so that no test module imports
another: the in-process CLI runner, free ports and HTTP helpers, the SMTP sink, headless
Chromium, the loopback receivers, the bundled sample built once per run, the X collector's
helpers and seeded findings. The fixtures that use them live in tests/conftest.py."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
SAMPLE = ROOT / "monitor" / "sample" / "maison_lumiere.jsonl"

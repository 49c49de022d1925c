"""The fuzz property in the suite (seeded, bounded, about two seconds): over the JSONL and
archive readers, the configuration loader and the duration/moment parser, every input either
imports (or parses) or raises a MonitorError naming where, and the store is unchanged after each
refusal. `scripts/fuzz.py --count 10000` is the long version."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent


def _fuzz() -> ModuleType:
    spec = importlib.util.spec_from_file_location("monitor_fuzz", ROOT / "scripts" / "fuzz.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def test_fuzzed_inputs_import_or_are_refused_naming_where(tmp_path: Path) -> None:
    counts = _fuzz().run(1200, seed=20261202, folder=tmp_path)
    assert counts.escaped == 0, counts.examples[:3]
    assert counts.inputs == 1200
    for target in ("jsonl", "archive", "config", "moment"):  # both paths are exercised
        assert counts.accepted[target] > 10 and counts.refused[target] > 100, target
    assert set(counts.refused_by_error) <= {"ImportFormatError", "ConfigError", "UsageError"}

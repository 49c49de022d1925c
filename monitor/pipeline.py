"""The operations of the monitor under their historical names (scripts and tests import them
from here): they live in the application layer, `monitor.app`."""

from __future__ import annotations

from monitor.app.analyse import (
    CheckResult,
    PairAnalysis,
    analyse_all,
    analyse_pair,
    check_draft,
    embed_pending,
    guardrails,
)
from monitor.app.drift import pair_drift
from monitor.app.imports import import_archive, import_jsonl
from monitor.app.reports import build_report
from monitor.app.thresholds import thresholds_for

__all__ = ["CheckResult", "PairAnalysis", "analyse_all", "analyse_pair", "build_report",
           "check_draft", "embed_pending", "guardrails", "import_archive", "import_jsonl",
           "pair_drift", "thresholds_for"]

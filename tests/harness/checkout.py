"""Files a test run leaves in the checkout: every test writes under pytest's temporary folders
(or $MONITOR_TEST_ARTIFACTS), never into the repository. conftest.py lists the untracked and
ignored entries before and after the run; any new one fails the run."""

from __future__ import annotations

import subprocess
from pathlib import Path

# Written by Python, pip or the linters, not by a test.
_NOT_OURS = ("__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", ".venv")


def stray_entries(root: Path) -> set[str] | None:
    """The untracked and ignored entries of the git checkout at `root` (a folder counts once,
    as git shows it), caches aside; None when `root` is no git checkout or git is missing."""
    try:
        out = subprocess.run(["git", "-C", str(root), "status", "--porcelain", "--ignored",
                              "--untracked-files=normal", "-z"], capture_output=True,
                             text=True, timeout=60, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return None
    entries = {e[3:] for e in out.split("\0") if e[:2] in ("??", "!!")}
    return {e for e in entries
            if not any(part in _NOT_OURS or part.endswith(".egg-info")
                       for part in Path(e).parts) and not e.endswith(".pyc")}

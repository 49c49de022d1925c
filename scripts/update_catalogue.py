"""Re-extract the messages and update the French catalogue, keeping its translations.

    python scripts/update_catalogue.py        # then translate the new empty entries of
                                              # monitor/locale/fr/LC_MESSAGES/monitor.po

Prints how many messages the French catalogue lacks (0: every message is translated).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
POT = ROOT / "monitor" / "locale" / "monitor.pot"


def main() -> int:
    pybabel = [sys.executable, "-m", "babel.messages.frontend"]
    subprocess.run([*pybabel, "extract", "-F", str(ROOT / "babel.cfg"), "-k", "n_:1,2", "-k",
                    "N_", "--no-location", "--sort-output", "--omit-header", "-o", str(POT),
                    str(ROOT / "monitor")], check=True, capture_output=True)
    subprocess.run([*pybabel, "update", "-i", str(POT), "-d", str(ROOT / "monitor" / "locale"),
                    "-D", "monitor", "--no-fuzzy-matching", "--no-wrap"],
                   check=True, capture_output=True)
    from babel.messages.pofile import read_po

    po = ROOT / "monitor" / "locale" / "fr" / "LC_MESSAGES" / "monitor.po"
    with po.open("rb") as handle:
        catalog = read_po(handle)
    missing = [m.id for m in catalog if m.id and not (m.string if isinstance(m.string, str)
                                                       else all(m.string))]
    print(f"{len(missing)} message(s) without a French translation")
    for msgid in missing:
        print(f"  {msgid!r}")
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())

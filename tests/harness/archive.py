"""An export like X's "Download your archive", built at test time from the readable fixtures
in tests/fixtures/archive (zipped or extracted, old or new file names, split or not)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "archive"


def js_part(name: str, part: int, data: object) -> str:
    return f"window.YTD.{name}.part{part} = " + json.dumps(data, ensure_ascii=False, indent=2)


def make_archive(root: Path, *, zipped: bool = True, with_account: bool = True,
                 old_format: bool = False, split: bool = False) -> Path:
    """Build an export like X's "Download your archive" from the readable fixtures."""
    tweets = json.loads((FIXTURES / "tweets.json").read_text(encoding="utf-8"))
    if old_format:
        for item in tweets:
            item["tweet"].pop("edit_info", None)
    files: dict[str, str] = {}
    name = "tweet" if old_format else "tweets"
    if split:
        files[f"data/{name}.js"] = js_part(name, 0, tweets[:3])
        files[f"data/{name}-part1.js"] = js_part(name, 1, tweets[3:])
    else:
        files[f"data/{name}.js"] = js_part(name, 0, tweets)
    if with_account:
        files["data/account.js"] = js_part("account", 0, json.loads(
            (FIXTURES / "account.json").read_text(encoding="utf-8")))
    files["Your archive.html"] = "<html></html>"
    if zipped:
        path = root / "twitter-2026-10-03.zip"
        with zipfile.ZipFile(path, "w") as zf:
            for fname, content in files.items():
                zf.writestr(fname, content)
        return path
    folder = root / "archive"
    for fname, content in files.items():
        (folder / fname).parent.mkdir(parents=True, exist_ok=True)
        (folder / fname).write_text(content, encoding="utf-8")
    return folder

"""The inputs of scripts/fuzz.py: valid records, settings and moments, and the mutations that
make them hostile or careless (see its docstring). Pure generators: a seeded `random.Random`
in, files or strings out."""

from __future__ import annotations

import json
import random
import zipfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


class Raw:
    """JSON text spliced as is (what the json module would never write)."""

    def __init__(self, text: str) -> None:
        self.text = text


def dump(value: Any) -> str:
    if isinstance(value, Raw):
        return value.text
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(str(k))}: {dump(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(dump(v) for v in value) + "]"
    return json.dumps(value, ensure_ascii=False)


# -- hostile values ------------------------------------------------------------------------------

WEIRD_TEXT = ["", " ", "²", "٣٤", "@", "#", "x" * 300, "\u202egnp.exe", "\u2028", "\u2029", "\x85",
              "<script>alert(1)</script>", "=1+1", "\r=1+1", "\t", "😀", "e\u0301",
              "\ufeff", "\uffff", "RT @: x", "RT @brand: x", "https://x.com/a/status/²",
              "https://x.com/a/status/99999999999999999999", "https://x.com/a/status/0",
              "zh-cn", "und", "fr", "en", "-0", "0", "00012", "18446744073709551616",
              "9223372036854775807", "9223372036854775808", "1843000000000000001"]
WEIRD_DATES = ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59Z", "0001-01-01", "2026-02-30",
               "2026-10-01", "2026-10-01T08:00:00Z", "2026-10-01T08:00:00+25:00", "yesterday",
               "2006-03-20T23:59:59Z", "2006-03-21T00:00:00Z", "2026-12-02T11:00:00Z",
               "2026-12-03T13:00:00Z", "Wed Oct 01 08:30:00 +0000 2026",
               "Mon Jan 01 00:00:00 +1400 0001", "Fri Dec 31 23:59:59 -1400 9999",
               "Wed Oct 01 08:30:00 +0000 1999", "2026-W40-3", "20261001T080000Z"]


def weird_raw(rng: random.Random) -> Raw:
    """A hostile JSON value, as text."""
    kind = rng.randrange(14)
    if kind == 0:
        return Raw(rng.choice(["-", ""]) + "9" * rng.choice([20, 41, 400, 4301, 6000]))
    if kind == 1:
        depth = rng.choice([3, 70, 1000, 5000])
        return Raw("[" * depth + "]" * depth)
    if kind == 2:
        depth = rng.choice([3, 70, 3000])
        return Raw('{"a": ' * depth + "1" + "}" * depth)
    if kind == 3:
        return Raw(rng.choice(["1e400", "-1e400", "NaN", "Infinity", "-Infinity", "-0.0", "0.5",
                               "1.7976931348623157e308"]))
    if kind == 4:
        return Raw(rng.choice(['"\\ud800"', '"a\\udfffb"', '"\\u0000"', '"\\ud83d\\ude00"',
                               '"\\u202e"', '"\\u0007"', '"\\ud800\\ud800"']))
    if kind == 5:
        return Raw(rng.choice(["null", "true", "false", "[]", "{}", "[1]", '{"a": {}}', '[""]',
                               '["https://a.example"]', '[null]', '[{"url": 1}]']))
    if kind == 6:
        return Raw(json.dumps(rng.choice(WEIRD_DATES)))
    if kind == 7:
        return Raw(json.dumps(rng.choice(WEIRD_TEXT), ensure_ascii=rng.random() < 0.5))
    if kind == 8:
        return Raw(json.dumps("".join(chr(rng.randrange(1, 0x3000))
                                      for _ in range(rng.randrange(1, 40)))))
    if kind == 9:
        return Raw(str(rng.choice([0, -1, 1, 2**63 - 1, 2**63, 2**64, 10**30])))
    if kind == 10:
        return Raw(json.dumps("y" * rng.choice([17, 5000, 100_001])))
    if kind == 11:
        return Raw(json.dumps([rng.choice(WEIRD_TEXT) for _ in range(rng.choice([1, 3, 150]))]))
    if kind == 12:
        return Raw(json.dumps({"url": rng.choice(WEIRD_TEXT), "expanded_url":
                               rng.choice(WEIRD_TEXT)}))
    return Raw(json.dumps(rng.choice(["original", "reply", "retweet", "quote", "like", ""])))


def mutate_bytes(data: bytes, rng: random.Random) -> bytes:
    if not data:
        return b"\xff"
    kind = rng.randrange(6)
    i = rng.randrange(len(data))
    if kind == 0:
        return data[:i]  # truncated
    if kind == 1:
        return data[:i] + bytes([rng.randrange(256)]) + data[i + 1:]
    if kind == 2:
        return data[:i] + rng.choice([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x00", b"\r",
                                      b"\n", b"\xe2\x80\xa8", b"\xef\xbb\xbf", b"]", b"}",
                                      b'"', b","]) + data[i:]
    if kind == 3:
        j = min(len(data), i + rng.randrange(1, 40))
        return data[:i] + data[j:]
    if kind == 4:
        j = min(len(data), i + rng.randrange(1, 200))
        return data[:j] + data[i:j] + data[j:]
    return data.replace(b"\n", b"\r\n")


# -- valid seeds ---------------------------------------------------------------------------------

def jsonl_record(rng: random.Random, n: int) -> dict[str, Any]:
    at = NOW - timedelta(days=rng.randrange(400), seconds=rng.randrange(86400))
    record: dict[str, Any] = {
        "id": str(1843000000000000000 + n), "account": rng.choice(["claire_ml", "@brand", "ceo"]),
        "created_at": at.isoformat().replace("+00:00", rng.choice(["Z", "+00:00"])),
        "text": rng.choice(["Bonjour Limoges", "RT @brand: Lancement", "Look https://a.example",
                            "Réunion d'équipe \u2028 demain", ""]),
    }
    if rng.random() < 0.4:
        record["urls"] = ["https://maison-lumiere.example/" + str(n)]
    if rng.random() < 0.3:
        record["lang"] = rng.choice(["fr", "en", "und"])
    if rng.random() < 0.2:
        record.update(kind="reply", referenced_id=str(1842000000000000000 + n),
                      referenced_account="bob")
    return record


JSONL_FIELDS = ["id", "account", "created_at", "text", "kind", "referenced_id",
                "referenced_account", "urls", "media", "lang", "extra"]


def jsonl_input(rng: random.Random, folder: Path, case: int) -> Path:
    lines = []
    for n in range(rng.randrange(1, 4)):
        record: dict[str, Any] = dict(jsonl_record(rng, case * 10 + n))
        for _ in range(rng.choice([0, 0, 0, 1, 1, 2, 3])):
            key = rng.choice(JSONL_FIELDS)
            if rng.random() < 0.1:
                record.pop(key, None)
            else:
                record[key] = weird_raw(rng)
        lines.append(dump(record) if rng.random() < 0.9 else dump(weird_raw(rng)))
    data = ("\n".join(lines) + "\n").encode("utf-8", "surrogatepass")
    if rng.random() < 0.15:
        data = mutate_bytes(data, rng)
    path = folder / f"case{case}.jsonl"
    path.write_bytes(data)
    return path


def tweet(rng: random.Random, n: int) -> dict[str, Any]:
    at = NOW - timedelta(days=rng.randrange(400), seconds=rng.randrange(86400))
    tid = str(1843000000000000000 + n)
    item: dict[str, Any] = {
        "id_str": tid, "id": tid, "created_at": at.strftime("%a %b %d %H:%M:%S +0000 %Y"),
        "full_text": rng.choice(["Bonjour &amp; bienvenue https://t.co/abc", "RT @brand: news",
                                 "Réponse", ""]),
        "lang": rng.choice(["fr", "en", "und"]),
        "entities": {"urls": [{"url": "https://t.co/abc",
                               "expanded_url": "https://maison-lumiere.example/"}],
                     "hashtags": [{"text": "Limoges"}], "user_mentions": [{"screen_name": "bob"}]},
        "edit_info": {"initial": {"editTweetIds": [tid], "editableUntil": "2026-10-01"}},
    }
    if rng.random() < 0.2:
        item["in_reply_to_status_id_str"] = str(1842000000000000000 + n)
        item["in_reply_to_screen_name"] = "bob"
    return item


TWEET_PATHS = [("id_str",), ("id",), ("full_text",), ("created_at",), ("lang",), ("entities",),
               ("entities", "urls"), ("entities", "hashtags"), ("entities", "user_mentions"),
               ("entities", "media"), ("extended_entities",), ("edit_info",),
               ("edit_info", "initial"), ("edit_info", "initial", "editTweetIds"),
               ("edit_info", "edit"), ("in_reply_to_status_id_str",),
               ("in_reply_to_screen_name",)]


def _set(item: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    node: Any = item
    for key in path[:-1]:
        child = node.get(key) if isinstance(node, dict) else None
        if not isinstance(child, dict):
            child = {}
            node[key] = child
        node = child
    node[path[-1]] = value


def archive_input(rng: random.Random, folder: Path, case: int) -> tuple[Path, str | None]:
    root = folder / f"archive{case}"
    items = []
    for n in range(rng.randrange(1, 4)):
        item = tweet(rng, case * 10 + n)
        for _ in range(rng.choice([0, 0, 0, 1, 1, 2])):
            _set(item, rng.choice(TWEET_PATHS), weird_raw(rng))
        items.append(dump({"tweet": item}) if rng.random() < 0.93 else dump(weird_raw(rng)))
    text = "window.YTD.tweets.part0 = [\n" + ",\n".join(items) + "\n]"
    data = text.encode("utf-8", "surrogatepass")
    if rng.random() < 0.2:
        data = mutate_bytes(data, rng)
    account = None if rng.random() < 0.7 else rng.choice(
        ["claire_ml", "someone", "@claire_ml", "²", "a b", "x" * 60])
    files = {"data/tweets.js": data}
    if rng.random() < 0.8:
        name = dump(weird_raw(rng)) if rng.random() < 0.15 else '"claire_ml"'
        files["data/account.js"] = (f'window.YTD.account.part0 = [{{"account": {{"username": '
                                    f'{name}}}}}]').encode("utf-8", "surrogatepass")
    if rng.random() < 0.4:  # as the zip X sends
        path = folder / f"archive{case}.zip"
        with zipfile.ZipFile(path, "w") as zf:
            for name, content in files.items():
                zf.writestr(name, content)
        if rng.random() < 0.15:
            path.write_bytes(mutate_bytes(path.read_bytes(), rng))
        return path, account
    for name, content in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(content)
    return (root / "data" / "tweets.js" if rng.random() < 0.2 else root), account


CONFIG = """[database]
url = "sqlite:///fuzz.db"
[model]
name = "default"
[analysis]
lag_days = 3
reference_days = 90
[schedule]
timezone = "Europe/Paris"
ingest_every = "30m"
digest_at = "08:00"
[x]
api_base_url = "https://api.x.com"
timeout_s = 30
monthly_read_cap = 100000
[email]
smtp_port = 587
recipients = ["comms@example.com"]
[alerts]
threshold = 0.3
repeat_interval = "24h"
min_posts = 5
[[pairs]]
name = "maison-lumiere"
executive = ["claire_ml"]
corporate = ["MaisonLumiere"]
lag_days = 2
"""
TOML_VALUES = ["inf", "nan", "-inf", "9" * 30, "9" * 5000, "-1", "0", "1e400", "true", '""',
               '"1e400s"', '"99999999999d"', '"infm"', '"nanh"', '"-5m"', '"²d"', '"30"', "[]",
               '["²"]', '"sqlite:///"', '"sqlite://"', '"sqlite:///:memory:"', '"mysql://u@h/d"',
               '"postgresql+nodriver://u@h/d"', '"not a url"', '"ftp://x"', '"http://h:99999"',
               '"no-such/model"', '"use-multilingual"', '"25:00"', '"Europe/Pariss"', "30",
               '"a@b\\nBcc: c@d"', '"\\u202e"', "{a = 1}", "[" * 50 + "]" * 50,
               "[" * 3000 + "]" * 3000, '"' + "x" * 3000 + '"', '"claire ml"', "0.3", "100",
               '"\\ud800"', "1979-05-27T07:32:00Z"]


def config_input(rng: random.Random, folder: Path, case: int) -> Path:
    lines = CONFIG.splitlines()
    for _ in range(rng.choice([0, 1, 1, 1, 2, 3])):
        i = rng.randrange(len(lines))
        line = lines[i]
        if "=" in line and rng.random() < 0.75:
            key = line.split("=", 1)[0].strip()
            if rng.random() < 0.2:  # a misspelt key
                j = rng.randrange(len(key))
                key = key[:j] + key[j + 1:] if len(key) > 2 else key + "x"
            lines[i] = f"{key} = {rng.choice(TOML_VALUES)}"
        elif rng.random() < 0.5:
            lines.insert(i, rng.choice(["[shedule]", "[[pairs]]", "deep = " + "{a = " * 2000,
                                        "x = 1", "[x]", "name = 1", "executive = []"]))
        else:
            del lines[i]
    data = ("\n".join(lines) + "\n").encode("utf-8", "surrogatepass")
    if rng.random() < 0.2:
        data = mutate_bytes(data, rng)
    sub = folder / f"config{case}"
    sub.mkdir()
    path = sub / "monitor.toml"
    path.write_bytes(data)
    if rng.random() < 0.2:  # a .env beside it; only FUZZ_ keys, restored after each case
        env = b"FUZZ_A=1\nFUZZ_B='two'\n"
        (sub / ".env").write_bytes(mutate_bytes(env, rng) if rng.random() < 0.7 else env)
    return path


NUMBERS = ["", "0", "1", "30", "1.5", ".5", "5.", "1e400", "99999999999", "36500", "36501",
           "9" * 20, "9" * 500, "inf", "nan", "-5", "+5", "١٢", "²", "0x10", "1_000", " 7 "]
UNITS = ["s", "m", "h", "d", "w", "S", "W", "y", "x", "", " d", "mo"]


def moment_text(rng: random.Random) -> str:
    kind = rng.randrange(4)
    if kind == 0:
        return rng.choice(NUMBERS) + rng.choice(UNITS)
    if kind == 1:
        day = (f"{rng.choice([0, 1, 1899, 1900, 2006, 2026, 2999, 3000, 9999]):04d}-"
               f"{rng.randrange(0, 14):02d}-{rng.randrange(0, 33):02d}")
        if rng.random() < 0.5:
            day += (f"T{rng.randrange(0, 26):02d}:{rng.randrange(0, 61):02d}"
                    + rng.choice(["", ":00", ":59.999999"])
                    + rng.choice(["", "Z", "z", "+14:00", "-14:00", "+25:00", "+02:00"]))
        return day
    if kind == 2:
        return "".join(chr(rng.randrange(1, 0x2100)) for _ in range(rng.randrange(0, 12)))
    return rng.choice(["yesterday", "today", "now", "", " ", "7d ago", "2026-W01", "--5d",
                       "1" * 5000 + "d", "2026-10-01T08:00:00+14:00", "2026-02-30"])

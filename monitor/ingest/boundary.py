"""Validation of every imported field, once, where data enters (JSONL, archive, X answers).

Each check takes the raw value and the field's name, and returns the clean value or raises
`FieldError` naming the field and what is wrong; the readers add the file and the line. What
passes is within `monitor.limits`: ids of ASCII digits that fit 64 bits, usernames X allows,
dates between X's launch and tomorrow, texts of valid Unicode (no lone surrogate, no NUL),
bounded lengths and counts. Nothing past this point can raise ValueError, OverflowError or
UnicodeEncodeError in the store, the analysis or a report.

`loads` parses JSON with the same care: numbers longer than any id, NaN/Infinity, and nesting
deeper than a post ever has are refused instead of raising ValueError or RecursionError.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from monitor.limits import (
    MAX_EDIT_VERSIONS,
    MAX_ID,
    MAX_ID_DIGITS,
    MAX_INT_DIGITS,
    MAX_JSON_DEPTH,
    MAX_LANG_CHARS,
    MAX_LIST_ITEMS,
    MAX_TEXT_CHARS,
    MAX_URL_CHARS,
    MAX_USERNAME_CHARS,
    post_time_problem,
)

_DIGITS = re.compile(r"[0-9]+", re.ASCII)
_USERNAME = re.compile(rf"[A-Za-z0-9_]{{1,{MAX_USERNAME_CHARS}}}", re.ASCII)
_LANG = re.compile(r"[A-Za-z]{2,8}(?:[-_][A-Za-z0-9]{1,8}){0,3}", re.ASCII)
# Lone surrogates (json.loads turns "\ud800" into one; UTF-8 cannot encode it), NUL (PostgreSQL
# text cannot hold it) and the C0 controls X never puts in a post (tab, LF and CR it does).
BAD_CHAR = re.compile(r"[\ud800-\udfff\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_URL_BAD = re.compile(r"[\s\ud800-\udfff\x00-\x1f\x7f]")


class FieldError(ValueError):
    """One field of one record is wrong; `field` is its dotted name (entities.urls[0])."""

    def __init__(self, field: str, problem: str) -> None:
        self.field = field
        self.problem = problem
        super().__init__(f"{field}: {problem}")


class JsonProblem(ValueError):
    """JSON that parses in principle but is refused (huge number, NaN, deep nesting)."""


def _type(value: Any) -> str:
    return {bool: "true/false", int: "a number", float: "a number", str: "text",
            list: "a list", dict: "an object", type(None): "null"}.get(type(value),
                                                                      type(value).__name__)


# -- JSON -----------------------------------------------------------------------------------------

def _int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise JsonProblem(f"a number with {len(text.lstrip('-')):,} digits (no field of a post "
                          f"has more than {MAX_INT_DIGITS})")
    return int(text)


def _constant(name: str) -> float:
    raise JsonProblem(f"{name} is not a JSON value")


def _float(text: str) -> float:
    if len(text) > 100:
        raise JsonProblem(f"a number written with {len(text):,} characters")
    return float(text)


DECODER = json.JSONDecoder(parse_int=_int, parse_constant=_constant, parse_float=_float)


def loads(text: str) -> Any:
    """json.loads with bounds; raises json.JSONDecodeError or JsonProblem."""
    try:
        value = DECODER.decode(text)
    except RecursionError:
        raise JsonProblem("nested too deeply to be a post") from None
    check_depth(value)
    return value


def raw_decode(text: str, index: int) -> tuple[Any, int]:
    """One JSON value starting at `index` (after whitespace): (value, end index)."""
    try:
        value, end = DECODER.raw_decode(text, index)
    except RecursionError:
        raise JsonProblem("nested too deeply to be a post") from None
    check_depth(value)
    return value, end


def check_depth(value: Any, limit: int = MAX_JSON_DEPTH) -> None:
    """Refuse values nested deeper than `limit` (iteratively: no recursion to exhaust)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children: Any = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        if depth > limit:
            raise JsonProblem(f"nested more than {limit} levels deep (a post has a few)")
        stack.extend((child, depth + 1) for child in children)


# -- fields ---------------------------------------------------------------------------------------

def post_id(value: Any, field: str) -> str:
    """A post id: ASCII digits (or a JSON integer) that fit X's 64-bit ids; canonical form."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise FieldError(field, f"must be the post's numeric id, not {_type(value)}")
    text = str(value).strip()
    if not _DIGITS.fullmatch(text):
        raise FieldError(field, f"{_clip(text)!r} is not a numeric post id (ASCII digits only)")
    if len(text.lstrip("0")) > MAX_ID_DIGITS or not 0 < int(text) <= MAX_ID:
        raise FieldError(field, f"{_clip(text)!r} is not a post id X can have (1 to "
                                f"{MAX_ID_DIGITS} digits, below 2^63)")
    return str(int(text))


def optional_id(value: Any, field: str) -> str | None:
    return None if value in (None, "") else post_id(value, field)


def username(value: Any, field: str) -> str:
    """An X username, with or without its @."""
    if not isinstance(value, str):
        raise FieldError(field, f"must be an X username as text, not {_type(value)}")
    name = value.strip().removeprefix("@")
    if not _USERNAME.fullmatch(name):
        raise FieldError(field, f"{_clip(name)!r} is not an X username (1 to "
                                f"{MAX_USERNAME_CHARS} ASCII letters, digits and _)")
    return name


def optional_username(value: Any, field: str) -> str | None:
    return None if value in (None, "") else username(value, field)


def chars(value: str, field: str) -> str:
    """Refuse characters no post holds and no store can keep."""
    bad = BAD_CHAR.search(value)
    if bad:
        code = ord(bad.group())
        kind = "a lone surrogate (half of a broken emoji?)" if 0xD800 <= code <= 0xDFFF else \
            "a NUL character" if code == 0 else "a control character"
        raise FieldError(field, f"holds {kind} U+{code:04X} at character {bad.start() + 1}; "
                                "re-export the file as UTF-8")
    return value


def text(value: Any, field: str, *, limit: int = MAX_TEXT_CHARS) -> str:
    """A post text (may be empty: the caller decides whether that is allowed)."""
    if not isinstance(value, str):
        raise FieldError(field, f"must be text, not {_type(value)}")
    if len(value) > limit:
        raise FieldError(field, f"is {len(value):,} characters long, more than any post (at "
                                f"most {limit:,})")
    return chars(value, field)


def lang(value: Any, field: str) -> str | None:
    """A language tag as X writes them ("fr", "en", "und", "zh-cn"); empty means unknown."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise FieldError(field, f"must be a language code such as 'fr' or 'en', not "
                                f"{_type(value)}")
    if len(value) > MAX_LANG_CHARS or not _LANG.fullmatch(value):
        raise FieldError(field, f"{_clip(value)!r} is not a language code such as 'fr', 'en' "
                                f"or 'und' (letters, at most {MAX_LANG_CHARS} characters)")
    return value


def url(value: Any, field: str) -> str:
    if not isinstance(value, str):
        raise FieldError(field, f"must be a URL as text, not {_type(value)}")
    if not value or len(value) > MAX_URL_CHARS or _URL_BAD.search(value):
        raise FieldError(field, f"{_clip(value)!r} is not a URL (at most {MAX_URL_CHARS:,} "
                                "characters, no space or control character)")
    return value


def tag(value: Any, field: str) -> str:
    """A hashtag or a mentioned username as an entity carries it."""
    if not isinstance(value, str) or not value or len(value) > 280:
        raise FieldError(field, f"must be a short text, not {_type(value)}")
    return chars(value, field)


def moment(value: datetime, field: str, now: datetime | None) -> datetime:
    problem = post_time_problem(value, now)
    if problem:
        raise FieldError(field, problem + "; fix the date or leave the post out")
    return value


def parse_date(value: Any, field: str, parser: Callable[[str], datetime], example: str,
               now: datetime | None) -> datetime:
    """A date as text, parsed by `parser`, within the range of post dates."""
    if not isinstance(value, str):
        raise FieldError(field, f"must be a date as text ({example}), not {_type(value)}")
    if len(value) > 64:
        raise FieldError(field, f"{_clip(value)!r} is not a date ({example})")
    try:
        parsed = parser(value)
    except (ValueError, OverflowError):
        raise FieldError(field, f"{_clip(value)!r} is not a date ({example})") from None
    # Years far from ours cannot always be compared in UTC (0001-01-01T00:00+14:00): check the
    # year first, then the exact range.
    if parsed.year < 1900:
        raise FieldError(field, f"{_clip(value)!r} is before X existed (posts start on "
                                "2006-03-21); fix the date or leave the post out")
    if parsed.year > 2999:
        raise FieldError(field, f"{_clip(value)!r} is more than a day in the future; fix the "
                                "date or leave the post out")
    return moment(parsed, field, now)


def obj(value: Any, field: str) -> Mapping[str, Any]:
    """An optional JSON object (absent or null: empty)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise FieldError(field, f"must be an object, not {_type(value)}")
    return value


def array(value: Any, field: str, *, limit: int = MAX_LIST_ITEMS) -> list[Any]:
    """An optional JSON list (absent or null: empty) of at most `limit` items."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise FieldError(field, f"must be a list, not {_type(value)}")
    if len(value) > limit:
        raise FieldError(field, f"has {len(value):,} items, more than a post carries (at most "
                                f"{limit})")
    return value


def id_list(value: Any, field: str) -> tuple[str, ...]:
    return tuple(post_id(v, f"{field}[{i}]")
                 for i, v in enumerate(array(value, field, limit=MAX_EDIT_VERSIONS)))


def _clip(value: str, size: int = 40) -> str:
    return value if len(value) <= size else value[:size] + "…"

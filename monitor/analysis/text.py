"""Text preparation shared by the embedding and lexical signals (pure)."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_RT = re.compile(r"^RT @\w+:\s*")
_URL = re.compile(r"https?://\S+|\bwww\.\S+")
_MENTION = re.compile(r"@\w+")
_WORD = re.compile(r"[^\W\d_]{3,}", re.UNICODE)
_SPACES = re.compile(r"\s+")
_COMBINING = re.compile("[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]")
_NON_WORD = re.compile(r"[\W_]+")

# Function words of French and English: they make every pair of posts look alike.
STOPWORDS = frozenset("""
the and for are but not you all any can had her was one our out day get has him his how its may
new now old see two who did yes this that with from have they will your what when were been
their there then than them into more some such only also just very about after before would
could should these those which while where being over under again here each other most much les
des une est pas pour que qui dans sur avec par plus mais ont son ses sont cette ces aux leur
leurs nous vous ils elles elle lui tout tous toute toutes fait faire comme bien aussi encore
deux trois ans entre chez sans sous très être avoir été était sera avons avez donc car notre
nos votre vos mon mes ton tes moi toi même quand dont ceux celle celui ici quoi
""".split())  # noqa: SIM905 (a word list reads best as text)


def embedding_text(text: str) -> str:
    """What the encoder sees: no retweet prefix, no URLs, single spaces."""
    text = _RT.sub("", text)
    text = _URL.sub(" ", text)
    return _SPACES.sub(" ", text).strip()


def fold(text: str) -> str:
    """Lowercase without accents, for lexical comparison across spellings."""
    # Regexes run in C: several times faster than a Python loop over every character.
    return _COMBINING.sub("", unicodedata.normalize("NFKD", text.casefold()))


@lru_cache(maxsize=65536)  # each post is compared several times (shingles, shared terms)
def lexical_text(text: str) -> str:
    """Folded text without prefix, URLs and mentions, punctuation turned into spaces."""
    text = _MENTION.sub(" ", _URL.sub(" ", _RT.sub("", text)))
    return _SPACES.sub(" ", _NON_WORD.sub(" ", fold(text))).strip()


def terms(text: str) -> list[str]:
    """Content words (folded, 3+ letters, no stopwords), in order, without repeats."""
    words = _WORD.findall(lexical_text(text))
    return list(dict.fromkeys(w for w in words if w not in STOPWORDS))

"""Which languages a pair writes in, and so which encoder serves it (pure).

The bundled all-MiniLM-L6-v2 is an English model: on French posts its similarities measure the
language more than the message, and it cannot see a translation as the same message. The
multilingual encoder can. With `[model] name = "auto"` (the default) each pair gets MiniLM only
when it writes in English, the multilingual encoder otherwise, and every report says why.

X gives each post a `lang`; when it is missing (old archives, other tools' JSONL) a small
function-word vote guesses French or English. Other languages count as "not English".
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

# A pair is served by the English model when at least this share of its judged posts is English.
ENGLISH_SHARE = 0.9

_WORD = re.compile(r"[a-zàâäçéèêëîïôöùûüœ']+")
_FR = frozenset("""le la les des une est pas pour que qui dans sur avec par plus mais ont sont
cette ces aux leur nous vous ils elles très être avoir était sera notre nos votre vos je tu il
elle on du au et où ça c'est j'ai qu'il d'un d'une l'on n'est""".split())  # noqa: SIM905
_EN = frozenset("""the and for are but not you all was our out has have this that with from they
will your what when were been their there than them into some would could should these those
which while where being over is it's i'm we're don't can't of to in on my me we he she""".split())  # noqa: SIM905


def guess_language(text: str, lang: str | None = None) -> str | None:
    """'en', 'fr', another ISO code from X, or None when the text says too little to tell."""
    if lang and lang not in ("und", "zxx", "qme", "qht", "qam", "art"):
        return lang.lower().split("-")[0]
    words = _WORD.findall(text.lower())
    fr = sum(w in _FR for w in words) + sum(ch in "àâçéèêëîïôûœ" for ch in text.lower()) * 0.5
    en = sum(w in _EN for w in words)
    if fr + en < 2:
        return None
    return "fr" if fr > en else "en"


@dataclass(frozen=True)
class LanguageMix:
    """Shares of the languages of a pair's posts (posts whose language could be told)."""

    counts: dict[str, int]

    @property
    def judged(self) -> int:
        return sum(self.counts.values())

    def share(self, lang: str) -> float:
        return self.counts.get(lang, 0) / self.judged if self.judged else 0.0

    def describe(self) -> str:
        if not self.judged:
            return "no post whose language could be told"
        top = Counter(self.counts).most_common(3)
        return ", ".join(f"{self.counts[k] / self.judged:.0%} {k}" for k, _ in top)


def language_mix(posts: Iterable[tuple[str, str | None]]) -> LanguageMix:
    """From (text, X's lang or None) pairs."""
    counts: Counter[str] = Counter()
    for text, lang in posts:
        guessed = guess_language(text, lang)
        if guessed:
            counts[guessed] += 1
    return LanguageMix(dict(counts))


def serves_english_only(mix: LanguageMix) -> bool:
    """True when the English model serves this pair (an empty mix is not English: the first
    users are French, and the multilingual encoder is also fine for English)."""
    return mix.judged > 0 and mix.share("en") >= ENGLISH_SHARE

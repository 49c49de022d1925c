"""Lexical similarity: catches near-verbatim copies and short posts where embeddings are weak.

Character 5-gram shingles of the folded text, compared by the overlap coefficient
|A ∩ B| / min(|A|, |B|): a post that pastes a corporate sentence scores high even when it adds
a line of its own. Pure Python on the few candidate pairs the embeddings propose.
"""

from __future__ import annotations

from functools import lru_cache

from monitor.analysis.text import lexical_text, terms

SHINGLE = 5
# Below this many shingles (about 24 letters) on either side, text overlap means nothing:
# "Exactly" is contained in "@a @b Exactly", "Bravo !" in any post that says bravo. Such pairs
# score 0: a near-copy needs enough text on both sides.
MIN_SHINGLES = 20


@lru_cache(maxsize=65536)  # a corporate post meets many executive posts: shingle it once
def shingles(text: str, n: int = SHINGLE) -> frozenset[str]:
    folded = lexical_text(text)
    if len(folded) < n:
        return frozenset({folded}) if folded else frozenset()
    return frozenset(folded[i:i + n] for i in range(len(folded) - n + 1))


def overlap_coefficient(a: frozenset[str], b: frozenset[str]) -> float:
    if min(len(a), len(b)) < MIN_SHINGLES:
        return 0.0
    return len(a & b) / min(len(a), len(b))


def lexical_similarity(text_a: str, text_b: str) -> float:
    return overlap_coefficient(shingles(text_a), shingles(text_b))


def shared_terms(text_a: str, text_b: str, limit: int = 8) -> tuple[str, ...]:
    """Content words the two posts have in common, in the first post's order."""
    other = set(terms(text_b))
    return tuple(t for t in terms(text_a) if t in other)[:limit]

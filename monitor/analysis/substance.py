"""How much a post says of its own (pure).

Real timelines are mostly "Yes", "Exactly 👍", a bare link or an emoji. Embeddings of such posts
are near each other whatever they answer ("Yes" and "Definitely https://t.co/..." score 0.55 to
0.74), and two link-only posts are identical once the link is removed. So before any similarity
is trusted, each post gets a **substance**: the number of content words it says itself, once the
retweet prefix, links, mentions, emoji, stopwords and conversational filler ("yes", "merci",
"exactement", "thread") are gone. Below `MIN_SUBSTANCE` a post is judged by its references and
links only, never by similarity.
"""

from __future__ import annotations

import re
from functools import lru_cache

from monitor.analysis.text import STOPWORDS, fold

MIN_SUBSTANCE = 3

_RT = re.compile(r"^RT @\w+:\s*")
_URL = re.compile(r"https?://\S+|\bwww\.\S+|\b\w[\w.-]*\.(?:com|fr|org|net|io|co|eu)/\S*")
_MENTION = re.compile(r"@\w+")
_TOKEN = re.compile(r"[^\W\d_]+|\d+", re.UNICODE)

# Words that carry no message of their own: agreement, thanks, laughter, thread markers, the
# glue of replies. French and English, folded (lowercase, no accents).
FILLER = frozenset("""
yes yeah yep yup nope oui ouais non nan ok exactly exactement definitely indeed agreed agree
true false right wrong sure absolutely totally thanks thank thx merci bravo congrats
congratulations felicitations super top great nice cool wow amazing awesome haha hahaha lol mdr
ptdr hmm hmmm ouf oups oops good bien vrai faux carrement tellement grave trop voila voici okay
ohh ahah ahaha hihi interesting interessant incroyable genial excellent parfait perfect lovely
love adore thread fil suite via link lien here ici voir see read lire more watch regardez this
cela today aujourd hui tonight demain tomorrow yesterday hier thing chose things choses much
many please stp svp well done bonne bon bonjour hello hey salut coucou soir matin morning
evening
""".split())  # noqa: SIM905 (a word list reads best as text)


@lru_cache(maxsize=65536)
def content_words(text: str) -> tuple[str, ...]:
    """The words a post says itself, folded, in order, without repeats."""
    body = _MENTION.sub(" ", _URL.sub(" ", _RT.sub("", text)))
    out: dict[str, None] = {}
    for token in _TOKEN.findall(fold(body)):
        if token.isdigit():
            if len(token) >= 2:  # "300 emplois", "2026": figures are facts; "1/3" is not
                out[token] = None
        elif len(token) >= 3 and token not in STOPWORDS and token not in FILLER:
            out[token] = None
    return tuple(out)


def substance(text: str) -> int:
    """How many content words the post says of its own (0 for a bare link or an emoji)."""
    return len(content_words(text))


def too_little(text: str, minimum: int = MIN_SUBSTANCE) -> bool:
    return substance(text) < minimum

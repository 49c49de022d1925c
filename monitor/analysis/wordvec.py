"""Shared rare words, as vectors (pure).

Two posts about the same specific thing often share its rare words ("V3", "2pm", "Solar Roof",
"Pélussin") even when an embedding, which reads for gist, sees only the theme. Each post gets a
hashed bag of its content words weighted by inverse document frequency over the posts at hand
(common words such as the brand's name weigh little), L2-normalised, so the dot product of two
posts is the cosine of their IDF-weighted words, computed with one matrix product like the
embeddings. Hashing into a fixed width keeps it dense and vectorised; the rare collisions only
add a little noise that the per-post chance level absorbs.
"""

from __future__ import annotations

import math
import re
import zlib
from collections import Counter
from collections.abc import Sequence

import numpy as np

from monitor.analysis.substance import FILLER
from monitor.analysis.text import STOPWORDS, fold

WIDTH = 2048
_RT = re.compile(r"^RT @\w+:\s*")
_URL = re.compile(r"https?://\S+|\bwww\.\S+")
_MENTION = re.compile(r"@\w+")
_TOKEN = re.compile(r"[^\W_]+", re.UNICODE)


def word_keys(text: str) -> frozenset[str]:
    """Folded words and figures of two characters or more ("v3", "2pm", "150"), without
    stopwords or filler; a final plural s is dropped so "tile" meets "tiles"."""
    body = _MENTION.sub(" ", _URL.sub(" ", _RT.sub("", text)))
    out = set()
    for token in _TOKEN.findall(fold(body)):
        if len(token) < 2 or token in STOPWORDS or token in FILLER:
            continue
        if len(token) > 3 and token.endswith("s") and not token.isdigit():
            token = token[:-1]
        out.add(token)
    return frozenset(out)


def word_vectors(texts: Sequence[str], *, width: int = WIDTH) -> np.ndarray:
    """(len(texts), width) float32 unit rows (zero rows for posts without words)."""
    docs = [word_keys(t) for t in texts]
    df = Counter(w for d in docs for w in d)
    n = len(docs)
    # Each distinct word hashed and weighted once; the cells filled in one scatter (two words
    # of a post may share a bucket: their weights are summed first, in float64).
    column = {w: zlib.crc32(w.encode()) % width for w in df}
    weight = {w: math.log((1 + n) / (1 + c)) + 1.0 for w, c in df.items()}
    rows = np.repeat(np.arange(n, dtype=np.int64), [len(d) for d in docs])
    cols = np.fromiter((column[w] for d in docs for w in d), dtype=np.int64, count=len(rows))
    vals = np.fromiter((weight[w] for d in docs for w in d), dtype=np.float64,
                       count=len(rows))
    cells, where = np.unique(rows * width + cols, return_inverse=True)
    out = np.zeros((n, width), dtype=np.float32)
    out.ravel()[cells] = np.bincount(where, weights=vals, minlength=len(cells))
    norms = np.linalg.norm(out, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return out / norms

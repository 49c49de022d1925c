"""Neutralising bidirectional controls in text shown to people: the one place that does it.

Post texts are untrusted. The Unicode embedding, override and isolate controls (U+202A-U+202E,
U+2066-U+2069) reorder everything after them up to the end of a paragraph, so a post holding
U+202E (RIGHT-TO-LEFT OVERRIDE) reads backwards in a report, and can make the text beside it
(an account name, a similarity, a link) read wrong too ("Trojan Source"). Every human-facing
output (HTML reports, the dashboard, the digest email, Markdown, CSV, the terminal) passes post
text through `neutralise`, which replaces each such control with a visible marker, `‹U+202E›`,
so a reader sees that one was there and nothing is reordered. The left-to-right, right-to-left
and Arabic letter marks (U+200E, U+200F, U+061C) are kept: they are what correct Arabic or
Hebrew text uses, and they reorder nothing beyond their neighbours.

JSON is for tools: the text stays exactly as stored once parsed, but `json_escape` writes those
controls as `\\u202e` escapes, so the raw file shown in an editor or a terminal is inert too.
"""

from __future__ import annotations

import re

#: Embeddings and overrides (LRE, RLE, PDF, LRO, RLO) and isolates (LRI, RLI, FSI, PDI).
CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


def marker(char: str) -> str:
    """The visible stand-in for one control: `‹U+202E›` (no character markup reads)."""
    return f"‹U+{ord(char):04X}›"


def neutralise(text: str) -> str:
    """`text` with every bidirectional control replaced by its visible marker."""
    if not CONTROLS.search(text):  # the common case costs one scan
        return text
    return CONTROLS.sub(lambda m: marker(m.group()), text)


def count(text: str) -> int:
    """How many bidirectional controls `text` holds."""
    return len(CONTROLS.findall(text))


def json_escape(serialised: str) -> str:
    """JSON text (from json.dumps(..., ensure_ascii=False)) with the controls written as
    \\u escapes: the same data once parsed, nothing reordered when the raw file is shown."""
    return CONTROLS.sub(lambda m: f"\\u{ord(m.group()):04x}", serialised)

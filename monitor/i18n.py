"""French and English for everything a person reads: messages, dates, numbers, class names.

Messages are written in English in the code and the templates (`_()`, `{% trans %}`) and
translated through a gettext catalogue, `monitor/locale/<lang>/LC_MESSAGES/monitor.po` (the
template of all messages is `monitor/locale/monitor.pot`, extracted with `pybabel extract -F
babel.cfg`). The `.po` sources are the only files shipped: they are compiled in memory by
Babel the first time a language is used, so a clean checkout, an editable install and a wheel
behave the same and no build step can be forgotten (compiling ~400 messages takes a few
milliseconds, once per process).

Dates and numbers are formatted by Babel for the language, in the one time zone of the
configuration (`[schedule] timezone`): "mardi 6 octobre 2026 à 08:00", "45 %". Machine outputs
(JSON, CSV, logs) do not come through here: they stay ISO-8601 with their offset.
"""

from __future__ import annotations

import functools
import gettext as _gettext
import io
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta, tzinfo
from importlib import resources
from typing import Any
from zoneinfo import ZoneInfo

from monitor.models import Family, PostClass, PostKind, family

LANGUAGES = ("fr", "en")
# The first users are French corporate-communication teams: French unless configured.
DEFAULT_LANGUAGE = "fr"

# Date patterns (CLDR syntax) per language: Babel knows the month and day names, these say
# which parts a reader expects.
_PATTERNS: dict[str, dict[str, str]] = {
    "fr": {"when": "d MMM y HH:mm", "when_long": "EEEE d MMMM y 'à' HH:mm",
           "day": "d MMM y", "day_long": "EEEE d MMMM y", "time": "HH:mm",
           "short_day": "d MMM"},
    "en": {"when": "d MMM y HH:mm", "when_long": "EEEE d MMMM y 'at' HH:mm",
           "day": "d MMM y", "day_long": "EEEE d MMMM y", "time": "HH:mm",
           "short_day": "d MMM"},
}


@functools.cache
def translations(code: str) -> _gettext.NullTranslations:
    """The compiled catalogue of a language (English is the source: no catalogue)."""
    if code not in LANGUAGES:
        raise ValueError(f"unknown language {code!r}: use one of {', '.join(LANGUAGES)}")
    if code == "en":
        return _gettext.NullTranslations()
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    source = resources.files("monitor") / "locale" / code / "LC_MESSAGES" / "monitor.po"
    with source.open("rb") as handle:
        catalog = read_po(handle, locale=code)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)  # fuzzy (unreviewed) entries are left out, as msgfmt does
    buffer.seek(0)
    return _gettext.GNUTranslations(buffer)


@dataclass(frozen=True)
class Lang:
    """A language and a time zone: how to say and show things to one reader."""

    code: str = DEFAULT_LANGUAGE
    tz: tzinfo = field(default=UTC)

    @classmethod
    def of(cls, code: str | None, zone: str | tzinfo | None) -> Lang:
        tz = ZoneInfo(zone) if isinstance(zone, str) else (zone or UTC)
        return cls(code or DEFAULT_LANGUAGE, tz)

    @property
    def zone_name(self) -> str:
        return str(getattr(self.tz, "key", None) or self.tz.tzname(None) or "UTC")

    # -- words -------------------------------------------------------------------------------

    def gettext(self, message: str) -> str:
        return translations(self.code).gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return translations(self.code).ngettext(singular, plural, n)

    def _(self, message: str, **values: Any) -> str:
        """A translated message, with %(name)s placeholders filled in."""
        text = self.gettext(message)
        return text % values if values else text

    def n_(self, singular: str, plural: str, n: int, **values: Any) -> str:
        return self.ngettext(singular, plural, n) % {"n": n, **values}

    # -- numbers -----------------------------------------------------------------------------

    def pct(self, value: float | None) -> str:
        if value is None:
            return "–"
        from babel.numbers import format_percent

        return str(format_percent(value, locale=self.code))  # "45 %", "45%"

    def num(self, value: float | None, digits: int = 2) -> str:
        if value is None:
            return "–"
        from babel.numbers import format_decimal

        return str(format_decimal(value, format="#,##0." + "0" * digits, locale=self.code))

    def integer(self, value: int) -> str:
        from babel.numbers import format_decimal

        return str(format_decimal(value, format="#,##0", locale=self.code))

    def points(self, delta: float) -> str:
        """A rate change in percentage points, signed: "+12 points"."""
        n = round(delta * 100)
        return self.n_("%(sign)s%(n)d point", "%(sign)s%(n)d points", abs(n),
                       sign="+" if n > 0 else "−" if n < 0 else "")

    # -- dates (all in the one time zone) ----------------------------------------------------

    def local(self, moment: datetime) -> datetime:
        aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
        return aware.astimezone(self.tz)

    def _fmt(self, value: datetime | date | None, kind: str) -> str:
        if value is None:
            return "–"
        from babel.dates import format_date, format_datetime

        pattern = _PATTERNS[self.code][kind]
        if isinstance(value, datetime):
            return str(format_datetime(self.local(value), pattern, locale=self.code))
        return str(format_date(value, pattern, locale=self.code))

    def when(self, moment: datetime | None) -> str:
        """A moment in a table: "6 oct. 2026 08:00" (local time)."""
        return self._fmt(moment, "when")

    def when_long(self, moment: datetime | None) -> str:
        """A moment in a sentence: "mardi 6 octobre 2026 à 08:00"."""
        return self._fmt(moment, "when_long")

    def when_zoned(self, moment: datetime | None) -> str:
        """A moment on a line of its own (alerts, silences): with the zone's name."""
        return "–" if moment is None else f"{self.when(moment)} ({self.zone_name})"

    def day(self, value: date | datetime | None) -> str:
        return self._fmt(value, "day")

    def day_long(self, value: date | datetime | None) -> str:
        return self._fmt(value, "day_long")

    def short_day(self, value: date | datetime | None) -> str:
        return self._fmt(value, "short_day")

    def time(self, moment: datetime | None) -> str:
        return self._fmt(moment, "time")

    def age(self, delta: timedelta) -> str:
        """How long ago, in words: "17 days", "3 hours", "12 minutes"."""
        seconds = max(delta.total_seconds(), 0)
        if seconds >= 2 * 86400:
            return self.n_("%(n)d day", "%(n)d days", int(seconds // 86400))
        if seconds >= 2 * 3600:
            return self.n_("%(n)d hour", "%(n)d hours", int(seconds // 3600))
        return self.n_("%(n)d minute", "%(n)d minutes", int(seconds // 60))

    # -- the vocabulary ----------------------------------------------------------------------

    def class_label(self, post_class: PostClass | str) -> str:
        return self.gettext(CLASS_LABELS[PostClass(post_class)])

    def family_label(self, fam: Family | str) -> str:
        return self.gettext(FAMILY_LABELS[Family(fam)])

    def kind_label(self, kind: str) -> str:
        return self.gettext(KIND_LABELS.get(kind, kind))

    def topic(self, name: str | None) -> str:
        """An off-limits topic: the default topics are translated, configured ones kept."""
        if not name:
            return self.gettext("off-limits topic")
        return self.gettext(TOPIC_LABELS[name]) if name in TOPIC_LABELS else name

    def status_label(self, status: str | None) -> str:
        return self.gettext(STATUS_LABELS.get(status or "", status or "–"))

    def drift_label(self, status: str | None) -> str:
        return self.gettext(DRIFT_LABELS.get(status or "unknown", status or "unknown"))


def N_(message: str) -> str:
    """Marks a message for extraction; translated where it is shown."""
    return message


CLASS_LABELS: dict[PostClass, str] = {
    PostClass.ECHO: N_("echo"),
    PostClass.OVERLAP: N_("overlap"),
    PostClass.RECYCLED: N_("recycled"),
    PostClass.AMPLIFIED: N_("amplified"),
    PostClass.OFF_LIMITS: N_("off-limits"),
    PostClass.OFF_LINE: N_("off-line"),
    PostClass.CONVERSATION: N_("conversation"),
    PostClass.COMPLEMENTARY: N_("complementary"),
}
FAMILY_LABELS: dict[Family, str] = {
    Family.RISK: N_("risk"),
    Family.REDUNDANCY: N_("redundancy"),
    Family.UNUSUAL: N_("unusual"),
    Family.OWN_VOICE: N_("own voice"),
}
KIND_LABELS: dict[str, str] = {
    "own": N_("own posts"),
    "retweet": N_("retweets"),
    "quote": N_("bare quotes"),
    "quote-comment": N_("quotes with a comment"),
    "reply": N_("replies to others"),
    "thread": N_("replies in own threads"),
}
TOPIC_LABELS: dict[str, str] = {
    "party politics": N_("politics"),
    "polemics": N_("polemics"),
}
STATUS_LABELS: dict[str, str] = {
    "inactive": N_("not firing"),
    "pending": N_("pending"),
    "firing": N_("firing"),
    "repeat": N_("still firing"),
    "resolved": N_("resolved"),
    "cleared": N_("cleared"),
    "risk": N_("sensitive post"),
}
DRIFT_LABELS: dict[str, str] = {
    "drift": N_("drift"),
    "stable": N_("stable"),
    "insufficient data": N_("insufficient data"),
    "unknown": N_("unknown"),
    "no posts": N_("no posts in the window"),
}
SEVERITY_LABELS = (N_("critical"), N_("warning"), N_("info"))
# Badge order and colours: risk first, then redundancy, unusual, own voice.
FAMILY_ORDER = (Family.RISK, Family.REDUNDANCY, Family.UNUSUAL, Family.OWN_VOICE)
CLASS_ORDER = tuple(sorted(PostClass, key=lambda c: (FAMILY_ORDER.index(family(c)),
                                                     list(PostClass).index(c))))
FAMILY_CSS = {Family.RISK: "fam-risk", Family.REDUNDANCY: "fam-redundancy",
              Family.UNUSUAL: "fam-unusual", Family.OWN_VOICE: "fam-own"}
FAMILY_COLOURS = {Family.RISK: "#8b0000", Family.REDUNDANCY: "#d35400",
                  Family.UNUSUAL: "#6c3483", Family.OWN_VOICE: "#1e8449"}
# The kinds of the voice path, in reading order.
VOICE_KINDS = ("own", "retweet", "quote", "quote-comment", "reply", "thread")
assert {k.value for k in PostKind} <= {"original", *VOICE_KINDS}

"""Why a post got its class, in the reader's language, from the finding's fields.

The analysis writes its reason in English; a French reader gets the same explanation rebuilt
from the structured fields (class, subkind, the matched post, similarity, days apart, topic), so
no free text needs translating. English readers keep the analysis' own words.
"""

from __future__ import annotations

from dataclasses import replace

from monitor.i18n import Lang
from monitor.models import Finding, Post, PostClass, PostKind


def current_class(finding: Finding) -> Finding:
    """A finding in today's classes: analyses stored before the off-limits class existed
    marked a post close to an off-limits topic as off-line with its topic; it is a risk."""
    if finding.post_class is PostClass.OFF_LINE and finding.offlimits_topic:
        return replace(finding, post_class=PostClass.OFF_LIMITS)
    return finding


def days_apart(finding: Finding, post: Post | None, nearest: Post | None) -> float | None:
    """Signed days from the matched corporate post to this post (negative: the executive
    posted first): the analysis' figure, else the two posts' dates."""
    if finding.days_apart is not None:
        return finding.days_apart
    if post is None or nearest is None:
        return None
    return (post.created_at - nearest.created_at).total_seconds() / 86400.0


def subkind(finding: Finding, post: Post | None) -> str | None:
    """The relation a class rests on: the analysis' subkind, else what the post says."""
    if finding.subkind:
        return finding.subkind
    if finding.post_class is PostClass.ECHO and post is not None:
        if post.kind is PostKind.RETWEET:
            return "retweet"
        if post.kind is PostKind.QUOTE:
            return "quote"
        return "link"
    return None


def _apart(lang: Lang, days: float | None) -> str:
    if days is None:
        return ""
    n = round(abs(days))
    if n == 0:
        return lang._("the same day")
    if days < 0:
        return lang.n_("%(n)d day before the brand", "%(n)d days before the brand", n)
    return lang.n_("%(n)d day after the brand", "%(n)d days after the brand", n)


def reason(finding: Finding, lang: Lang, post: Post | None = None,
           nearest: Post | None = None) -> str:
    """The reason of a finding for a reader of `lang`."""
    if lang.code == "en" and finding.reason:
        return finding.reason
    f = finding
    account = f"@{f.nearest_account}" if f.nearest_account else lang._("the brand")
    sim = lang.num(f.similarity) if f.similarity is not None else None
    cls = f.post_class
    kind = subkind(f, post)
    if cls is PostClass.ECHO:
        if kind == "retweet":
            return lang._("retweet of a %(account)s post", account=account)
        if kind == "quote":
            return lang._("quote of a %(account)s post, without a comment", account=account)
        return lang._("shares a link that %(account)s shared first", account=account)
    if cls in (PostClass.OVERLAP, PostClass.RECYCLED):
        how = {"near-copy": lang._("near-copy"), "translation": lang._("translation")}.get(
            kind or "", lang._("paraphrase"))
        text = lang._("%(how)s of a %(account)s post", how=how, account=account)
        details = [d for d in (lang._("similarity %(sim)s", sim=sim) if sim else "",
                               _apart(lang, days_apart(f, post, nearest))) if d]
        return text + (f" ({', '.join(details)})" if details else "")
    if cls is PostClass.AMPLIFIED:
        return lang._("%(account)s relayed or copied this post", account=account)
    if cls is PostClass.OFF_LIMITS:
        text = lang._("close to the off-limits topic “%(topic)s”", topic=lang.topic(
            f.offlimits_topic))
        if f.offlimits_similarity is not None:
            text += " (" + lang._("similarity %(sim)s", sim=lang.num(f.offlimits_similarity)) + ")"
        return text
    if cls is PostClass.OFF_LINE:
        text = lang._("unusual for the brand's line and for the executive's own posts")
        if f.line_similarity is not None:
            text += " (" + lang._("similarity to the line %(sim)s",
                                  sim=lang.num(f.line_similarity)) + ")"
        return text
    if cls is PostClass.CONVERSATION:
        others = [a for a in (post.referenced_accounts if post else ())
                  if a.casefold() != (post.account.casefold() if post else "")]
        if others:
            return lang._("reply to %(account)s", account=", ".join(f"@{a}" for a in others))
        return lang._("reply to a third party")
    if kind == "quote-comment":
        return lang._("quote of a %(account)s post with a comment of their own",
                      account=account)
    if f.nearest_id is None:
        return lang._("own voice (no corporate post within the lag window)")
    return lang._("own voice on the brand's themes")

"""The verdict on each executive post (pure).

Precedence, first match wins:

1. **echo**: a retweet, or a bare quote, of a corporate post (by id or `RT @brand:` prefix);
   a quote that adds a comment of the executive's own is *complementary* (subkind
   `quote-comment`): the executive's voice about the brand, not a copy of it;
2. **off-limits**: a side taken on party politics, an attack, a polemic (`offlimits.py`);
3. **echo** by link: a link the brand shared first, within the recycling horizon; likewise a
   retweet of the same third-party post the brand retweeted first;
4. **amplified**: the brand retweeted or quoted this post, shared its link (or retweeted the
   same post) after it, or
   copied its words (a near-copy posted after it);
5. **overlap**: a restatement of a corporate post within ±lag days, judged against the post's
   own chance level with false discoveries controlled (`chance.py`), or a near-copy; when the
   brand's post came *after* the executive's, the brand restated the executive: amplified;
6. **recycled**: the same, lag to horizon days apart, either direction;
7. **conversation**: a reply to a third party (not the brand, not the executive's own thread);
8. **off-line**: unusual both for the brand's line and for the executive's baseline;
9. **complementary**: the executive's own voice.

Posts with too little substance ("Yes", "👍", a bare link) are judged by steps 1-4 only.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from monitor.analysis.chance import DAY, chance_matches, default_null, q_values
from monitor.analysis.language import guess_language
from monitor.analysis.lexical import lexical_similarity, shared_terms
from monitor.analysis.links import link_set
from monitor.analysis.offlimits import Guardrails, offlimits_scores, stance_cue
from monitor.analysis.offline import own_baseline_similarity
from monitor.analysis.relations import amplifiers, relay_of, shared_link, shared_retweet
from monitor.analysis.similarity import max_similarity
from monitor.analysis.substance import content_words, substance
from monitor.analysis.wordvec import word_vectors
from monitor.models import Finding, NullTail, Post, PostClass, PostKind, Thresholds

__all__ = ["Guardrails", "OwnBaseline", "classify"]

DEFAULT_COS_FLOOR = 0.5  # without a calibrated null, a repeat must at least be this similar
MUTUAL_RANK = 2  # a repeat is among the brand post's 2 closest executive posts around it


@dataclass(frozen=True)
class OwnBaseline:
    """The executive's own posts of the reference period (vectors and POSIX times)."""

    vectors: np.ndarray
    times: np.ndarray
    ids: tuple[str, ...] = ()  # their post ids (a post is never its own competitor)


def _seconds(posts: Sequence[Post]) -> np.ndarray:
    return np.array([p.created_at.timestamp() for p in posts], dtype=np.float64)


def classify(exec_posts: Sequence[Post], exec_vecs: np.ndarray, corp_posts: Sequence[Post],
             corp_vecs: np.ndarray, thresholds: Thresholds, *, corporate_accounts: Sequence[str],
             executive_accounts: Sequence[str] = (), null: NullTail | None = None,
             centroids: np.ndarray | None = None, guardrails: Guardrails | None = None,
             own: OwnBaseline | None = None, family: Sequence[float] = (),
             reference_days: float = 90.0,
             resolve: Mapping[str, str] | None = None) -> list[Finding]:
    """Classify each executive post against the corporate posts.

    `corp_posts` must cover the executive posts' reference periods (± `reference_days`, the
    background each post is judged against); `null` is the pair's calibrated chance level
    (None: a conservative default); `family` holds the p-values of the period's posts already
    decided, so false discoveries are controlled over the period; `own` is the executive's
    baseline for the off-line test; `centroids` the corporate line (None: no off-line test).
    """
    th = thresholds
    corp_times = _seconds(corp_posts)
    if np.any(np.diff(corp_times) < 0):
        order = np.argsort(corp_times, kind="stable")
        corp_posts = [corp_posts[i] for i in order]
        corp_vecs, corp_times = corp_vecs[order], corp_times[order]
    exec_times = _seconds(exec_posts)
    n = len(exec_posts)
    corp_set = {a.casefold() for a in corporate_accounts}
    exec_set = {a.casefold() for a in executive_accounts} or {p.account.casefold()
                                                              for p in exec_posts}
    exec_sub = np.array([substance(p.text) for p in exec_posts], dtype=np.int64)
    corp_sub = np.array([substance(p.text) for p in corp_posts], dtype=np.int64)
    # A corporate retweet is someone else's words (often the executive's own post): it can be
    # relayed, never be the brand's text that an executive post restates, or a link source.
    corp_own = np.array([p.kind != PostKind.RETWEET for p in corp_posts], dtype=bool)
    exec_ok = exec_sub >= th.min_substance
    corp_ok = corp_own & (corp_sub >= th.min_substance)
    null = null or default_null(th.overlap if th.overlap > 0 else DEFAULT_COS_FLOOR)
    floor = max(th.overlap, null.cos_floor)

    words = word_vectors([p.text for p in exec_posts] + [p.text for p in corp_posts])
    chance = chance_matches(exec_vecs, exec_times, exec_ok, corp_vecs, corp_times, corp_ok,
                            lag_days=th.lag_days, horizon_days=th.recycle_days,
                            reference_days=reference_days, null=null,
                            exec_words=words[:n], corp_words=words[n:])
    tested = np.nonzero(exec_ok)[0]
    q = q_values(np.concatenate([chance.window.p_value[tested], chance.ring.p_value[tested]]),
                 family)
    q_win = np.ones(n)
    q_ring = np.ones(n)
    q_win[tested], q_ring[tested] = q[:len(tested)], q[len(tested):]

    # Near-copies: compared by text with the corporate posts within the horizon that share at
    # least half the words of the shorter of the two (a pasted sentence shares them, whatever
    # the embedding says; comparing every pair would cost a set operation per pair).
    by_word = _word_index(corp_posts, corp_ok)
    corp_words_n = [len(content_words(p.text)) for p in corp_posts]
    amplified_by = amplifiers(exec_posts, corp_posts, exec_set)
    corp_by_id = {p.post_id: p for p in corp_posts}
    corp_row = {p.post_id: j for j, p in enumerate(corp_posts)}
    corp_links = [link_set(p.urls, resolve) for p in corp_posts]
    rails = offlimits_scores(exec_vecs, guardrails)
    line = (max_similarity(exec_vecs, centroids)[0].astype(np.float64)
            if centroids is not None and centroids.shape[0] else None)
    own_sim = (own_baseline_similarity(exec_vecs, exec_times, own.vectors, own.times,
                                       reference_days=reference_days)
               if own is not None else None)

    findings = []
    for i, post in enumerate(exec_posts):
        ctx = _Judge(post, i, exec_sub[i], bool(exec_ok[i]), th, corp_posts, corp_vecs,
                     corp_row, exec_vecs, exec_times[i])
        common = ctx.common(line=None if line is None else float(line[i]),
                            offlimits=float(rails.similarity[i])
                            if np.isfinite(rails.similarity[i]) else None)

        relay = relay_of(post, corp_set, corp_by_id, corp_posts)
        quote_comment = False
        if relay is not None:
            verb, target, account = relay
            quote_comment = verb == "quote" and bool(exec_ok[i])
            if not quote_comment:
                what = "bare quote" if verb == "quote" else "retweet"
                findings.append(ctx.finding(PostClass.ECHO, f"{what} of a @{account} post",
                                            target, subkind=verb, **common))
                continue

        cue = stance_cue(post.text)
        if cue is None and exec_ok[i] and np.isfinite(rails.similarity[i]) and \
                rails.similarity[i] >= th.offlimits and \
                rails.similarity[i] > rails.neutral[i]:
            findings.append(ctx.finding(
                PostClass.OFF_LIMITS, f"close to off-limits topic '{rails.topic[i]}' "
                f"(similarity {rails.similarity[i]:.2f} ≥ {th.offlimits:.2f}, closer than to "
                "neutral mentions of it)", None, offlimits_topic=rails.topic[i], **common))
            continue
        if cue is not None:
            findings.append(ctx.finding(
                PostClass.OFF_LIMITS, f"{cue.topic}: names '{cue.subject}' and says "
                f"'{cue.judgement}'", None, offlimits_topic=cue.topic, subkind="stance",
                **common))
            continue

        if quote_comment:
            assert relay is not None
            findings.append(ctx.finding(
                PostClass.COMPLEMENTARY, f"quotes a @{relay[2]} post with a comment of its own",
                relay[1], subkind="quote-comment", **common))
            continue

        link = shared_link(post, exec_times[i], th.recycle_days * DAY, corp_posts, corp_times,
                           corp_links, corp_own, resolve)
        if link is not None and link.days_apart is not None and link.days_apart >= 0:
            assert link.target is not None
            findings.append(ctx.finding(
                PostClass.ECHO, f"shares the link {link.reason} that @{link.target.account} "
                f"shared {_days(link.days_apart)} earlier", link.target, subkind="link",
                **common))
            continue
        co = shared_retweet(post, exec_times[i], th.recycle_days * DAY, corp_posts, corp_times)
        if co is not None and co.target is not None:
            if (co.days_apart or 0) >= 0:
                findings.append(ctx.finding(
                    PostClass.ECHO, f"retweets the {co.reason} post that @{co.target.account} "
                    f"retweeted {_days(co.days_apart or 0)} earlier", co.target,
                    subkind="co-retweet", **common))
            else:
                findings.append(ctx.finding(
                    PostClass.AMPLIFIED, f"@{co.target.account} retweeted the same {co.reason} "
                    f"post {_days(-(co.days_apart or 0))} later", co.target,
                    subkind="co-retweet", **common))
            continue
        if i in amplified_by:
            by = amplified_by[i]
            verb = "retweeted" if by.kind == PostKind.RETWEET else "quoted"
            findings.append(ctx.finding(PostClass.AMPLIFIED, f"@{by.account} {verb} this post",
                                        by, subkind=by.kind.value, **common))
            continue
        if link is not None:
            assert link.target is not None
            findings.append(ctx.finding(
                PostClass.AMPLIFIED, f"@{link.target.account} shared its link {link.reason} "
                f"{_days(-(link.days_apart or 0))} later", link.target, subkind="link",
                **common))
            continue

        copy = (ctx.near_copy(_sharing_words(post, by_word, corp_words_n, corp_times,
                                             exec_times[i], th.recycle_days * DAY))
                if exec_ok[i] else None)
        if copy is not None:
            j, lex = copy
            days = (exec_times[i] - corp_times[j]) / DAY
            target = corp_posts[j]
            if days < 0:
                findings.append(ctx.finding(
                    PostClass.AMPLIFIED, f"@{target.account} copied its words "
                    f"{_days(-days)} later (lexical {lex:.2f})", target, subkind="copy",
                    lexical=lex, **common))
            else:
                cls = PostClass.OVERLAP if days <= th.lag_days else PostClass.RECYCLED
                findings.append(ctx.finding(
                    cls, f"near-copy of a @{target.account} post {_days(days)} earlier "
                    f"(lexical {lex:.2f})", target, subkind="near-copy", lexical=lex,
                    **common))
            continue

        repeat = None
        if exec_ok[i]:
            for cls, match, qv in ((PostClass.OVERLAP, chance.window, q_win[i]),
                                   (PostClass.RECYCLED, chance.ring, q_ring[i])):
                j = int(match.index[i])
                if (j >= 0 and qv <= th.fdr and match.similarity[i] >= floor
                        and _mutual(exec_vecs[i], post.post_id, corp_vecs[j], corp_times[j],
                                    own, th.lag_days * DAY)):
                    repeat = (cls, j, float(match.similarity[i]), float(match.p_value[i]),
                              float(qv))
                    break
        if repeat is not None:
            cls, j, sim, p, qv = repeat
            target = corp_posts[j]
            days = (exec_times[i] - corp_times[j]) / DAY
            how = "translation" if ctx.translated(target) else "paraphrase"
            when = (f"{_days(days)} after" if days >= 0 else f"{_days(-days)} before")
            if cls is PostClass.OVERLAP and days < 0:
                # The brand said it after the executive, within days: the brand relayed the
                # executive's message (recycling keeps both directions, with the gap shown).
                findings.append(ctx.finding(
                    PostClass.AMPLIFIED, f"@{target.account} restated this post "
                    f"{_days(-days)} later ({how}, similarity {sim:.2f}, q {qv:.3f})", target,
                    subkind="restated", p_value=p, q_value=qv, **common))
                continue
            findings.append(ctx.finding(
                cls, f"{how} of a @{target.account} post, posted {when} it (similarity "
                f"{sim:.2f}, chance {p:.1e}, q {qv:.3f} ≤ {th.fdr:g})", target, subkind=how,
                p_value=p, q_value=qv, **common))
            continue

        best = ctx.best_match(chance)
        pv = float(min(chance.window.p_value[i], chance.ring.p_value[i])) if exec_ok[i] else None
        extra: dict[str, Any] = {"p_value": pv, **common}
        if post.kind == PostKind.REPLY and post.referenced_accounts and all(
                a.casefold() not in corp_set and a.casefold() not in exec_set
                for a in post.referenced_accounts):
            findings.append(ctx.finding(
                PostClass.CONVERSATION, f"reply to @{post.referenced_accounts[0]}", best,
                subkind="reply", **extra))
            continue
        if not exec_ok[i]:
            findings.append(ctx.finding(
                PostClass.COMPLEMENTARY, f"too short to compare ({exec_sub[i]} content "
                f"word{'s' if exec_sub[i] != 1 else ''}): judged by its links and references "
                "only", None, subkind="short", **extra))
            continue
        if (line is not None and own_sim is not None and np.isfinite(own_sim[i])
                and line[i] < th.offline and own_sim[i] < th.offline_own):
            findings.append(ctx.finding(
                PostClass.OFF_LINE, f"unusual for the brand's line (similarity {line[i]:.2f} < "
                f"{th.offline:.2f}) and for the executive's own posts ({own_sim[i]:.2f} < "
                f"{th.offline_own:.2f})", best, **extra))
            continue
        findings.append(ctx.finding(
            PostClass.COMPLEMENTARY, "own voice on the brand's themes" if best is not None
            else "no corporate post within the recycling horizon", best, **extra))
    return findings


def _mutual(vec: np.ndarray, post_id: str, corp_vec: np.ndarray, corp_time: float,
            own: OwnBaseline | None, lag: float) -> bool:
    """Is the post among the MUTUAL_RANK executive posts closest to this corporate post within
    ±lag of it? During a burst (a launch week, everyone talking about the product) a brand post
    is close to many executive posts at once: none of them restates it in particular."""
    if own is None or own.vectors.shape[0] == 0:
        return True
    around = np.abs(own.times - corp_time) <= lag
    if own.ids:
        around &= np.array([i != post_id for i in own.ids], dtype=bool)
    others = own.vectors[around] @ corp_vec
    return int(np.sum(others > float(vec @ corp_vec) + 1e-9)) < MUTUAL_RANK


def _word_index(posts: Sequence[Post], ok: np.ndarray) -> dict[str, list[int]]:
    """Content word -> the rows (in time order) of the corporate posts that use it."""
    index: dict[str, list[int]] = {}
    for j, p in enumerate(posts):
        if ok[j]:
            for word in content_words(p.text):
                index.setdefault(word, []).append(j)
    return index


def _sharing_words(post: Post, by_word: Mapping[str, list[int]], corp_words_n: Sequence[int],
                   corp_times: np.ndarray, when: float, horizon: float,
                   limit: int = 3) -> list[int]:
    """Corporate posts within the horizon sharing at least half of the words of the shorter of
    the two posts (and at least 3), most shared first. Words the brand uses in a good share
    of its posts (its own name) are no sign of a copy and are skipped."""
    lo = int(np.searchsorted(corp_times, when - horizon, side="left"))
    hi = int(np.searchsorted(corp_times, when + horizon, side="right"))
    common = max(50, (hi - lo) // 10)
    mine = content_words(post.text)
    counts: dict[int, int] = {}
    for word in mine:
        rows = by_word.get(word)
        if not rows:
            continue
        a, b = bisect_left(rows, lo), bisect_left(rows, hi)
        if b - a > common:
            continue
        for j in rows[a:b]:
            counts[j] = counts.get(j, 0) + 1
    n_mine = len(mine)
    # c >= 3 first: most candidates share one or two words, and the test is cheaper.
    ranked = sorted((j for j, c in counts.items()
                     if c >= 3 and c >= min(n_mine, corp_words_n[j]) // 2),
                    key=lambda j: -counts[j])
    return ranked[:limit]


def _days(days: float) -> str:
    days = abs(days)
    if days < 1:
        return f"{days * 24:.0f} h"
    return f"{days:.1f} days"


class _Judge:
    """Helpers for one executive post (keeps `classify` readable)."""

    def __init__(self, post: Post, i: int, sub: int, ok: bool, th: Thresholds,
                 corp_posts: Sequence[Post], corp_vecs: np.ndarray, corp_row: Mapping[str, int],
                 exec_vecs: np.ndarray, when: float) -> None:
        self.post, self.i, self.sub, self.ok, self.th = post, i, int(sub), ok, th
        self.corp_posts, self.corp_vecs, self.corp_row = corp_posts, corp_vecs, corp_row
        self.exec_vecs, self.when = exec_vecs, when

    def common(self, *, line: float | None, offlimits: float | None) -> dict[str, Any]:
        return {"line_similarity": line, "offlimits_similarity": offlimits}

    def finding(self, cls: PostClass, reason: str, target: Post | None, *,
                subkind: str | None = None, lexical: float | None = None,
                offlimits_topic: str | None = None, p_value: float | None = None,
                q_value: float | None = None, line_similarity: float | None = None,
                offlimits_similarity: float | None = None) -> Finding:
        sim = None
        days = None
        if target is not None:
            row = self.corp_row.get(target.post_id)
            if row is not None:
                sim = float(self.exec_vecs[self.i] @ self.corp_vecs[row])
            days = round((self.when - target.created_at.timestamp()) / DAY, 2)
        return Finding(
            post_id=self.post.post_id, account=self.post.account,
            created_at=self.post.created_at, post_class=cls, reason=reason, similarity=sim,
            lexical=lexical, nearest_id=target.post_id if target else None,
            nearest_account=target.account if target else None,
            line_similarity=line_similarity, offlimits_topic=offlimits_topic,
            offlimits_similarity=offlimits_similarity,
            shared_terms=shared_terms(self.post.text, target.text) if target else (),
            subkind=subkind, substance=self.sub, days_apart=days, p_value=p_value,
            q_value=q_value)

    def near_copy(self, candidates: Sequence[int]) -> tuple[int, float] | None:
        best: tuple[int, float] | None = None
        for j in dict.fromkeys(candidates):
            lex = lexical_similarity(self.post.text, self.corp_posts[j].text)
            if lex >= self.th.lexical and (best is None or lex > best[1]):
                best = (j, lex)
        return best

    def translated(self, target: Post) -> bool:
        a = guess_language(self.post.text, self.post.lang)
        b = guess_language(target.text, target.lang)
        return a is not None and b is not None and a != b

    def best_match(self, chance: Any) -> Post | None:
        """The closest corporate post by chance level (window first), for the explanation."""
        if not self.ok:
            return None
        w, r = chance.window, chance.ring
        zs = [(w.z[self.i], int(w.index[self.i])), (r.z[self.i], int(r.index[self.i]))]
        zs = [(z, j) for z, j in zs if j >= 0 and np.isfinite(z)]
        if not zs:
            return None
        return self.corp_posts[max(zs)[1]]

"""The verdict on each executive post: echo, overlap, off-line or complementary (pure).

Order of precedence: an echo (retweet, quote, shared link) is the plainest redundancy; then an
overlap (a paraphrase or near-copy of a corporate post in the lag window); then off-limits topics
and posts away from the corporate line; everything else is complementary.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from monitor.analysis.lexical import lexical_similarity, shared_terms
from monitor.analysis.links import link_set
from monitor.analysis.similarity import max_similarity, window_neighbours
from monitor.models import Finding, Post, PostClass, PostKind, Thresholds

RT_PREFIX = re.compile(r"^RT @\w+:\s*")


@dataclass(frozen=True)
class Guardrails:
    """Off-limits topics as example-phrase vectors; `topic[i]` names row i of `vectors`."""

    vectors: np.ndarray
    topic: tuple[str, ...]

    @classmethod
    def empty(cls, dim: int) -> Guardrails:
        return cls(np.zeros((0, dim), dtype=np.float32), ())


def _seconds(posts: Sequence[Post]) -> np.ndarray:
    return np.array([p.created_at.timestamp() for p in posts], dtype=np.float64)


def classify(exec_posts: Sequence[Post], exec_vecs: np.ndarray, corp_posts: Sequence[Post],
             corp_vecs: np.ndarray, thresholds: Thresholds, *, corporate_accounts: Sequence[str],
             centroids: np.ndarray | None = None, guardrails: Guardrails | None = None,
             resolve: Mapping[str, str] | None = None, k: int = 3) -> list[Finding]:
    """Classify each executive post against the corporate posts (sorted by time).

    `corp_posts` must cover the executive posts' lag windows; `centroids` are the corporate
    line's topic centroids (None: no off-line check); `guardrails` the off-limits examples.
    """
    corp_times = _seconds(corp_posts)
    if np.any(np.diff(corp_times) < 0):
        order = np.argsort(corp_times, kind="stable")
        corp_posts = [corp_posts[i] for i in order]
        corp_vecs = corp_vecs[order]
        corp_times = corp_times[order]
    exec_times = _seconds(exec_posts)
    lag = thresholds.lag_days * 86400.0
    # A corporate retweet is someone else's words (often the executive's own post): it can be
    # echoed, but it is never the brand's text that an executive post paraphrases.
    own = np.nonzero(np.array([p.kind != PostKind.RETWEET for p in corp_posts], dtype=bool))[0]
    neigh = window_neighbours(exec_vecs, exec_times, corp_vecs[own], corp_times[own], lag, k=k)
    if len(own):
        neigh = type(neigh)(np.where(neigh.index >= 0, own[np.maximum(neigh.index, 0)], -1),
                            neigh.similarity)
    corp_set = {a.casefold() for a in corporate_accounts}
    corp_ids = {p.post_id: p for p in corp_posts}
    corp_row = {p.post_id: j for j, p in enumerate(corp_posts)}
    corp_links = [link_set(p.urls, resolve) for p in corp_posts]
    line_sims = (max_similarity(exec_vecs, centroids)[0] if centroids is not None
                 and centroids.shape[0] else None)
    off_sims = off_which = None
    if guardrails is not None and guardrails.vectors.shape[0]:
        off_sims, off_which = max_similarity(exec_vecs, guardrails.vectors)

    findings = []
    for i, post in enumerate(exec_posts):
        line = float(line_sims[i]) if line_sims is not None else None
        topic = guardrails.topic[int(off_which[i])] if off_which is not None and \
            guardrails is not None else None
        off_sim = float(off_sims[i]) if off_sims is not None else None
        common: dict[str, Any] = {"post_id": post.post_id, "account": post.account,
                  "created_at": post.created_at, "line_similarity": line,
                  "offlimits_similarity": off_sim}

        echo = _echo(post, corp_set, corp_ids, corp_posts)
        if echo is None:
            echo = _shared_link(post, exec_times[i], lag, corp_posts, corp_times, corp_links,
                                resolve)
        if echo is not None:
            reason, target = echo
            sim = (float(exec_vecs[i] @ corp_vecs[corp_row[target.post_id]])
                   if target is not None else None)
            findings.append(Finding(
                post_class=PostClass.ECHO, reason=reason, similarity=sim,
                nearest_id=target.post_id if target else None,
                nearest_account=target.account if target else None,
                shared_terms=shared_terms(post.text, target.text) if target else (), **common))
            continue

        best_j, best_sim, best_lex = -1, None, 0.0
        for rank in range(neigh.index.shape[1]):
            j = int(neigh.index[i, rank])
            if j < 0:
                break
            lex = lexical_similarity(post.text, corp_posts[j].text)
            if rank == 0:
                best_j, best_sim, best_lex = j, float(neigh.similarity[i, 0]), lex
            elif lex > best_lex and lex >= thresholds.lexical:
                # A near-copy that embeddings ranked second is the better explanation.
                best_j, best_sim, best_lex = j, float(neigh.similarity[i, rank]), lex
        nearest = corp_posts[best_j] if best_j >= 0 else None
        explain: dict[str, Any] = {"similarity": best_sim, "lexical": best_lex if nearest else None,
                   "nearest_id": nearest.post_id if nearest else None,
                   "nearest_account": nearest.account if nearest else None,
                   "shared_terms": shared_terms(post.text, nearest.text) if nearest else ()}
        if nearest is not None and best_sim is not None and (
                best_sim >= thresholds.overlap or best_lex >= thresholds.lexical):
            how = (f"near-copy of a @{nearest.account} post (lexical {best_lex:.2f})"
                   if best_lex >= thresholds.lexical and best_sim < thresholds.overlap
                   else f"paraphrase of a @{nearest.account} post "
                        f"(similarity {best_sim:.2f} ≥ {thresholds.overlap:.2f})")
            findings.append(Finding(post_class=PostClass.OVERLAP, reason=how, **explain, **common))
            continue
        if off_sim is not None and off_sim >= thresholds.offlimits:
            findings.append(Finding(
                post_class=PostClass.OFF_LINE, offlimits_topic=topic,
                reason=f"close to off-limits topic '{topic}' (similarity {off_sim:.2f} ≥ "
                       f"{thresholds.offlimits:.2f})", **explain, **common))
            continue
        if line is not None and line < thresholds.offline:
            findings.append(Finding(
                post_class=PostClass.OFF_LINE,
                reason=f"away from the corporate line (similarity {line:.2f} < "
                       f"{thresholds.offline:.2f})", **explain, **common))
            continue
        findings.append(Finding(post_class=PostClass.COMPLEMENTARY,
                                reason=("own voice on the brand's themes" if nearest is not None
                                        else "no corporate post within the lag window"),
                                **explain, **common))
    return findings


def _echo(post: Post, corp_set: set[str], corp_ids: Mapping[str, Post],
          corp_posts: Sequence[Post]) -> tuple[str, Post | None] | None:
    if post.kind not in (PostKind.RETWEET, PostKind.QUOTE):
        return None
    verb = "retweet" if post.kind == PostKind.RETWEET else "quote"
    for ref in post.referenced_ids:
        if ref in corp_ids:
            target = corp_ids[ref]
            return f"{verb} of a @{target.account} post", target
    for account in post.referenced_accounts:
        if account.casefold() in corp_set:
            return f"{verb} of a @{account} post", _retweeted_post(post, account, corp_posts)
    return None


def _retweeted_post(post: Post, account: str, corp_posts: Sequence[Post]) -> Post | None:
    """The corporate post an archive retweet copies (archives give no id, only the text)."""
    body = RT_PREFIX.sub("", post.text).rstrip("…").rstrip(".").strip()
    if post.kind != PostKind.RETWEET or len(body) < 20:
        return None
    key = body[:100]
    best = None
    for cand in corp_posts:
        if (cand.account.casefold() == account.casefold() and cand.created_at <= post.created_at
                and cand.text.startswith(key)):
            best = cand  # sorted by time: the latest matching post wins
    return best


def _shared_link(post: Post, when: float, lag: float, corp_posts: Sequence[Post],
                 corp_times: np.ndarray, corp_links: Sequence[frozenset[str]],
                 resolve: Mapping[str, str] | None) -> tuple[str, Post] | None:
    mine = link_set(post.urls, resolve)
    if not mine:
        return None
    lo = int(np.searchsorted(corp_times, when - lag, side="left"))
    hi = int(np.searchsorted(corp_times, when + lag, side="right"))
    best: tuple[float, int] | None = None
    for j in range(lo, hi):
        if mine & corp_links[j]:
            gap = abs(corp_times[j] - when)
            if best is None or gap < best[0]:
                best = (gap, j)
    if best is None:
        return None
    target = corp_posts[best[1]]
    link = sorted(mine & corp_links[best[1]])[0]
    return f"shares the link {link} with a @{target.account} post", target


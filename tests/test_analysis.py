"""Unit tests of the pure analysis package (monitor/analysis/) on constructed vectors and posts.

Everything here is built by hand: unit vectors from a seeded orthonormal basis (so that every
similarity is known exactly) or from a seeded rng, and `Post` objects with aware UTC datetimes.
No database, model, network or clock.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from monitor.analysis import calibrate as cal
from monitor.analysis.classify import Guardrails, classify
from monitor.analysis.drift import mmd_permutation_test, voice_drift
from monitor.analysis.lexical import lexical_similarity, shared_terms
from monitor.analysis.links import is_short_link, link_set, normalize_url
from monitor.analysis.rates import by_period, period_start, totals
from monitor.analysis.similarity import BLOCK, max_similarity, topic_centroids, window_neighbours
from monitor.analysis.text import terms
from monitor.models import Finding, Post, PostClass, PostKind, Thresholds

DAY = 86400.0
T0 = datetime(2024, 3, 6, 12, 0, tzinfo=UTC)  # a Wednesday
DIM = 32


# ---------------------------------------------------------------------------------------------
# helpers


def normalise(v: np.ndarray) -> np.ndarray:
    """Unit vector(s) along the last axis."""
    v = np.asarray(v, dtype=np.float64)
    return v / np.linalg.norm(v, axis=-1, keepdims=True)


def random_units(rng: np.random.Generator, n: int, d: int) -> np.ndarray:
    return normalise(rng.standard_normal((n, d)))


def orthonormal_basis(d: int = DIM, seed: int = 0) -> np.ndarray:
    """Rows are d orthonormal vectors of R^d (a random rotation, so nothing is axis-aligned)."""
    q, _ = np.linalg.qr(np.random.default_rng(seed).standard_normal((d, d)))
    return q.T.copy()


B = orthonormal_basis()


def combo(*terms_: tuple[float, int]) -> np.ndarray:
    """normalise(sum coef * B[i]) for (coef, i) pairs: dot products are known exactly."""
    v = np.zeros(DIM)
    for coef, i in terms_:
        v = v + coef * B[i]
    return normalise(v)


def post(post_id: str, at: datetime, text: str = "", account: str = "jane_ceo",
         **kw: Any) -> Post:
    return Post(post_id=post_id, account=account, created_at=at, text=text, **kw)


def thresholds(**kw: Any) -> Thresholds:
    values: dict[str, Any] = {"overlap": 0.8, "lexical": 0.6, "offline": 0.3,
                              "offlimits": 0.7, "lag_days": 3.0, "source": "configured"}
    values.update(kw)
    return Thresholds(**values)


def stack(vecs: Sequence[np.ndarray]) -> np.ndarray:
    return np.stack([np.asarray(v, dtype=np.float64) for v in vecs])


# The brand: two topics (B0 "factories", B1 "products"), three posts; off-limits: B20, B21.
CORP_TEXT_1 = "Acme opens its new battery factory in Lyon, creating 300 local jobs."
CORP_TEXT_2 = "Meet the Acme Volt, our lightest e-bike ever, available in stores from Monday."
CORP_TEXT_3 = "Quarterly results: revenue grew twelve percent thanks to strong bicycle demand."
CORP_POSTS = [
    post("c1", T0, CORP_TEXT_1, account="Acme",
         urls=("https://www.acme.com/news/lyon-plant/?utm_source=twitter&utm_medium=social",)),
    post("c2", T0 + timedelta(days=1), CORP_TEXT_2, account="Acme"),
    post("c3", T0 - timedelta(days=20), CORP_TEXT_3, account="Acme"),
]
C1, C2, C3 = combo((0.9, 0), (0.436, 2)), combo((0.9, 1), (0.436, 3)), combo((0.7, 0), (0.7, 4))
CORP_VECS = stack([C1, C2, C3])
CENTROIDS = stack([B[0], B[1]])
GUARDRAILS = Guardrails(stack([B[20], B[21]]).astype(np.float32), ("party politics", "religion"))
UNRELATED_TEXT = "Weekend reading: a wonderful biography of Marie Curie, highly recommended."


def run(exec_posts: Sequence[Post], exec_vecs: Sequence[np.ndarray], *,
        corp_posts: Sequence[Post] = CORP_POSTS, corp_vecs: np.ndarray = CORP_VECS,
        centroids: np.ndarray | None = CENTROIDS, guardrails: Guardrails | None = GUARDRAILS,
        th: Thresholds | None = None, **kw: Any) -> list[Finding]:
    return classify(list(exec_posts), stack(exec_vecs), list(corp_posts), corp_vecs,
                    th or thresholds(), corporate_accounts=["acme"], centroids=centroids,
                    guardrails=guardrails, **kw)


def one(p: Post, v: np.ndarray, **kw: Any) -> Finding:
    [finding] = run([p], [v], **kw)
    assert finding.post_id == p.post_id
    return finding


# A vector that is on the brand's line (0.6 to topic B0) but no paraphrase of any corporate post
# (0.54 to c1) and far from the off-limits topics: the model of a complementary post.
ON_LINE = combo((0.6, 0), (0.8, 10))


# ---------------------------------------------------------------------------------------------
# classify: echo


def test_retweet_of_corporate_post_is_echo_with_explanation() -> None:
    p = post("e1", T0 + timedelta(hours=2), "RT @Acme: " + CORP_TEXT_1, kind=PostKind.RETWEET,
             referenced_ids=("c1",), referenced_accounts=("Acme",))
    f = one(p, B[11])  # the vector does not matter for a retweet
    assert f.post_class == PostClass.ECHO
    assert "retweet" in f.reason and "@Acme" in f.reason
    assert f.nearest_id == "c1" and f.nearest_account == "Acme"
    assert f.similarity == pytest.approx(float(B[11] @ C1), abs=1e-6)
    assert {"battery", "factory", "lyon", "jobs"} <= set(f.shared_terms)


def test_retweet_found_by_referenced_account_only_case_insensitive() -> None:
    # The referenced post is not in the store (older than the corporate history loaded).
    p = post("e1", T0, "RT @ACME: Throwback to our first shop, opened in 1987!",
             kind=PostKind.RETWEET, referenced_ids=("999",), referenced_accounts=("ACME",))
    f = one(p, B[11])
    assert f.post_class == PostClass.ECHO
    assert "retweet" in f.reason


def test_retweet_of_someone_else_is_not_echo() -> None:
    p = post("e1", T0, "RT @journalist: great piece on urban cycling",
             kind=PostKind.RETWEET, referenced_ids=("777",), referenced_accounts=("journalist",))
    assert one(p, ON_LINE).post_class == PostClass.COMPLEMENTARY


def test_reply_to_corporate_post_is_not_an_echo_by_itself() -> None:
    p = post("e1", T0, "So proud of the whole team behind this!", kind=PostKind.REPLY,
             referenced_ids=("c1",), referenced_accounts=("Acme",))
    assert one(p, ON_LINE).post_class == PostClass.COMPLEMENTARY


def test_archive_retweet_without_id_is_explained_by_the_retweeted_text() -> None:
    # archives give "RT @acme: <text, truncated>…" and the account, but no referenced id
    p = post("e1", T0 + timedelta(hours=5), "RT @acme: " + CORP_TEXT_1[:60] + "…",
             kind=PostKind.RETWEET, referenced_accounts=("acme",))
    f = one(p, B[11])
    assert f.post_class == PostClass.ECHO
    assert f.nearest_id == "c1"


def test_quote_of_corporate_post_is_echo() -> None:
    p = post("e1", T0 + timedelta(days=1), "Proud day for the team.", kind=PostKind.QUOTE,
             referenced_ids=("c2",), referenced_accounts=("Acme",))
    f = one(p, ON_LINE)
    assert f.post_class == PostClass.ECHO
    assert "quote" in f.reason
    assert f.nearest_id == "c2"
    assert f.similarity == pytest.approx(float(ON_LINE @ C2), abs=1e-6)


def test_shared_link_after_normalisation_is_echo() -> None:
    # c1 shares https://www.acme.com/news/lyon-plant/?utm_source=...; same page, other dressing.
    p = post("e1", T0 + timedelta(days=2), "Worth a read.",
             urls=("http://acme.com/news/lyon-plant?fbclid=IwAR0abc&gclid=xyz",))
    f = one(p, ON_LINE)
    assert f.post_class == PostClass.ECHO
    assert "acme.com/news/lyon-plant" in f.reason
    assert f.nearest_id == "c1" and f.nearest_account == "Acme"
    assert f.similarity == pytest.approx(float(ON_LINE @ C1), abs=1e-6)


def test_shared_link_before_the_corporate_post_counts_too() -> None:
    p = post("e1", T0 - timedelta(days=2, hours=23), "Something big is coming to Lyon.",
             urls=("https://acme.com/news/lyon-plant/",))
    assert one(p, ON_LINE).post_class == PostClass.ECHO


def test_shared_link_outside_lag_window_is_not_echo() -> None:
    p = post("e1", T0 + timedelta(days=4), "Worth a read.",
             urls=("https://acme.com/news/lyon-plant",))
    f = one(p, ON_LINE)
    assert f.post_class == PostClass.COMPLEMENTARY
    assert f.nearest_id != "c1"


def test_different_link_on_same_site_is_not_echo() -> None:
    p = post("e1", T0, "Worth a read.", urls=("https://acme.com/news/other-story",))
    assert one(p, ON_LINE).post_class == PostClass.COMPLEMENTARY


def test_shared_link_picks_closest_corporate_post() -> None:
    url = "https://example.org/report"
    corp = [post("a", T0 - timedelta(days=2), "Our report", account="Acme", urls=(url,)),
            post("b", T0 + timedelta(hours=5), "Read our report", account="Acme", urls=(url,)),
            post("c", T0 + timedelta(days=2), "Report again", account="Acme", urls=(url,))]
    corp_vecs = stack([B[2], B[3], B[4]])
    p = post("e1", T0, "Interesting.", urls=(url + "?utm_campaign=x",))
    f = one(p, ON_LINE, corp_posts=corp, corp_vecs=corp_vecs)
    assert f.post_class == PostClass.ECHO and f.nearest_id == "b"


def test_shared_short_link_counts_only_when_resolved() -> None:
    corp = [post("a", T0, "Our report", account="Acme",
                 urls=("https://acme.com/report?utm_source=tw",))]
    p = post("e1", T0 + timedelta(hours=1), "Interesting.", urls=("https://t.co/AbC123",))
    unresolved = one(p, ON_LINE, corp_posts=corp, corp_vecs=stack([B[2]]))
    assert unresolved.post_class == PostClass.COMPLEMENTARY
    resolved = one(p, ON_LINE, corp_posts=corp, corp_vecs=stack([B[2]]),
                   resolve={"https://t.co/AbC123": "https://www.acme.com/report/"})
    assert resolved.post_class == PostClass.ECHO and resolved.nearest_id == "a"


# ---------------------------------------------------------------------------------------------
# classify: overlap, off-line, complementary, precedence


def test_paraphrase_above_threshold_is_overlap_with_explanation() -> None:
    e = normalise(C1 + 0.1 * B[12])
    p = post("e1", T0 + timedelta(days=1), "Proud of our Lyon battery factory: 300 local jobs!")
    f = one(p, e)
    assert f.post_class == PostClass.OVERLAP
    assert "paraphrase" in f.reason and "@Acme" in f.reason
    assert f.nearest_id == "c1" and f.nearest_account == "Acme"
    assert f.similarity == pytest.approx(float(e @ C1), abs=1e-6)
    assert f.similarity > 0.99
    assert f.shared_terms == ("lyon", "battery", "factory", "local", "jobs")
    assert f.lexical is not None and 0.0 <= f.lexical <= 1.0


def test_similarity_just_below_threshold_is_not_overlap() -> None:
    e = normalise(0.79 * C1 + np.sqrt(1 - 0.79**2) * B[13])  # 0.79 to c1: not a paraphrase
    p = post("e1", T0, UNRELATED_TEXT)
    f = one(p, e)
    assert f.similarity == pytest.approx(0.79, abs=1e-5)
    assert f.post_class == PostClass.COMPLEMENTARY
    assert f.nearest_id == "c1"  # still explained by the nearest corporate post


def test_threshold_is_inclusive() -> None:
    e = normalise(C1 + 0.1 * B[12])
    sim = float(e @ C1)
    p = post("e1", T0, UNRELATED_TEXT)
    assert one(p, e, th=thresholds(overlap=sim - 1e-6)).post_class == PostClass.OVERLAP
    assert one(p, e, th=thresholds(overlap=sim + 1e-4)).post_class != PostClass.OVERLAP


def test_lexical_near_copy_is_overlap_even_with_low_embedding_similarity() -> None:
    e = combo((0.3, 0), (0.95, 14))  # about 0.27 to c1: embeddings see no paraphrase
    p = post("e1", T0 + timedelta(hours=3), CORP_TEXT_1 + " Congrats team!")
    f = one(p, e)
    assert f.similarity is not None and f.similarity < 0.8
    assert f.post_class == PostClass.OVERLAP
    assert "near-copy" in f.reason
    assert f.nearest_id == "c1"
    assert f.lexical is not None and f.lexical >= 0.6


def test_lexical_near_copy_ranked_second_by_embeddings_is_the_explanation() -> None:
    corp = [post("a", T0, "Cycling to work saves time, money and the planet.", account="Acme"),
            post("b", T0 + timedelta(hours=1), CORP_TEXT_1, account="Acme")]
    corp_vecs = stack([combo((0.6, 5), (0.8, 6)), combo((0.3, 0), (0.95, 7))])
    e = combo((0.6, 5), (0.8, 15))  # 0.36 to a, 0 to b: a is the embedding's nearest
    p = post("e1", T0 + timedelta(hours=2), "Big news: " + CORP_TEXT_1)
    f = one(p, e, corp_posts=corp, corp_vecs=corp_vecs)
    assert f.post_class == PostClass.OVERLAP
    assert f.nearest_id == "b"
    assert "near-copy" in f.reason


def test_close_to_offlimits_topic_is_offline_with_topic() -> None:
    e = combo((0.6, 0), (0.8, 20))  # on the brand's line (0.6) but 0.8 to "party politics"
    f = one(post("e1", T0, "My view on tomorrow's election."), e)
    assert f.post_class == PostClass.OFF_LINE
    assert f.offlimits_topic == "party politics"
    assert f.offlimits_similarity == pytest.approx(0.8, abs=1e-5)
    assert "off-limits" in f.reason and "party politics" in f.reason
    assert f.line_similarity == pytest.approx(0.6, abs=1e-5)


def test_second_offlimits_topic_is_named() -> None:
    e = combo((0.6, 1), (0.8, 21))
    f = one(post("e1", T0, "Faith and work."), e)
    assert f.post_class == PostClass.OFF_LINE and f.offlimits_topic == "religion"


def test_low_similarity_to_corporate_line_is_offline() -> None:
    e = combo((0.2, 0), (np.sqrt(0.96), 16))  # 0.2 to the nearest centroid, threshold 0.3
    f = one(post("e1", T0, "My sourdough finally rose."), e)
    assert f.post_class == PostClass.OFF_LINE
    assert f.offlimits_topic is None
    assert "corporate line" in f.reason
    assert f.line_similarity == pytest.approx(0.2, abs=1e-5)


def test_without_centroids_or_guardrails_low_similarity_is_complementary() -> None:
    e = combo((0.2, 0), (np.sqrt(0.96), 16))
    f = one(post("e1", T0, "My sourdough finally rose."), e, centroids=None, guardrails=None)
    assert f.post_class == PostClass.COMPLEMENTARY
    assert f.line_similarity is None and f.offlimits_similarity is None


def test_complementary_post() -> None:
    f = one(post("e1", T0, "What I learned touring bike shops across France this month."),
            ON_LINE)
    assert f.post_class == PostClass.COMPLEMENTARY
    assert f.line_similarity == pytest.approx(0.6, abs=1e-5)
    assert f.nearest_id == "c1"
    assert f.similarity == pytest.approx(float(ON_LINE @ C1), abs=1e-6)


@pytest.mark.parametrize("text", ["Bravo 👏 https://t.co/AbC", "Merci !", "Congratulations!"])
def test_short_reaction_is_not_a_near_copy(text: str) -> None:
    corp = [post("c", T0, "Bravo aux équipes de Lyon ! Merci à nos 300 nouveaux collègues. "
                          "Congratulations to everyone involved.", account="Acme")]
    p = post("e1", T0 + timedelta(hours=1), text)
    f = one(p, ON_LINE, corp_posts=corp, corp_vecs=stack([C1]))  # embeddings: 0.54, no match
    assert f.post_class == PostClass.COMPLEMENTARY


def test_brand_retweeting_the_executive_does_not_make_the_original_an_overlap() -> None:
    text = "Today I visited our new Lyon battery plant: 300 people, one mission."
    mine = post("e1", T0, text)
    corp = [post("rt", T0 + timedelta(hours=1), "RT @jane_ceo: " + text, account="Acme",
                 kind=PostKind.RETWEET, referenced_ids=("e1",),
                 referenced_accounts=("jane_ceo",))]
    f = one(mine, ON_LINE, corp_posts=corp, corp_vecs=stack([ON_LINE]))  # same text, same vector
    assert f.post_class == PostClass.COMPLEMENTARY
    assert f.nearest_id != "rt"


def test_empty_guardrails_flag_nothing() -> None:
    e = combo((0.6, 0), (0.8, 20))
    f = one(post("e1", T0, "Vote!"), e, guardrails=Guardrails.empty(DIM))
    assert f.post_class == PostClass.COMPLEMENTARY
    assert f.offlimits_topic is None and f.offlimits_similarity is None


def test_precedence_echo_before_overlap() -> None:
    p = post("e1", T0, "RT @Acme: " + CORP_TEXT_1, kind=PostKind.RETWEET,
             referenced_ids=("c1",), referenced_accounts=("Acme",))
    assert one(p, C1).post_class == PostClass.ECHO  # identical vector, still a retweet


def test_precedence_overlap_before_offlimits() -> None:
    e = normalise(C1 + 0.1 * B[12])
    guard = Guardrails(stack([e]).astype(np.float32), ("party politics",))
    f = one(post("e1", T0, UNRELATED_TEXT), e, guardrails=guard)
    assert f.post_class == PostClass.OVERLAP
    assert f.offlimits_similarity == pytest.approx(1.0, abs=1e-5)


def test_precedence_offlimits_before_offline() -> None:
    e = combo((0.9, 20), (0.436, 16))  # off the line (0) and close to party politics (0.9)
    f = one(post("e1", T0, "Vote!"), e)
    assert f.post_class == PostClass.OFF_LINE
    assert f.offlimits_topic == "party politics"
    assert "off-limits" in f.reason


def test_findings_follow_exec_order_and_unsorted_corporate_posts_are_fine() -> None:
    exec_posts = [post("e1", T0, UNRELATED_TEXT), post("e2", T0 + timedelta(days=1), "x"),
                  post("e3", T0 - timedelta(days=1), "y")]
    vecs = [normalise(C1 + 0.1 * B[12]), ON_LINE, B[16]]
    reversed_corp = CORP_POSTS[::-1]
    findings = run(exec_posts, vecs, corp_posts=reversed_corp, corp_vecs=CORP_VECS[::-1])
    assert [f.post_id for f in findings] == ["e1", "e2", "e3"]
    assert [f.post_class for f in findings] == [PostClass.OVERLAP, PostClass.COMPLEMENTARY,
                                                PostClass.OFF_LINE]
    assert findings[0].nearest_id == "c1"


def test_no_executive_posts() -> None:
    assert classify([], np.zeros((0, DIM)), CORP_POSTS, CORP_VECS, thresholds(),
                    corporate_accounts=["acme"]) == []


def test_no_corporate_posts() -> None:
    f = one(post("e1", T0, UNRELATED_TEXT), ON_LINE, corp_posts=[],
            corp_vecs=np.zeros((0, DIM)))
    assert f.post_class == PostClass.COMPLEMENTARY
    assert f.nearest_id is None and f.similarity is None


# ---------------------------------------------------------------------------------------------
# lag window


@pytest.mark.parametrize(("offset_days", "expected"), [
    (2.0, PostClass.OVERLAP), (-2.0, PostClass.OVERLAP), (2.99, PostClass.OVERLAP),
    (-2.99, PostClass.OVERLAP), (4.0, PostClass.COMPLEMENTARY),
    (-4.0, PostClass.COMPLEMENTARY)])
def test_lag_window_is_symmetric(offset_days: float, expected: PostClass) -> None:
    """Positive offset: the executive post comes after the corporate one; negative: before."""
    corp = [post("c", T0, CORP_TEXT_1, account="Acme")]
    e = normalise(C1 + 0.1 * B[12])
    p = post("e", T0 + timedelta(days=offset_days), UNRELATED_TEXT)
    f = one(p, e, corp_posts=corp, corp_vecs=stack([C1]), centroids=None)
    assert f.post_class == expected
    assert (f.nearest_id == "c") == (expected == PostClass.OVERLAP)


def test_lag_days_setting_is_used() -> None:
    corp = [post("c", T0, CORP_TEXT_1, account="Acme")]
    e = normalise(C1 + 0.1 * B[12])
    p = post("e", T0 + timedelta(days=4), UNRELATED_TEXT)
    f = one(p, e, corp_posts=corp, corp_vecs=stack([C1]), th=thresholds(lag_days=5))
    assert f.post_class == PostClass.OVERLAP


def brute_force(ev: np.ndarray, et: np.ndarray, cv: np.ndarray, ct: np.ndarray, lag: float,
                k: int) -> tuple[np.ndarray, np.ndarray]:
    sims = ev @ cv.T
    sims = np.where(np.abs(et[:, None] - ct[None, :]) <= lag, sims, -np.inf)
    index = np.full((len(ev), k), -1, dtype=np.int64)
    best = np.full((len(ev), k), -np.inf)
    for i in range(len(ev)):
        order = np.argsort(-sims[i], kind="stable")[:k]
        ok = np.isfinite(sims[i, order])
        index[i, : ok.sum()] = order[ok]
        best[i, : ok.sum()] = sims[i, order[ok]]
    return index, best


@pytest.mark.parametrize(("n_exec", "n_corp", "span_days", "lag_days", "seed"), [
    (700, 900, 120, 3.0, 1),    # the usual case, three exec blocks
    (700, 900, 4000, 3.0, 2),   # sparse corporate posts: many windows with fewer than k
    (2 * BLOCK, 300, 30, 1.0, 3),   # exactly two full blocks
    (BLOCK + 1, 50, 10, 0.5, 4),    # one post spills into a second block
    (5, 2, 10, 3.0, 5),             # fewer corporate posts than k
])
def test_window_neighbours_matches_brute_force(n_exec: int, n_corp: int, span_days: int,
                                               lag_days: float, seed: int) -> None:
    rng = np.random.default_rng(seed)
    d = 24
    ev, cv = random_units(rng, n_exec, d), random_units(rng, n_corp, d)
    # Whole hours, so that many pairs sit exactly on the ±lag boundary (inclusive).
    et = rng.integers(0, span_days * 24, n_exec).astype(np.float64) * 3600  # unsorted
    ct = np.sort(rng.integers(0, span_days * 24, n_corp).astype(np.float64) * 3600)
    lag = lag_days * DAY
    got = window_neighbours(ev, et, cv, ct, lag, k=3)
    want_index, want_sim = brute_force(ev, et, cv, ct, lag, 3)
    assert got.index.shape == (n_exec, 3) and got.similarity.shape == (n_exec, 3)
    np.testing.assert_array_equal(got.index, want_index)
    np.testing.assert_allclose(got.similarity, want_sim, atol=1e-6)
    np.testing.assert_array_equal(got.nearest, want_index[:, 0])
    on_boundary = np.abs(et[:, None] - ct[None, :]) == lag
    if n_exec > 100:
        assert on_boundary.any()  # the boundary case was really exercised


def test_window_neighbours_requires_sorted_corporate_times() -> None:
    v = np.eye(3)
    with pytest.raises(ValueError, match="sorted"):
        window_neighbours(v, np.zeros(3), v, np.array([2.0, 1.0, 3.0]), DAY)


def test_window_neighbours_empty_inputs() -> None:
    got = window_neighbours(np.zeros((0, 4)), np.zeros(0), np.eye(4), np.arange(4.0), DAY)
    assert got.index.shape == (0, 3)
    got = window_neighbours(np.eye(4), np.arange(4.0), np.zeros((0, 4)), np.zeros(0), DAY)
    assert (got.index == -1).all() and np.isneginf(got.similarity).all()


def test_max_similarity_and_topic_centroids() -> None:
    rng = np.random.default_rng(7)
    centres = B[:3]
    vecs = normalise(np.repeat(centres, 30, axis=0) + 0.15 * rng.standard_normal((90, DIM)))
    cent = topic_centroids(vecs, k=3)
    np.testing.assert_allclose(np.linalg.norm(cent, axis=1), 1.0, atol=1e-5)
    best, which = max_similarity(centres, cent)
    assert (best > 0.95).all()  # each true topic has a recovered centroid
    assert len(set(which.tolist())) == 3
    empty_best, empty_which = max_similarity(vecs[:2], np.zeros((0, DIM)))
    assert np.isneginf(empty_best).all() and (empty_which == -1).all()


# ---------------------------------------------------------------------------------------------
# links


@pytest.mark.parametrize(("url", "expected"), [
    ("https://example.com/a", "example.com/a"),
    ("http://example.com/a", "example.com/a"),
    ("https://www.example.com/a/", "example.com/a"),
    ("https://WWW.Example.COM/Path/Case", "example.com/Path/Case"),
    ("example.com/a", "example.com/a"),
    ("www.example.com/a", "example.com/a"),
    ("  https://example.com/a  ", "example.com/a"),
    ("https://example.com/a?utm_source=tw&utm_medium=social&utm_campaign=x", "example.com/a"),
    ("https://example.com/a?UTM_Source=tw", "example.com/a"),
    ("https://example.com/a?fbclid=IwAR0&gclid=abc", "example.com/a"),
    ("https://example.com/a?id=42&utm_source=tw", "example.com/a?id=42"),
    ("https://example.com/a?b=2&a=1", "example.com/a?a=1&b=2"),
    ("https://example.com/a?a=1&b=2", "example.com/a?a=1&b=2"),
    ("https://example.com/a#section-2", "example.com/a"),
    ("https://example.com/a?id=1#top", "example.com/a?id=1"),
    ("https://example.com:443/a", "example.com/a"),
    ("http://example.com:80/a", "example.com/a"),
    ("https://example.com:8443/a", "example.com:8443/a"),
    ("https://example.com/", "example.com"),
    ("https://example.com", "example.com"),
    ("https://example.com/?utm_source=x", "example.com"),
    ("https://x.com/acme/status/1234567890", None),
    ("https://twitter.com/acme/status/1234567890?s=20", None),
    ("https://mobile.twitter.com/acme/status/1", None),
    ("https://www.twitter.com/acme/status/1", None),
    ("https://x.com/acme", "x.com/acme"),  # a profile link is a link, not a quote
    ("", None),
])
def test_normalize_url(url: str, expected: str | None) -> None:
    assert normalize_url(url) == expected


def test_normalize_url_equates_dressed_variants() -> None:
    variants = ["https://www.acme.com/news/lyon-plant/?utm_source=twitter",
                "http://acme.com/news/lyon-plant?fbclid=abc",
                "https://ACME.com/news/lyon-plant#comments",
                "acme.com/news/lyon-plant/?gclid=1&utm_medium=x"]
    assert {normalize_url(u) for u in variants} == {"acme.com/news/lyon-plant"}


def test_normalize_url_resolves_short_links() -> None:
    resolve = {"https://t.co/abc": "https://www.acme.com/report/?utm_source=tw"}
    assert normalize_url("https://t.co/abc", resolve) == "acme.com/report"
    assert normalize_url("https://t.co/abc/", resolve) == "acme.com/report"
    assert normalize_url("https://t.co/zzz", resolve) == "t.co/zzz"


def test_link_set_drops_unresolved_short_links_and_statuses() -> None:
    urls = ["https://t.co/abc", "https://bit.ly/xyz", "https://x.com/acme/status/1",
            "https://www.acme.com/a/?utm_source=x", "http://acme.com/a"]
    assert link_set(urls) == frozenset({"acme.com/a"})
    resolved = link_set(urls, {"https://t.co/abc": "https://example.org/story?ref=tw"})
    assert resolved == frozenset({"acme.com/a", "example.org/story"})
    assert link_set([]) == frozenset()


def test_is_short_link() -> None:
    assert is_short_link("https://t.co/abc") and is_short_link("bit.ly/x")
    assert is_short_link("https://www.bit.ly/x")
    assert not is_short_link("https://acme.com/a")


@pytest.mark.parametrize("url", ["http://example.com:abc/page", "https://example.com:99999/x"])
def test_normalize_url_malformed_port_returns_none(url: str) -> None:
    assert normalize_url(url) is None
    # and one bad URL in an imported post must not crash the classification of the batch
    p = post("e1", T0, "Worth a read.", urls=(url, "https://acme.com/news/lyon-plant"))
    assert one(p, ON_LINE).post_class == PostClass.ECHO


# ---------------------------------------------------------------------------------------------
# lexical


def test_near_copy_scores_high() -> None:
    assert lexical_similarity(CORP_TEXT_1, CORP_TEXT_1) == pytest.approx(1.0)
    assert lexical_similarity(CORP_TEXT_1 + " So proud of the team!", CORP_TEXT_1) > 0.9
    assert lexical_similarity("RT @Acme: " + CORP_TEXT_1, CORP_TEXT_1) > 0.9
    assert lexical_similarity("Wow. " + CORP_TEXT_1 + " https://t.co/x", CORP_TEXT_1) > 0.7


def test_paraphrase_with_other_words_scores_low() -> None:
    paraphrase = "Three hundred people will soon work at our brand-new cell plant near the Rhône."
    assert lexical_similarity(paraphrase, CORP_TEXT_1) < 0.3
    assert lexical_similarity(UNRELATED_TEXT, CORP_TEXT_1) < 0.3


def test_lexical_ignores_accents_case_and_punctuation() -> None:
    a = "L'ÉCONOMIE française accélère : nouvelle usine à Lyon !"
    b = "l economie francaise accelere nouvelle usine a lyon"
    assert lexical_similarity(a, b) == pytest.approx(1.0)


def test_shared_terms_ignore_stopwords_and_keep_first_post_order() -> None:
    a = "The new factory and the jobs are here for the region, with our partners"
    b = "Our partners and the region: a factory with jobs for all of them"
    got = shared_terms(a, b)
    assert got == ("factory", "jobs", "region", "partners")
    assert not {"the", "and", "for", "with", "our", "are", "here"} & set(got)
    assert shared_terms("Une usine pour les emplois", "les emplois dans une usine") == \
        ("usine", "emplois")
    assert shared_terms("alpha beta", "gamma delta") == ()


def test_terms_fold_and_dedupe() -> None:
    assert terms("Économie, ÉCONOMIE et économie à Lyon 2024 @acme https://t.co/x") == \
        ["economie", "lyon"]


# ---------------------------------------------------------------------------------------------
# calibrate


NULL_MEAN, NULL_DIM = 0.2, 100  # pairwise similarity 0.2 + 0.8 * N(0, 1/100) = N(0.2, 0.08)


def null_like(rng: np.random.Generator, n: int) -> np.ndarray:
    """Unit vectors whose pairwise similarities are ~ N(0.2, 0.08): a shared component plus
    a random direction in 100 other dimensions (like an embedding model's common offset)."""
    rest = random_units(rng, n, NULL_DIM)
    return np.concatenate([np.full((n, 1), np.sqrt(NULL_MEAN)),
                           np.sqrt(1 - NULL_MEAN) * rest], axis=1)


def paraphrase_of(rng: np.random.Generator, vecs: np.ndarray, noise: float = 0.5) -> np.ndarray:
    """A paraphrase of each row (similarity about 0.9) in the null_like space."""
    extra = np.concatenate([np.zeros((len(vecs), 1)),
                            random_units(rng, len(vecs), NULL_DIM)], axis=1)
    return normalise(vecs + noise * extra)


def random_texts(rng: np.random.Generator, n: int) -> list[str]:
    letters = np.array(list("abcdefghijklmnopqrstuvwxyz"))
    return [" ".join("".join(rng.choice(letters, rng.integers(3, 9))) for _ in range(12))
            for _ in range(n)]


def history(rng: np.random.Generator, ne: int, nc: int, days: float
            ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Unrelated executive and corporate vectors with random times over `days`."""
    et = rng.uniform(0, days * DAY, ne)  # executive times need not be sorted
    ct = np.sort(rng.uniform(0, days * DAY, nc))
    return null_like(rng, ne), et, null_like(rng, nc), ct


def test_shifted_null_only_pairs_posts_weeks_apart() -> None:
    rng = np.random.default_rng(11)
    ev, et, cv, ct = history(rng, 200, 250, 150)
    # plant real paraphrases one day after corporate posts: they must never enter the null
    planted = rng.choice(250, 40, replace=False)
    ev[:40], et[:40] = paraphrase_of(rng, cv[planted]), ct[planted] + DAY
    lag = 3 * DAY
    sims, ei, ci = cal.shifted_nearest_null(ev, et, cv, ct, lag)
    assert len(sims) == len(ei) == len(ci) > 500
    gap = np.abs(et[ei] - ct[ci])
    min_gap = min(abs(s) for s in cal.SHIFT_DAYS) * DAY - lag
    assert min_gap >= 7 * DAY
    assert (gap >= min_gap).all()
    np.testing.assert_allclose(sims, np.einsum("ij,ij->i", ev[ei], cv[ci]), atol=1e-6)
    planted_pairs = set(zip(range(40), planted.tolist(), strict=True))
    assert not planted_pairs & set(zip(ei.tolist(), ci.tolist(), strict=True))
    assert sims.max() < 0.7  # no paraphrase similarity in the null


def test_shifted_null_is_the_nearest_post_of_each_shifted_window() -> None:
    rng = np.random.default_rng(12)
    ev, et, cv, ct = history(rng, 60, 120, 90)
    lag = 3 * DAY
    sims, ei, ci = cal.shifted_nearest_null(ev, et, cv, ct, lag, shifts_days=(14.0,))
    for s, i, j in zip(sims, ei, ci, strict=True):
        in_window = np.abs(et[i] + 14 * DAY - ct) <= lag
        assert in_window[j]
        assert s == pytest.approx(float((cv[in_window] @ ev[i]).max()), abs=1e-6)
    with_window = [i for i in range(60) if (np.abs(et[i] + 14 * DAY - ct) <= lag).any()]
    assert sorted(ei.tolist()) == with_window


def test_calibrated_overlap_threshold_sits_in_the_far_tail_of_the_null() -> None:
    rng = np.random.default_rng(21)
    ev, et, cv, ct = history(rng, 300, 300, 180)
    c = cal.calibrate(ev, et, random_texts(rng, 300), cv, ct, random_texts(rng, 300),
                      np.zeros((0, ev.shape[1])), lag_days=3.0)
    assert c is not None
    assert c.null_size >= cal.MIN_NULL
    assert NULL_MEAN < c.null_median < c.overlap
    # fresh unrelated pairs: almost never above the threshold
    fresh = np.einsum("ij,ij->i", null_like(rng, 20000), null_like(rng, 20000))
    assert np.mean(fresh >= c.overlap) <= 0.005
    # fresh unrelated executive posts against their nearest corporate post in the ±3-day
    # window (the statistic the classification thresholds): about 1 % flagged, not more
    fev, fet, fcv, fct = history(rng, 2000, 300, 180)
    nearest = window_neighbours(fev, fet, fcv, fct, 3 * DAY, k=1).best
    assert np.mean(nearest[np.isfinite(nearest)] >= c.overlap) <= 0.025
    # a typical paraphrase: well above it
    base = null_like(rng, 500)
    para_sims = np.einsum("ij,ij->i", base, paraphrase_of(rng, base))
    assert c.overlap < float(np.median(para_sims))
    assert np.mean(para_sims >= c.overlap) > 0.95
    assert cal.LEXICAL_FLOOR <= c.lexical <= 0.97
    assert "calibrated on" in c.method and f"{c.null_size:,}" in c.method


def test_calibrate_ignores_real_paraphrases_in_the_history() -> None:
    """The exec account paraphrased a quarter of the corporate posts: the threshold must still
    sit below paraphrase similarity (those pairs are days apart, never in the null)."""
    rng = np.random.default_rng(26)
    ev, et, cv, ct = history(rng, 300, 300, 180)
    src = rng.choice(300, 75, replace=False)
    ev[:75], et[:75] = paraphrase_of(rng, cv[src]), ct[src] + 0.5 * DAY
    c = cal.calibrate(ev, et, random_texts(rng, 300), cv, ct, random_texts(rng, 300),
                      np.zeros((0, ev.shape[1])))
    assert c is not None
    para = np.einsum("ij,ij->i", ev[:75], cv[src])
    assert np.mean(para >= c.overlap) > 0.95


def test_calibrate_returns_none_when_history_is_too_short() -> None:
    rng = np.random.default_rng(22)
    ev, et, cv, ct = history(rng, 40, 40, 10)  # ten days: no window weeks away holds a post
    texts = random_texts(rng, 40)
    assert cal.calibrate(ev, et, texts, cv, ct, texts, np.zeros((0, ev.shape[1]))) is None
    # far apart but only a handful of posts
    ev, et, cv, ct = history(rng, 5, 5, 120)
    assert cal.calibrate(ev, et, texts[:5], cv, ct, texts[:5],
                         np.zeros((0, ev.shape[1]))) is None


def topical(rng: np.random.Generator, topics: np.ndarray, n: int, spread: float) -> np.ndarray:
    """Posts scattered around the given topic directions."""
    which = rng.integers(len(topics), size=n)
    return normalise(topics[which] + spread * rng.standard_normal((n, topics.shape[1]))
                     / np.sqrt(topics.shape[1]))


def from_corp(corp: np.ndarray, offlimits: np.ndarray, null: np.ndarray | None = None
              ) -> cal.Calibration:
    """calibrate_from_null with a given null sample (default: flat 0.2) over 50 pairs."""
    n = min(50, corp.shape[0])
    return cal.calibrate_from_null(np.full(n, 0.2) if null is None else null[:n], np.arange(n),
                                   np.arange(n), ["executive text"] * n, corp,
                                   ["corporate words"] * corp.shape[0], offlimits)


def test_offline_threshold_separates_corporate_like_from_unrelated() -> None:
    rng = np.random.default_rng(23)
    topics = B[:4]
    corp = topical(rng, topics, 200, 0.6)
    c = from_corp(corp, np.zeros((0, DIM)))
    centroids = topic_centroids(corp)
    fresh_corp, _ = max_similarity(topical(rng, topics, 500, 0.6), centroids)
    unrelated, _ = max_similarity(random_units(rng, 500, DIM), centroids)
    assert np.mean(fresh_corp >= c.offline) >= 0.95
    assert np.mean(unrelated < c.offline) >= 0.95


def test_offline_threshold_flags_nothing_with_too_few_corporate_posts() -> None:
    rng = np.random.default_rng(24)
    c = from_corp(random_units(rng, 6, DIM), np.zeros((0, DIM)))
    assert c.offline <= -1.0


def test_offlimits_threshold_is_above_corporate_posts() -> None:
    rng = np.random.default_rng(25)
    examples = stack([B[20], B[21]])
    # corporate posts that brush against the first topic (about 0.6): the threshold must not
    # flag the brand's own posts
    corp = normalise(0.6 * B[20] + 0.8 * topical(rng, B[:3], 150, 0.3))
    corp_off, _ = max_similarity(corp, examples)
    c = from_corp(corp, examples)
    assert c.offlimits > float(corp_off.max())
    assert c.offlimits < 0.97
    # a post on the off-limits topic is still caught
    assert float(normalise(B[20] + 0.2 * B[16]) @ B[20]) >= c.offlimits
    # a brand that never goes near the topic: still above every one of its posts
    calm = topical(rng, B[:3], 150, 0.3)
    c2 = from_corp(calm, examples, np.linspace(0.1, 0.5, 50))
    assert c2.offlimits > float(max_similarity(calm, examples)[0].max())
    assert c2.offlimits < 0.97


# ---------------------------------------------------------------------------------------------
# drift


def voice(rng: np.random.Generator, centre: np.ndarray, n: int, spread: float = 0.8
          ) -> np.ndarray:
    return normalise(centre + spread * rng.standard_normal((n, centre.shape[0]))
                     / np.sqrt(centre.shape[0]))


def test_drift_detects_a_real_shift() -> None:
    rng = np.random.default_rng(31)
    baseline = voice(rng, B[0], 60)
    recent = voice(rng, combo((0.6, 0), (0.8, 5)), 15)
    result = voice_drift(baseline, recent, permutations=300)
    assert result.status == "drift"
    assert result.p_value is not None and result.p_value < 0.01
    assert result.mmd2 is not None and result.mmd2 > 0
    assert (result.n_baseline, result.n_recent) == (60, 15)
    assert "differs" in result.message


def test_mmd_permutation_test_on_a_shift() -> None:
    rng = np.random.default_rng(32)
    mmd2, p = mmd_permutation_test(voice(rng, B[0], 40), voice(rng, B[1], 20),
                                   permutations=200)
    assert mmd2 > 0 and p == pytest.approx(1 / 201)


def test_drift_false_alarm_rate_without_drift() -> None:
    """No drift: recent posts drawn from the baseline's own distribution. A valid permutation
    test at alpha=0.05 alarms in at most 5 % of trials; over 200 seeded trials the observed count
    may exceed 10 only by binomial noise (sd 3.1), so allow up to 3 sd: 19 alarms (an invalid,
    anti-conservative test would alarm far more, and its p-values would not be uniform)."""
    trials, alarms, p_values = 200, 0, []
    for seed in range(trials):
        rng = np.random.default_rng(1000 + seed)
        centre = random_units(rng, 1, 16)[0]
        baseline, recent = voice(rng, centre, 60), voice(rng, centre, 15)
        result = voice_drift(baseline, recent, alpha=0.05, permutations=200, seed=seed)
        assert result.status in ("drift", "stable") and result.p_value is not None
        p_values.append(result.p_value)
        alarms += result.status == "drift"
    assert alarms <= 0.05 * trials + 3 * np.sqrt(0.05 * 0.95 * trials)
    # and the p-values look uniform, not piled up near zero
    assert np.mean(np.array(p_values) < 0.2) < 0.3
    assert 0.35 < np.median(p_values) < 0.65


def test_drift_false_alarm_rate_at_the_default_alpha_is_at_most_5_percent() -> None:
    """With the monitor's default alpha (0.01), weeks with no drift raise an alarm in at most
    5 % of cases (expected about 1 %)."""
    from monitor.config import AnalysisConfig

    alpha = AnalysisConfig().drift_alpha
    trials, alarms = 200, 0
    for seed in range(trials):
        rng = np.random.default_rng(5000 + seed)
        centre = random_units(rng, 1, 16)[0]
        result = voice_drift(voice(rng, centre, 60), voice(rng, centre, 12), alpha=alpha,
                             permutations=200, seed=seed)
        alarms += result.status == "drift"
    assert alarms / trials <= 0.05


def test_drift_needs_enough_posts() -> None:
    rng = np.random.default_rng(33)
    baseline = voice(rng, B[0], 60)
    quiet_week = voice(rng, B[5], 3)  # completely different, but only three posts
    result = voice_drift(baseline, quiet_week)
    assert result.status == "insufficient data"
    assert result.p_value is None and result.mmd2 is None
    assert "3 recent" in result.message
    short_baseline = voice_drift(baseline[:10], voice(rng, B[0], 15))
    assert short_baseline.status == "insufficient data"


def test_drift_direction_toward_and_away_from_corporate_voice() -> None:
    rng = np.random.default_rng(34)
    corporate = voice(rng, B[0], 40, spread=0.3)
    baseline = voice(rng, combo((0.5, 0), (0.866, 3)), 60, spread=0.3)
    toward = voice(rng, combo((0.9, 0), (0.436, 3)), 15, spread=0.3)
    away = voice(rng, combo((0.1, 0), (0.995, 3)), 15, spread=0.3)
    steady = voice(rng, combo((0.5, 0), (0.866, 3)), 15, spread=0.3)
    t = voice_drift(baseline, toward, corporate, permutations=200)
    assert t.direction == "toward the corporate voice" and t.status == "drift"
    assert t.corporate_similarity_recent is not None and t.corporate_similarity_baseline
    assert t.corporate_similarity_recent > t.corporate_similarity_baseline
    assert "toward the corporate voice" in t.message
    a = voice_drift(baseline, away, corporate, permutations=200)
    assert a.direction == "away from the corporate voice" and a.status == "drift"
    s = voice_drift(baseline, steady, corporate, permutations=200)
    assert s.direction == "steady" and s.status == "stable"
    assert voice_drift(baseline, toward).direction == "steady"  # no corporate posts given


# ---------------------------------------------------------------------------------------------
# rates


def finding(at: datetime, cls: PostClass, post_id: str = "x") -> Finding:
    return Finding(post_id=post_id, account="jane_ceo", created_at=at, post_class=cls,
                   reason="test")


MONDAY = datetime(2024, 3, 4, 9, 0, tzinfo=UTC)


def test_overlap_rate_is_echo_plus_overlap_over_posts() -> None:
    items = ([finding(MONDAY, PostClass.ECHO)] * 2 + [finding(MONDAY, PostClass.OVERLAP)]
             + [finding(MONDAY, PostClass.OFF_LINE)] + [finding(MONDAY,
                                                               PostClass.COMPLEMENTARY)] * 4)
    t = totals(items)
    assert t.posts == 8 and t.redundant == 3
    assert t.overlap_rate == pytest.approx(3 / 8)
    assert t.counts[PostClass.OFF_LINE] == 1 and t.counts[PostClass.COMPLEMENTARY] == 4
    assert t.start == date(2024, 3, 4) and t.end == date(2024, 3, 5)


def test_totals_empty_is_none_rate() -> None:
    t = totals([])
    assert t.posts == 0 and t.overlap_rate is None


def test_weeks_start_on_monday_and_empty_weeks_are_kept() -> None:
    sunday_night = datetime(2024, 3, 10, 23, 30, tzinfo=UTC)
    next_monday = datetime(2024, 3, 11, 0, 15, tzinfo=UTC)
    three_weeks_later = datetime(2024, 3, 27, 12, 0, tzinfo=UTC)
    items = [finding(MONDAY, PostClass.ECHO), finding(sunday_night, PostClass.COMPLEMENTARY),
             finding(next_monday, PostClass.OVERLAP), finding(next_monday, PostClass.OFF_LINE),
             finding(three_weeks_later, PostClass.COMPLEMENTARY)]
    weeks = by_period(items, "week")
    assert [w.start for w in weeks] == [date(2024, 3, 4), date(2024, 3, 11),
                                        date(2024, 3, 18), date(2024, 3, 25)]
    assert all(w.start.weekday() == 0 and w.end == w.start + timedelta(days=7) for w in weeks)
    assert [w.posts for w in weeks] == [2, 2, 0, 1]
    assert [w.overlap_rate for w in weeks] == [0.5, 0.5, None, 0.0]


def test_by_period_days_months_and_bounds() -> None:
    items = [finding(datetime(2024, 1, 31, 23, 59, tzinfo=UTC), PostClass.ECHO),
             finding(datetime(2024, 3, 1, 0, 1, tzinfo=UTC), PostClass.COMPLEMENTARY)]
    months = by_period(items, "month")
    assert [(m.start, m.end) for m in months] == [
        (date(2024, 1, 1), date(2024, 2, 1)), (date(2024, 2, 1), date(2024, 3, 1)),
        (date(2024, 3, 1), date(2024, 4, 1))]
    assert [m.overlap_rate for m in months] == [1.0, None, 0.0]
    days = by_period(items[:1], "day", first=date(2024, 1, 30), last=date(2024, 2, 2))
    assert [d.start for d in days] == [date(2024, 1, 30) + timedelta(days=i) for i in range(4)]
    assert [d.posts for d in days] == [0, 1, 0, 0]
    assert by_period([], "week") == []
    assert [w.start for w in by_period([], "week", first=date(2024, 3, 6))] == \
        [date(2024, 3, 4)]
    assert period_start(datetime(2024, 12, 31, tzinfo=UTC), "month") == date(2024, 12, 1)
    with pytest.raises(ValueError, match="unknown period"):
        period_start(MONDAY, "fortnight")


# ---------------------------------------------------------------------------------------------
# purity


def test_analysis_imports_no_io_libraries() -> None:
    code = textwrap.dedent("""
        import importlib, pkgutil, sys
        import monitor.analysis as pkg
        names = [m.name for m in pkgutil.iter_modules(pkg.__path__)]
        for name in names:
            importlib.import_module("monitor.analysis." + name)
        importlib.import_module("monitor.models")
        banned = ("sqlalchemy", "tweepy", "torch", "sentence_transformers", "transformers",
                  "requests", "httpx", "urllib3", "aiohttp", "socket", "ssl", "http",
                  "monitor.store", "monitor.embed", "monitor.ingest", "monitor.pipeline")
        bad = sorted(m for m in sys.modules if m.startswith(banned)
                     and (m in banned or m.startswith(tuple(b + "." for b in banned))))
        print(len(names), ",".join(bad))
    """)
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=60, check=True, cwd=Path(__file__).resolve().parents[1]
                         ).stdout.split()
    assert int(out[0]) >= 8  # text, links, lexical, similarity, classify, calibrate, drift, rates
    assert out[1:] == [], f"monitor.analysis imports I/O libraries: {out[1:]}"

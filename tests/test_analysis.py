"""Unit tests of the pure analysis package (monitor/analysis/) on constructed vectors and posts.

Everything here is built by hand: unit vectors from a seeded orthonormal basis (so that every
similarity is known exactly) or from a seeded rng, and `Post` objects with aware UTC datetimes.
No database, model, network or clock.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest

from monitor.analysis.lexical import lexical_similarity, shared_terms
from monitor.analysis.links import is_short_link, link_set, normalize_url
from monitor.analysis.rates import by_period, period_start, totals
from monitor.analysis.similarity import BLOCK, max_similarity, topic_centroids, window_neighbours
from monitor.analysis.text import terms
from monitor.models import Finding, PostClass

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


CORP_TEXT_1 = "Acme opens its new battery factory in Lyon, creating 300 local jobs."
UNRELATED_TEXT = "Weekend reading: a wonderful biography of Marie Curie, highly recommended."


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

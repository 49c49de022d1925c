"""Chance levels, calibration, drift, substance, stance cues and languages (pure analysis)."""

from __future__ import annotations

import math
import zlib
from datetime import timedelta

import numpy as np
import pytest

from monitor.analysis.calibrate import calibrate
from monitor.analysis.chance import (
    FLOOR_QUANTILE,
    benjamini_hochberg,
    chance_matches,
    default_null,
    fit_null,
    q_values,
    survival,
    window_max,
    window_p_value,
    window_starts,
)
from monitor.analysis.drift import MIN_HISTORY, drift_z, mmd_permutation_test, voice_drift
from monitor.analysis.language import guess_language, language_mix, serves_english_only
from monitor.analysis.offlimits import Guardrails, stance_cue
from monitor.analysis.offline import own_baseline_similarity
from monitor.analysis.substance import content_words, substance
from monitor.analysis.wordvec import word_keys, word_vectors
from tests.worlds import DAY, DIM, T0, near, normalise, post, unrelated, words, world

# -- substance ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "expected"), [
    ("Yes", 0), ("Exactly 👍", 0), ("@psicorp_co @bkeyport Exactly", 0),
    ("https://t.co/AbC123", 0), ("☀️ https://t.co/xyz", 0), ("Merci !", 0),
    ("RT @acme: Merci à tous", 0), ("Hmmm", 0), (".sus", 1), ("The Spice Flows", 2),
    ("Oui, 40 CDI, surtout en soudure et en montage.", 5),
    ("la France est devenue le pays le plus attractif d'Europe… on continue !", 6)])
def test_substance_counts_the_words_a_post_says_itself(text: str, expected: int) -> None:
    assert substance(text) == expected


def test_content_words_are_folded_and_figures_count() -> None:
    assert content_words("Économie : 300 emplois à Lyon, 1/3 en CDI #Économie") == (
        "economie", "300", "emplois", "lyon", "cdi")


# -- the chance level --------------------------------------------------------------------------

def test_fit_null_survival_is_the_empirical_tail_then_smooth() -> None:
    rng = np.random.default_rng(1)
    z = rng.standard_normal(50_000)
    null = fit_null(z, 0.3 + 0.1 * z)
    grid = np.array([-1.0, 0.0, 1.0, 2.0])
    assert np.allclose(survival(null, grid), [np.mean(z >= g) for g in grid], atol=0.01)
    far = survival(null, np.array([3.0, 4.0, 6.0, 9.0]))
    assert np.all(np.diff(far) < 0) and far[-1] > 0  # smooth and never exactly zero
    assert survival(null, np.array([np.nan]))[0] == 1.0
    assert null.cos_floor == pytest.approx(np.quantile(0.3 + 0.1 * z, FLOOR_QUANTILE), abs=1e-9)


def test_more_windows_give_chance_more_chances() -> None:
    null = default_null(0.5)
    z = np.full(4, 2.5)
    p = window_p_value(null, z, np.array([1, 5, 20, 0]))
    assert p[0] < p[1] < p[2] <= 1.0 and p[3] == 1.0


def test_benjamini_hochberg_matches_its_definition() -> None:
    rng = np.random.default_rng(2)
    p = rng.uniform(size=200) ** 3
    q = benjamini_hochberg(p)
    m = len(p)
    for i in range(m):  # q_i = min over ranks r >= rank(i) of p_(r) * m / r
        ranks = np.argsort(np.argsort(p)) + 1
        expect = min(1.0, min(p[j] * m / ranks[j] for j in range(m) if p[j] >= p[i]))
        assert q[i] == pytest.approx(expect)
    assert q_values(p[:5], family=[0.5] * 95)[0] >= benjamini_hochberg(p[:5])[0]


def test_chance_matches_standardises_by_the_other_windows() -> None:
    """Brute force on a small world: the background is the best match of each other ±lag
    window, the statistic the best match of the post's own window."""
    rng = np.random.default_rng(3)
    n_c, n_e = 120, 5
    ct = np.sort(rng.uniform(-80, 80, n_c)) * DAY
    et = rng.uniform(-10, 10, n_e) * DAY
    cv, ev = unrelated(rng, n_c), unrelated(rng, n_e)
    ok_c, ok_e = np.ones(n_c, dtype=bool), np.ones(n_e, dtype=bool)
    res = chance_matches(ev, et, ok_e, cv, ct, ok_c, lag_days=3, horizon_days=30,
                         reference_days=90, null=default_null(0.4))
    for i in range(n_e):
        sims = cv @ ev[i]
        which = np.rint((ct - et[i]) / (6 * DAY)).astype(int)
        bests = [sims[which == w].max() for w in range(-15, 16) if w != 0 and (which == w).any()]
        mid = np.median(bests)
        spread = max(1.4826 * np.median(np.abs(np.array(bests) - mid)), 0.02)
        own = sims[which == 0]
        assert res.centre[i] == pytest.approx(mid) and res.spread[i] == pytest.approx(spread)
        if len(own):
            assert res.window.similarity[i] == pytest.approx(own.max())
            assert res.window.z[i] == pytest.approx((own.max() - mid) / spread)


def test_window_max_is_the_best_of_each_window_in_one_pass() -> None:
    """Window numbers rise along each row (corporate posts in time order); windows may be
    empty, numbers may fall outside ±reach, cells may be -inf: same as a max per window."""
    rng = np.random.default_rng(9)
    for _ in range(200):
        b, m, reach = int(rng.integers(1, 12)), int(rng.integers(1, 40)), int(rng.integers(0, 5))
        which = np.sort(rng.integers(-reach - 3, reach + 4, size=(b, m)), axis=1)
        values = rng.normal(size=(b, m))
        values[rng.random((b, m)) < 0.3] = -np.inf
        expect = np.stack([np.max(np.where(which == w, values, -np.inf), axis=1)
                           for w in range(-reach, reach + 1)], axis=1)
        assert np.array_equal(window_max(values, window_starts(which, reach)), expect)


# -- calibration -------------------------------------------------------------------------------

def test_calibration_learns_chance_from_far_windows_only() -> None:
    w = world()
    cal = w.calibration
    assert cal.sufficient and cal.null is not None and cal.null.size >= 300
    assert "far windows" in cal.method and "30 days" in cal.method
    # Unrelated posts: best matches standardised against their own background are ~N(0, 1)
    assert abs(survival(cal.null, np.array([0.0]))[0] - 0.5) < 0.15
    assert 0.3 < cal.null.cos_floor < 0.7


def test_a_short_history_is_not_enough_to_calibrate() -> None:
    rng = np.random.default_rng(4)
    execs = [post(f"x{i}", T0 + timedelta(hours=11 * i), words(rng)) for i in range(40)]
    corp = [post(f"c{i}", T0 + timedelta(hours=12 * i), words(rng), account="Acme")
            for i in range(40)]
    cal = calibrate(execs, unrelated(rng, 40), corp, unrelated(rng, 40), Guardrails.empty(DIM),
                    lag_days=3, recycle_days=30, reference_days=90, topics_key="k", size=80)
    assert not cal.sufficient and cal.null is None and "not enough history" in cal.method


def test_a_brand_that_talks_politics_weakens_the_guardrail_and_says_why() -> None:
    w = world()
    politics = normalise(w.rng.standard_normal(DIM))
    rails = Guardrails(np.vstack([near(politics, 0.8, w.rng) for _ in range(4)]),
                       ("party politics",) * 4)
    calm = calibrate(w.execs, w.exec_vecs, w.corp, w.corp_vecs, rails, lag_days=3,
                     recycle_days=30, reference_days=90, topics_key="k", size=1)
    assert calm.guardrail_note is None
    talky = w.corp_vecs.copy()
    talky[::3] = [near(politics, 0.85, w.rng) for _ in range(len(talky[::3]))]
    weak = calibrate(w.execs, w.exec_vecs, w.corp, talky, rails, lag_days=3, recycle_days=30,
                     reference_days=90, topics_key="k", size=1)
    assert weak.guardrail_note is not None and "party politics" in weak.guardrail_note
    assert "weakened" in weak.guardrail_note and "stance cues" in weak.guardrail_note
    assert weak.offlimits is not None and calm.offlimits is not None
    assert weak.offlimits > calm.offlimits


# -- drift -------------------------------------------------------------------------------------

def weekly_history(rng: np.random.Generator, weeks: int, per_week: int = 20,
                   clusters: int = 6) -> list[np.ndarray]:
    """A stationary but clustered voice: each week mixes the account's usual subjects, with a
    weekly burst on one of them (as real accounts do: a conference, a news week)."""
    centres = unrelated(rng, clusters)
    out = []
    for _ in range(weeks):
        burst = rng.integers(clusters)
        which = np.where(rng.uniform(size=per_week) < 0.4, burst,
                         rng.integers(clusters, size=per_week))
        out.append(np.vstack([near(centres[c], 0.7, rng) for c in which]))
    return out


def test_drift_on_a_stationary_clustered_voice_fires_on_at_most_one_week_in_ten() -> None:
    rng = np.random.default_rng(5)
    weeks = weekly_history(rng, 60)
    fired = tested = 0
    for end in range(10 + MIN_HISTORY, 60):
        history = []
        for k in range(1, 13):
            if end - k - 8 < 0:
                break
            past = drift_z(np.vstack(weeks[end - k - 8:end - k]), weeks[end - k], seed=k)
            if past is not None:
                history.append(past[2])
        result = voice_drift(np.vstack(weeks[end - 8:end]), weeks[end], history=history)
        tested += result.status != "insufficient data"
        fired += result.status == "drift"
    assert tested >= 40
    assert fired / tested <= 0.1
    # The plain permutation test alone (p < 0.01) would have fired far more often.
    plain = sum(mmd_permutation_test(np.vstack(weeks[e - 8:e]), weeks[e])[1] < 0.01
                for e in range(18, 60))
    assert plain / 42 > 0.3


def test_drift_fires_when_a_new_subject_takes_over_a_week() -> None:
    rng = np.random.default_rng(6)
    weeks = weekly_history(rng, 22)
    new_subject = unrelated(rng, 1)[0]
    weeks[-1] = np.vstack([near(new_subject, 0.7, rng) for _ in range(20)])
    history = [drift_z(np.vstack(weeks[-1 - k - 8:-1 - k]), weeks[-1 - k], seed=k)[2]  # type: ignore[index]
               for k in range(1, 13)]
    result = voice_drift(np.vstack(weeks[-9:-1]), weeks[-1], history=history)
    assert result.status == "drift" and "past weeks" in result.message
    assert result.history_z is not None and result.history_z > 2


def test_drift_needs_posts_and_a_history() -> None:
    rng = np.random.default_rng(7)
    weeks = weekly_history(rng, 10)
    quiet = voice_drift(np.vstack(weeks[:8]), weeks[8][:3], history=[1.0] * 10)
    assert quiet.status == "insufficient data" and "3 recent" in quiet.message
    young = voice_drift(np.vstack(weeks[:8]), weeks[8], history=[1.0] * (MIN_HISTORY - 1))
    assert young.status == "insufficient data" and "history" in young.message
    assert young.p_value is not None  # the test ran; only its yardstick is missing


# -- stance cues -------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "topic"), [
    ("LFI et LR votent n'importe quoi… pauvre France", "party politics"),
    ("Aux législatives, votez pour la majorité présidentielle", "party politics"),
    ("Ces journalistes mentent, c'est honteux", "polemics"),
    ("@untel vous êtes un incompétent", "polemics"),
    ("Vote for the Democrats, the Republicans are a disaster", "party politics"),
])
def test_taking_sides_or_attacking_is_a_stance(text: str, topic: str) -> None:
    cue = stance_cue(text)
    assert cue is not None and cue.topic == topic


@pytest.mark.parametrize("text", [
    "Rencontre avec le ministre de l'Économie sur l'emploi local",
    "Bonne chance au nouveau gouvernement",
    "Les élections ont lieu dimanche : allez voter, quel que soit votre choix",
    "Quel scandale ce temps pourri, vivement l'été",  # no target
    "Nos équipes n'ont jamais été aussi fières",
    "PS : on recrute à Lyon !",
])
def test_naming_a_subject_is_not_a_stance(text: str) -> None:
    assert stance_cue(text) is None


# -- languages and the model they call for ---------------------------------------------------

def test_language_from_x_or_from_function_words() -> None:
    assert guess_language("whatever", "fr") == "fr"
    assert guess_language("Nous avons ouvert une boutique dans le centre de Lyon") == "fr"
    assert guess_language("We opened a new store in the centre of Lyon") == "en"
    assert guess_language("👍") is None
    english = language_mix([("We opened a store and it is great", None)] * 20)
    assert serves_english_only(english)
    mixed = language_mix([("We opened a store and it is great", None)] * 8
                         + [("Nous avons ouvert une boutique", "fr")] * 2)
    assert not serves_english_only(mixed) and "80% en" in mixed.describe()
    assert not serves_english_only(language_mix([]))  # a new pair is not assumed English


def test_shared_rare_words_weigh_more_than_common_ones() -> None:
    texts = ["Tesla Solar Roof V3 launch at 2pm", "Join us at 2pm for our V3 Solar Roof",
             "Tesla Model 3 deliveries", "Tesla service centres", "Tesla superchargers"]
    assert {"v3", "2pm", "roof", "solar"} <= word_keys(texts[0])
    v = word_vectors(texts)
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert float(v[0] @ v[1]) > 0.5 > float(v[0] @ v[2])


def test_words_sharing_a_bucket_add_their_weights() -> None:
    """With 2 buckets, the words of a post collide: each bucket holds the sum of its words'
    IDF weights, and the row is still a unit vector."""
    texts = ["lampe tuile verre", "lampe", "tuile"]
    v = word_vectors(texts, width=2)
    weight = {"lampe": math.log(4 / 3) + 1, "tuile": math.log(4 / 3) + 1, "verre": math.log(2) + 1}
    cells = np.zeros(2)
    for w, x in weight.items():
        cells[zlib.crc32(w.encode()) % 2] += x
    assert np.allclose(v[0], cells / np.linalg.norm(cells), atol=1e-6)
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-6)


def test_own_baseline_reads_the_same_in_or_out_of_time_order() -> None:
    """The time-ordered path only skips baseline posts outside each block's reference span."""
    rng = np.random.default_rng(12)
    n, m = 700, 900
    t, bt = np.sort(rng.uniform(0, 400, n)) * DAY, np.sort(rng.uniform(0, 400, m)) * DAY
    v, bv = unrelated(rng, n), unrelated(rng, m)
    ordered = own_baseline_similarity(v, t, bv, bt, reference_days=90)
    shuffle = rng.permutation(m)
    unordered = own_baseline_similarity(v, t, bv[shuffle], bt[shuffle], reference_days=90)
    assert np.isfinite(ordered).sum() > n // 2
    assert np.allclose(ordered, unordered, equal_nan=True)

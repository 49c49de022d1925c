"""The verdict on each executive post, rule by rule, on constructed vectors (pure analysis)."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from monitor.analysis.offlimits import Guardrails
from monitor.models import PostClass
from tests.worlds import (
    DIM,
    QUOTE,
    REPLY,
    RETWEET,
    T0,
    near,
    normalise,
    post,
    thresholds,
    unrelated,
    words,
    world,
)

H = timedelta(hours=1)
D = timedelta(days=1)


def corp_post(i: int) -> tuple[str, np.ndarray]:
    w = world()
    return w.corp[i].post_id, w.corp_vecs[i]


# -- substance: what says too little is never judged by similarity ----------------------------

@pytest.mark.parametrize(("mine", "theirs"), [
    ("Yes", "Yes!"), ("Exactly", "@psicorp_co @bkeyport Exactly"),
    ("Definitely https://t.co/AbC", "Yes"), ("👍", "☀️ https://t.co/xyz"),
    ("https://t.co/AbC123", "https://t.co/Zz9"), ("I am an engineer", "Yes, an engineer")])
def test_a_post_that_says_too_little_is_never_a_repeat(mine: str, theirs: str) -> None:
    w = world()
    v = unrelated(w.rng, 1)[0]
    brand = post("b1", T0, theirs, account="Acme")
    f = w.one(post("e1", T0 + H, mine), v, extra_corp=[(brand, v)])  # identical vectors
    assert f.post_class == PostClass.COMPLEMENTARY
    assert "too short to compare" in f.reason and f.subkind == "short"
    assert f.substance is not None and f.substance < 3
    assert f.nearest_id is None and f.p_value is None


def test_a_short_brand_post_is_never_the_source_of_a_repeat() -> None:
    w = world()
    v = unrelated(w.rng, 1)[0]
    brand = post("b1", T0, "Merci à tous 🙏", account="Acme")
    f = w.one(post("e1", T0 + H, "Merci à tous nos clients fidèles de Lyon et Grenoble"), v,
              extra_corp=[(brand, v)])
    assert f.post_class == PostClass.COMPLEMENTARY
    assert f.nearest_id != "b1"


# -- overlap: standing out from the post's own chance level ----------------------------------

def test_a_specific_restatement_with_modest_similarity_is_an_overlap() -> None:
    w = world()
    j = w.corp_at(0)
    v = near(w.corp_vecs[j], 0.6, w.rng)
    f = w.one(post("e1", w.corp[j].created_at + D, words(w.rng)), v)
    assert f.post_class == PostClass.OVERLAP
    assert f.nearest_id == w.corp[j].post_id and f.nearest_account == "Acme"
    assert f.similarity == pytest.approx(0.6, abs=1e-6)
    assert f.days_apart == pytest.approx(1.0, abs=0.01)
    assert f.p_value is not None and f.q_value is not None and f.q_value <= 0.05
    assert "paraphrase of a @Acme post" in f.reason and "q" in f.reason


def test_an_on_theme_post_close_to_every_week_of_the_brand_is_not_a_repeat() -> None:
    """Similar to the brand's posts on its theme every week (0.64 on average, 0.7 in its own
    window): the window's best match does not stand out, whatever a global cut would say."""
    w = world()
    theme = normalise(w.rng.standard_normal(DIM))
    mine = near(theme, 0.8, w.rng)
    themed = []
    for k in range(-12, 13):  # one themed brand post a week over the reference period
        at = T0 + timedelta(days=7 * k, hours=3)
        v = near(theme, 0.8, w.rng)
        themed.append((post(f"t{k}", at, words(w.rng), account="Acme"), v))
    sims = [float(mine @ v) for _, v in themed]
    assert np.median(sims) > 0.5 and max(sims) > w.calibration.null.cos_floor  # type: ignore[union-attr]
    f = w.one(post("e1", T0 + 2 * H, words(w.rng)), mine, extra_corp=themed)
    assert f.post_class == PostClass.COMPLEMENTARY
    assert f.p_value is not None and f.p_value > 0.05


def test_false_discoveries_are_controlled_over_the_period() -> None:
    """The same post, alone, is an overlap; among many other tests of the period (their
    p-values given as the family), the same evidence no longer clears the FDR bar."""
    w = world()
    j = w.corp_at(10)
    floor = w.calibration.null.cos_floor  # type: ignore[union-attr]
    v = near(w.corp_vecs[j], floor + 0.02, w.rng)
    p = post("e1", w.corp[j].created_at + 2 * H, words(w.rng))
    alone = w.one(p, v)
    assert alone.post_class == PostClass.OVERLAP and alone.p_value is not None
    assert alone.p_value > 1e-8  # a modest piece of evidence
    family = [0.9] * int(4 * 0.05 / alone.p_value)
    crowded = w.one(p, v, family=family)
    assert crowded.post_class != PostClass.OVERLAP
    assert crowded.p_value == pytest.approx(alone.p_value)


def test_a_near_copy_needs_enough_text_on_both_sides() -> None:
    w = world()
    text = "Notre nouvelle usine de batteries ouvre à Lyon avec trois cents emplois locaux"
    brand = post("b1", T0, text, account="Acme")
    unrelated_vec = unrelated(w.rng, 2)
    f = w.one(post("e1", T0 + 3 * H, text + " — fière de cette équipe !"), unrelated_vec[0],
              extra_corp=[(brand, unrelated_vec[1])])
    assert f.post_class == PostClass.OVERLAP and f.subkind == "near-copy"
    assert f.lexical is not None and f.lexical >= 0.6 and f.nearest_id == "b1"


def test_a_translation_is_named_as_such() -> None:
    w = world()
    brand = post("b1", T0, "Our new battery plant opens in Lyon with three hundred local jobs",
                 account="Acme", lang="en")
    v = unrelated(w.rng, 1)[0]
    f = w.one(post("e1", T0 + 5 * H, "Notre usine de batteries ouvre à Lyon : trois cents "
                   "emplois locaux", lang="fr"), near(v, 0.8, w.rng), extra_corp=[(brand, v)])
    assert f.post_class == PostClass.OVERLAP and f.subkind == "translation"


# -- recycling ---------------------------------------------------------------------------------

@pytest.mark.parametrize("days", [6.2, 12.0, -12.0, 25.0])
def test_a_repeat_days_apart_is_recycled_with_the_gap(days: float) -> None:
    w = world()
    j = w.corp_at(0)
    v = near(w.corp_vecs[j], 0.8, w.rng)
    f = w.one(post("e1", w.corp[j].created_at + timedelta(days=days), words(w.rng)), v)
    assert f.post_class == PostClass.RECYCLED
    assert f.nearest_id == w.corp[j].post_id
    assert f.days_apart == pytest.approx(days, abs=0.01)
    assert ("after" if days > 0 else "before") in f.reason


def test_a_repeat_beyond_the_recycling_horizon_is_not_flagged() -> None:
    w = world()
    j = w.corp_at(0)
    v = near(w.corp_vecs[j], 0.8, w.rng)
    f = w.one(post("e1", w.corp[j].created_at + timedelta(days=40), words(w.rng)), v)
    assert f.post_class == PostClass.COMPLEMENTARY
    shorter = w.one(post("e1", w.corp[j].created_at + timedelta(days=12), words(w.rng)), v,
                    th=thresholds(recycle_days=10.0))
    assert shorter.post_class == PostClass.COMPLEMENTARY


# -- conversation ------------------------------------------------------------------------------

def test_a_reply_to_a_third_party_is_conversation() -> None:
    w = world()
    f = w.one(post("e1", T0, "@bob " + words(w.rng), kind=REPLY, referenced_ids=("9",),
                   referenced_accounts=("bob",)), unrelated(w.rng, 1)[0])
    assert f.post_class == PostClass.CONVERSATION and f.reason == "reply to @bob"


@pytest.mark.parametrize("to", ["Acme", "jane_ceo"])
def test_replies_to_the_brand_or_to_oneself_are_not_conversation(to: str) -> None:
    w = world()
    f = w.one(post("e1", T0, words(w.rng), kind=REPLY, referenced_ids=("9",),
                   referenced_accounts=(to,)), unrelated(w.rng, 1)[0])
    assert f.post_class == PostClass.COMPLEMENTARY


def test_a_reply_that_restates_a_brand_post_is_an_overlap() -> None:
    w = world()
    j = w.corp_at(3)
    f = w.one(post("e1", w.corp[j].created_at + 4 * H, "@bob " + words(w.rng), kind=REPLY,
                   referenced_accounts=("bob",)), near(w.corp_vecs[j], 0.75, w.rng))
    assert f.post_class == PostClass.OVERLAP


def test_a_short_reply_is_conversation_even_if_it_looks_like_a_brand_reply() -> None:
    w = world()
    v = unrelated(w.rng, 1)[0]
    brand = post("b1", T0, "@alice Yes", account="Acme", kind=REPLY,
                 referenced_accounts=("alice",))
    f = w.one(post("e1", T0 + H, "@RealBryanWatson Yes", kind=REPLY,
                   referenced_accounts=("RealBryanWatson",)), v, extra_corp=[(brand, v)])
    assert f.post_class == PostClass.CONVERSATION


# -- quotes and retweets, both directions --------------------------------------------------------

def test_a_retweet_of_the_brand_is_echo() -> None:
    w = world()
    j = w.corp_at(0)
    c = w.corp[j]
    f = w.one(post("e1", c.created_at + H, "RT @Acme: " + c.text, kind=RETWEET,
                   referenced_ids=(c.post_id,), referenced_accounts=("Acme",)), w.corp_vecs[j])
    assert f.post_class == PostClass.ECHO and f.subkind == "retweet"
    assert f.nearest_id == c.post_id and "retweet of a @Acme post" in f.reason


def test_a_bare_quote_is_echo_and_a_quote_with_a_comment_is_the_executives_voice() -> None:
    w = world()
    c = w.corp[w.corp_at(0)]
    link = f"https://x.com/Acme/status/{c.post_id}"
    bare = w.one(post("e1", c.created_at + H, "👏👏 " + link, kind=QUOTE, urls=(link,),
                      referenced_ids=(c.post_id,), referenced_accounts=("Acme",)),
                 unrelated(w.rng, 1)[0])
    assert bare.post_class == PostClass.ECHO and bare.subkind == "quote"
    assert "bare quote" in bare.reason
    commented = w.one(post("e2", c.created_at + H, "The Spice Flows — three years of work by "
                           "the Lyon team on this plant " + link, kind=QUOTE, urls=(link,),
                           referenced_ids=(c.post_id,), referenced_accounts=("Acme",)),
                      unrelated(w.rng, 1)[0])
    assert commented.post_class == PostClass.COMPLEMENTARY
    assert commented.subkind == "quote-comment" and commented.nearest_id == c.post_id


@pytest.mark.parametrize("with_link", [True, False])
def test_the_brand_retweeting_the_executive_makes_it_amplified_link_or_no_link(
        with_link: bool) -> None:
    w = world()
    v = unrelated(w.rng, 1)[0]
    urls = ("https://acme.com/news/lyon",) if with_link else ()
    text = "Visited our Lyon battery plant today: three hundred people, one mission"
    mine = post("e1", T0, text, urls=urls)
    rt = post("b1", T0 + 2 * H, "RT @jane_ceo: " + text, account="Acme", kind=RETWEET,
              referenced_ids=("e1",), referenced_accounts=("jane_ceo",), urls=urls)
    f = w.one(mine, v, extra_corp=[(rt, v)])
    assert f.post_class == PostClass.AMPLIFIED and f.subkind == "retweet"
    assert f.nearest_id == "b1" and "@Acme retweeted this post" in f.reason
    assert f.days_apart == pytest.approx(-2 / 24, abs=0.01)


def test_a_shared_link_goes_to_whoever_posted_it_first() -> None:
    w = world()
    url = "https://www.acme.com/news/lyon-plant/?utm_source=twitter"
    brand = post("b1", T0, words(w.rng), account="Acme", urls=(url,))
    later = w.one(post("e1", T0 + timedelta(days=4.6), "Worth a read",
                       urls=("http://acme.com/news/lyon-plant?fbclid=x",)),
                  unrelated(w.rng, 1)[0], extra_corp=[(brand, unrelated(w.rng, 1)[0])])
    assert later.post_class == PostClass.ECHO and later.subkind == "link"
    assert later.days_apart == pytest.approx(4.6, abs=0.01)
    assert "acme.com/news/lyon-plant" in later.reason
    first = w.one(post("e1", T0 - 2 * D, "Worth a read", urls=(url,)), unrelated(w.rng, 1)[0],
                  extra_corp=[(brand, unrelated(w.rng, 1)[0])])
    assert first.post_class == PostClass.AMPLIFIED and first.subkind == "link"
    assert first.days_apart == pytest.approx(-2.0, abs=0.01)


@pytest.mark.parametrize("bad", ["http://example.com:abc/page", "https://example.com:99999/x"])
def test_a_malformed_link_does_not_stop_the_other_links_being_matched(bad: str) -> None:
    w = world()
    brand = post("b1", T0, words(w.rng), account="Acme", urls=("https://acme.com/news/lyon",))
    f = w.one(post("e1", T0 + H, "Worth a read", urls=(bad, "https://acme.com/news/lyon/")),
              unrelated(w.rng, 1)[0], extra_corp=[(brand, unrelated(w.rng, 1)[0])])
    assert f.post_class == PostClass.ECHO and f.nearest_id == "b1"


def test_the_brand_restating_the_executive_days_later_is_amplified() -> None:
    w = world()
    j = w.corp_at(0)
    v = near(w.corp_vecs[j], 0.7, w.rng)
    f = w.one(post("e1", w.corp[j].created_at - 2 * D, words(w.rng)), v)
    assert f.post_class == PostClass.AMPLIFIED and f.subkind == "restated"
    assert f.days_apart == pytest.approx(-2.0, abs=0.01) and "restated this post" in f.reason


def test_the_brand_copying_the_executive_is_amplified() -> None:
    w = world()
    text = "Trois cents nouveaux collègues rejoignent notre usine de batteries de Lyon"
    copy = post("b1", T0 + D, text + " #fiers", account="Acme")
    f = w.one(post("e1", T0, text), unrelated(w.rng, 1)[0],
              extra_corp=[(copy, unrelated(w.rng, 1)[0])])
    assert f.post_class == PostClass.AMPLIFIED and f.subkind == "copy"
    assert f.nearest_id == "b1" and "copied its words" in f.reason


# -- off-limits --------------------------------------------------------------------------------

def test_taking_sides_on_parties_is_off_limits_and_named() -> None:
    w = world()
    f = w.one(post("e1", T0, "LFI et LR votent n'importe quoi… pauvre France"),
              unrelated(w.rng, 1)[0])
    assert f.post_class == PostClass.OFF_LIMITS and f.offlimits_topic == "party politics"
    assert "lfi" in f.reason


def test_a_neutral_mention_of_politics_is_not_off_limits() -> None:
    w = world()
    f = w.one(post("e1", T0, "Bonne chance au nouveau gouvernement pour ce défi de l'emploi"),
              unrelated(w.rng, 1)[0])
    assert f.post_class != PostClass.OFF_LIMITS


def test_examples_flag_only_what_is_closer_to_them_than_to_neutral_mentions() -> None:
    w = world()
    topic, neutral = unrelated(w.rng, 2)
    rails = Guardrails(topic[None, :], ("party politics",), neutral[None, :])
    side = w.one(post("e1", T0, words(w.rng)), near(topic, 0.85, w.rng), guardrails=rails)
    assert side.post_class == PostClass.OFF_LIMITS
    assert side.offlimits_similarity == pytest.approx(0.85, abs=1e-6)
    mixed = normalise(0.7 * topic + 0.75 * neutral)  # about the subject, closer to neutral
    assert float(mixed @ topic) >= 0.7
    f = w.one(post("e2", T0, words(w.rng)), mixed, guardrails=rails)
    assert f.post_class != PostClass.OFF_LIMITS


def test_off_limits_comes_before_a_repeat_and_a_brand_retweet_stays_echo() -> None:
    w = world()
    j = w.corp_at(0)
    c = w.corp[j]
    risky = w.one(post("e1", c.created_at + H, "Ce ministre est un incompétent, honteux"),
                  near(w.corp_vecs[j], 0.9, w.rng))
    assert risky.post_class == PostClass.OFF_LIMITS
    relayed = w.one(post("e2", c.created_at + H, "RT @Acme: Ce ministre est honteux",
                         kind=RETWEET, referenced_ids=(c.post_id,),
                         referenced_accounts=("Acme",)), w.corp_vecs[j])
    assert relayed.post_class == PostClass.ECHO


# -- off-line ----------------------------------------------------------------------------------

def test_off_line_needs_both_unusual_for_the_brand_and_for_the_executive() -> None:
    w = world()
    line = normalise(w.corp_vecs.mean(axis=0))[None, :]
    odd = normalise(w.rng.standard_normal(DIM) - 2 * line[0])
    th = thresholds(offline=0.2, offline_own=0.3)
    f = w.one(post("e1", T0, words(w.rng)), odd, centroids=line, th=th)
    assert f.post_class == PostClass.OFF_LINE
    assert "brand's line" in f.reason and "executive's own posts" in f.reason
    # The executive often writes like this (in another language, say): not off-line.
    own = [post(f"o{k}", T0 - timedelta(days=3 * k + 2), words(w.rng)) for k in range(6)]
    habit = [near(odd, 0.8, w.rng) for _ in own]
    from monitor.analysis.classify import OwnBaseline
    baseline = OwnBaseline(np.vstack([w.exec_vecs, *[h[None, :] for h in habit]]),
                           np.concatenate([np.array([p.created_at.timestamp()
                                                     for p in w.execs + own])]))
    usual = w.one(post("e1", T0, words(w.rng)), odd, centroids=line, th=th, own=baseline)
    assert usual.post_class == PostClass.COMPLEMENTARY
    short = w.one(post("e2", T0, "🏃‍♀️ 21 km"), odd, centroids=line, th=th)
    assert short.post_class == PostClass.COMPLEMENTARY


# -- mechanics ---------------------------------------------------------------------------------

def test_findings_follow_executive_order_with_unsorted_corporate_posts() -> None:
    w = world()
    posts = [post("e1", T0, words(w.rng)), post("e2", T0 - 5 * D, words(w.rng)),
             post("e3", T0 + 5 * D, words(w.rng))]
    vecs = list(unrelated(w.rng, 3))
    straight = w.classify(posts, vecs)
    from monitor.analysis.classify import classify
    shuffled = classify(posts, np.vstack(vecs), w.corp[::-1], w.corp_vecs[::-1], thresholds(),
                        corporate_accounts=["Acme"], null=w.calibration.null)
    assert [f.post_id for f in straight] == ["e1", "e2", "e3"]
    assert [f.post_class for f in shuffled] == [f.post_class for f in straight]


def test_no_corporate_posts_and_no_executive_posts() -> None:
    from monitor.analysis.classify import classify
    p = post("e1", T0, words(np.random.default_rng(1)))
    [f] = classify([p], unrelated(np.random.default_rng(2), 1), [], np.zeros((0, DIM)),
                   thresholds(), corporate_accounts=["Acme"])
    assert f.post_class == PostClass.COMPLEMENTARY and f.nearest_id is None
    assert "no corporate post" in f.reason
    assert classify([], np.zeros((0, DIM)), [], np.zeros((0, DIM)), thresholds(),
                    corporate_accounts=["Acme"]) == []

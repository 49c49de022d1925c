"""A day of findings built directly (the day the CEO attacked two parties), as the analysis
produces them, for the tests of what is told about a day: digests, alerts, channels, status."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from monitor.models import Finding, Post, PostClass, PostKind

if TYPE_CHECKING:
    from monitor.config import MonitorConfig

RISK_TEXT = "LFI et LR votent n'importe quoi… pauvre France. 😤 <script>x()</script>"


def make_post(pid: str, account: str, at: datetime, text: str, **kw: Any) -> Post:
    return Post(post_id=pid, account=account, created_at=at, text=text, **kw)


def seed_day(store: Any, cfg: MonitorConfig, *, redundant: int = 0,
             analysed: bool = True) -> dict[str, Post]:
    """The day of the issue: an attack on two parties (off-limits), a marathon post, and
    `redundant` retweets of the brand; the day before, two own posts. Findings are built
    directly, as the new analysis will produce them."""
    from monitor.embed import model_id_for

    at = datetime(2026, 11, 11, 8, tzinfo=UTC)
    brand = make_post("900", "MaisonLumiere", at - timedelta(days=1),
                      "Notre atelier de Lyon ouvre.")
    posts = {
        "risk": make_post("901", "claire_ml", at + timedelta(hours=10), RISK_TEXT),
        "run": make_post("902", "claire_ml", at, "22 km au bord de la Saône ce matin."),
        "before1": make_post("903", "claire_ml", at - timedelta(days=1), "Visite à Limoges."),
        "before2": make_post("904", "claire_ml", at - timedelta(days=1, hours=2),
                             "Merci à tous."),
    }
    for i in range(redundant):
        posts[f"rt{i}"] = make_post(f"91{i}", "claire_ml", at + timedelta(hours=1 + i),
                                    "RT @MaisonLumiere: Notre atelier de Lyon ouvre.",
                                    kind=PostKind.RETWEET, referenced_ids=("900",),
                                    referenced_accounts=("MaisonLumiere",))
    store.import_posts([brand, *posts.values()], source="jsonl")
    if not analysed:
        return posts
    items = []
    for sp in store.posts(["claire_ml"]):
        p = sp.post
        if p.post_id == "901":
            f = Finding(p.post_id, p.account, p.created_at, PostClass.OFF_LIMITS,
                        "close to off-limits topic 'party politics' (similarity 0.61 ≥ 0.50)",
                        offlimits_topic="party politics", offlimits_similarity=0.61)
        elif p.kind is PostKind.RETWEET:
            f = Finding(p.post_id, p.account, p.created_at, PostClass.ECHO,
                        "retweet of a @MaisonLumiere post", nearest_id="900",
                        similarity=0.99, subkind="retweet")
        else:
            f = Finding(p.post_id, p.account, p.created_at, PostClass.COMPLEMENTARY,
                        "own voice on the brand's themes")
        items.append((sp.pk, sp.text_hash, "k", f))
    store.save_findings("ml", model_id_for(cfg.model.name), items)
    return posts

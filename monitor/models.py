"""Plain dataclasses that cross module boundaries.

ORM rows, tweepy objects and numpy arrays stay inside their modules; what travels between the
store, the importers, the analysis and the reports is one of these.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class PostKind(StrEnum):
    """How a post relates to other posts, as X tells it."""

    ORIGINAL = "original"
    REPLY = "reply"
    RETWEET = "retweet"
    QUOTE = "quote"


class PostClass(StrEnum):
    """The analysis' verdict on one executive post.

    Families (what a comms lead acts on): risk (`off-limits`); redundancy (`echo`, `overlap`,
    `recycled`: these make the overlap rate); the executive's own voice (`complementary`,
    `conversation`, `amplified`); `off-line` (unusual for both the brand and the executive).
    """

    ECHO = "echo"  # relays a corporate post: retweet, bare quote, or a link the brand shared first
    OVERLAP = "overlap"  # restates a specific corporate post within the lag window
    RECYCLED = "recycled"  # restates a corporate post further apart (up to the recycling horizon)
    AMPLIFIED = "amplified"  # the brand retweeted, quoted or copied this executive post
    OFF_LIMITS = "off-limits"  # close to an off-limits topic (party politics, polemics...): a risk
    OFF_LINE = "off-line"  # unusual for the brand's line and for the executive's own baseline
    CONVERSATION = "conversation"  # a reply to a third party: the engagement asked of executives
    COMPLEMENTARY = "complementary"  # the executive's own voice on the brand's themes


#: Classes counted in the overlap rate: the executive repeating the brand.
REDUNDANT_CLASSES = frozenset({PostClass.ECHO, PostClass.OVERLAP, PostClass.RECYCLED})
#: Classes that are a risk for the brand: shown first, alerted at once.
RISK_CLASSES = frozenset({PostClass.OFF_LIMITS})


class Family(StrEnum):
    """How a class reads to a comms lead (badges, ordering)."""

    RISK = "risk"
    REDUNDANCY = "redundancy"
    UNUSUAL = "unusual"
    OWN_VOICE = "own voice"


def family(post_class: PostClass) -> Family:
    if post_class in RISK_CLASSES:
        return Family.RISK
    if post_class in REDUNDANT_CLASSES:
        return Family.REDUNDANCY
    if post_class is PostClass.OFF_LINE:
        return Family.UNUSUAL
    return Family.OWN_VOICE


@dataclass(frozen=True, slots=True)
class Post:
    """One post as the monitor stores it. `created_at` is timezone-aware UTC."""

    post_id: str
    account: str
    created_at: datetime
    text: str
    platform: str = "x"
    lang: str | None = None
    kind: PostKind = PostKind.ORIGINAL
    referenced_ids: tuple[str, ...] = ()
    referenced_accounts: tuple[str, ...] = ()
    urls: tuple[str, ...] = ()
    hashtags: tuple[str, ...] = ()
    mentions: tuple[str, ...] = ()
    edit_history: tuple[str, ...] = ()
    author_id: str | None = None


@dataclass(frozen=True, slots=True)
class Account:
    """An X account known to the store."""

    username: str
    platform: str = "x"
    user_id: str | None = None
    display_name: str | None = None
    status: str = "active"
    status_detail: str | None = None


@dataclass(frozen=True, slots=True)
class AccountSummary:
    """Per-account figures for `monitor status`."""

    platform: str
    username: str
    posts: int
    newest: datetime | None
    oldest: datetime | None
    user_id: str | None
    status: str
    since_id: str | None
    status_detail: str | None = None


@dataclass(frozen=True, slots=True)
class Thresholds:
    """The thresholds one analysis used, and why (calibrated, configured or default)."""

    overlap: float  # cosine a repeat must reach besides standing out (the far-pair floor)
    lexical: float  # character 5-gram overlap of a near-copy
    offline: float  # similarity to the corporate line under which a post is unusual for the brand
    offlimits: float  # similarity to an off-limits example at which a post is a risk
    lag_days: float  # the overlap window, ± days
    source: str  # e.g. "calibrated on 41,000 far pairs" or "configured"
    details: dict[str, str] = field(default_factory=dict)
    fdr: float = 0.05  # false-discovery rate of repeats over the period
    recycle_days: float = 30.0  # repeats up to this far apart, either direction, are recycled
    offline_own: float = -1.0  # similarity to the executive's own baseline under which unusual
    min_substance: int = 3  # content words a post needs to be judged by similarity
    guardrail_note: str | None = None  # why the off-limits guardrail is weakened, when it is


@dataclass(frozen=True, slots=True)
class ModelChoice:
    """Which encoder serves a pair, and why (every report says it)."""

    name: str  # what makes the encoder ("default", "use-multilingual", a model name or path)
    model_id: str  # the vector and findings cache key
    why: str  # one English line (logs, the CLI)
    basis: str = "configured"  # "configured", "auto-english", "auto-multilingual" or "given"
    languages: str = ""  # the pair's language mix when chosen automatically ("70% fr, 30% en")


@dataclass(frozen=True, slots=True)
class NullTail:
    """The chance level of repeats for one pair and model: the survival function of the
    standardised similarity of far (unrelated) post pairs, stored at fixed z values, with an
    exponential tail beyond `tail_start` (see `monitor.analysis.chance`)."""

    survival: tuple[float, ...]
    tail_start: float
    tail_scale: float
    size: int  # how many far pairs it was learnt from (0: the conservative default)
    cos_floor: float  # the far pairs' similarity quantile a repeat must reach
    centre: float  # pooled median and spread of far-pair similarities, for posts with too
    spread: float  # little background of their own


@dataclass(frozen=True, slots=True)
class Calibration:
    """What a pair's history says about chance, for one model. `sufficient` is False while the
    history is too short: the other fields are then unset and defaults apply."""

    posts: int  # the pair's post count when computed: recalibrated when it grows by a tenth
    topics_key: str  # identifies the off-limits topics it was computed with
    sufficient: bool
    method: str = ""
    null: NullTail | None = None
    lexical: float | None = None
    offline: float | None = None
    offline_own: float | None = None
    offlimits: float | None = None
    guardrail_note: str | None = None


@dataclass(frozen=True, slots=True)
class Finding:
    """The verdict on one executive post, with what explains it."""

    post_id: str
    account: str
    created_at: datetime
    post_class: PostClass
    reason: str
    similarity: float | None = None
    lexical: float | None = None
    nearest_id: str | None = None
    nearest_account: str | None = None
    line_similarity: float | None = None
    offlimits_topic: str | None = None
    offlimits_similarity: float | None = None
    shared_terms: tuple[str, ...] = ()
    # What kind of relation the class rests on: "retweet", "quote", "quote-comment", "link",
    # "paraphrase", "near-copy", "translation"... (None when the class says it all).
    subkind: str | None = None
    # Content words of its own once mentions, links, emoji and boilerplate are gone; a post
    # below the substance floor is never judged by similarity (the reason says so).
    substance: int | None = None
    # Signed days from the matched corporate post to this post (negative: the executive
    # posted first), for overlap, recycled, echo and amplified findings.
    days_apart: float | None = None
    # For overlap/recycled: the per-post chance level (share of shifted windows whose best
    # match was as close) and its false-discovery-adjusted value over the period.
    p_value: float | None = None
    q_value: float | None = None


# -- alerts, silences and the outbox (values the store, the notifications and the reports share)


class AlertStatus(StrEnum):
    INACTIVE = "inactive"
    PENDING = "pending"
    FIRING = "firing"


@dataclass(frozen=True, slots=True)
class AlertState:
    """Where a pair's overlap alert stands (see `monitor.notify.alerts`)."""

    pair: str
    status: AlertStatus = AlertStatus.INACTIVE
    pending_count: int = 0
    sequence: int = 0  # firing episodes so far; the current one while firing
    active_since: datetime | None = None  # when the current pending/firing period began
    notified: bool = False  # the current firing episode has been announced
    repeats: int = 0
    last_notified_at: datetime | None = None
    last_rate: float | None = None
    last_posts: int = 0
    last_evaluated_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class AlertEvent:
    """A change of an alert's status, or a risk announced, as the alert history keeps it."""

    pair: str
    kind: str  # pending, firing, repeat, resolved, cleared, risk
    sequence: int
    rate: float | None
    posts: int
    at: datetime
    detail: str


@dataclass(frozen=True, slots=True)
class Silence:
    """Notifications of a pair muted from `starts_at` until `until` (evaluation goes on)."""

    id: int
    pair: str
    starts_at: datetime
    until: datetime
    reason: str
    created_at: datetime
    author: str = ""


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    """A message to queue. `key` makes queueing idempotent."""

    key: str
    channel: str  # "email", "webhook", "slack", "teams"
    subject: str
    payload: str
    recipients: tuple[str, ...] = ()
    pair: str | None = None


@dataclass(frozen=True, slots=True)
class OutboxEntry:
    """A queued message and its delivery so far."""

    id: int
    key: str
    channel: str
    pair: str | None
    recipients: tuple[str, ...]
    subject: str
    payload: str
    created_at: datetime
    attempts: int
    next_attempt_at: datetime
    last_attempt_at: datetime | None
    last_error: str | None
    sent_at: datetime | None
    claimed_until: datetime | None = None
    claimed_by: str | None = None
    superseded_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class OutboxSummary:
    """What waits in the outbox, what was sent, and the latest delivery problem."""

    pending: int  # neither sent nor superseded
    sent: int
    superseded: int  # its pair or recipients left the configuration: never sent
    oldest_pending_at: datetime | None
    next_attempt_at: datetime | None
    last_sent_at: datetime | None
    last_error: str | None  # of the waiting message that failed last
    last_error_at: datetime | None
    last_error_key: str | None


@dataclass(frozen=True, slots=True)
class ReadBudget:
    """This month's X API reads and their cost: what X bills by the post read."""

    month: str  # "2026-11" (UTC)
    reads_by_account: dict[str, int]
    requests: int
    reads: int
    projected_reads: int  # linear on the days elapsed, today included
    price_per_read: float
    estimated_cost: float
    projected_cost: float
    monthly_read_cap: int | None
    cap_remaining: int | None
    paused: bool  # the cap is reached: collection waits for next month


@dataclass(frozen=True, slots=True)
class Claim:
    """The outcome of trying to claim a message: taken, or who holds it until when."""

    taken: bool
    holder: str | None = None
    until: datetime | None = None
    sent: bool = False  # already sent (by another sender): nothing to do


@dataclass(frozen=True, slots=True)
class Queued:
    """What queueing one message did: "queued", "already queued", "re-addressed" (it was
    waiting for other recipients; `previous` names them), or "already sent"."""

    outcome: str
    previous: tuple[str, ...] = ()
    sent_at: datetime | None = None

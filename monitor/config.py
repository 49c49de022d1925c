"""Reading and validating the TOML configuration and the environment.

The file is found as `--config PATH`, else `$MONITOR_CONFIG`, else `./monitor.toml`. Secrets never
live in the file: they come from the environment (or a `.env` file beside the config) and are
kept out of `repr`, logs and messages.
"""

from __future__ import annotations

import os
import re
import tomllib
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from monitor import timeparse
from monitor.config_files import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_CONFIG_NAME,
    DEFAULT_MODEL_NAME,
    MAX_BATCH_SIZE,
    find_config_path,
    load_dotenv_beside,
    read_text,
)
from monitor.config_messages import did_you_mean, dotted, share_hint
from monitor.config_values import (
    NAME_CHARS,
    USERNAME,
    address,
    check_base_url,
    check_database_url,
)
from monitor.errors import ConfigError, UnknownPair, UsageError

__all__ = ["check_base_url", "check_database_url", "load_dotenv_beside"]

INGEST_EVERY_MAX = timedelta(days=30)
REPEAT_MAX = timedelta(days=366)
SECRET_ENV = ("X_BEARER_TOKEN", "MONITOR_SMTP_PASSWORD", "MONITOR_WEBHOOK_URL",
              "MONITOR_SLACK_URL", "MONITOR_TEAMS_URL", "MONITOR_DASHBOARD_TOKEN")

# Default guardrail examples: a few phrases per off-limits topic, French and English, so a post
# close to any of them is flagged. A pair's `offlimits` table replaces them.
DEFAULT_OFFLIMITS: dict[str, list[str]] = {
    "party politics": [
        "Je soutiens ce parti aux prochaines élections, votez pour notre candidat",
        "Le gouvernement se trompe totalement avec ce budget, l'opposition a raison",
        "La réforme des retraites du gouvernement est une honte pour le pays",
        "Rassemblement national, France insoumise, Renaissance, LR, PS : tous responsables",
        "Aux législatives, j'appelle à voter pour la majorité présidentielle",
        "Le projet de loi immigration voté à l'Assemblée nationale divise la droite et la gauche",
        "Le Premier ministre doit démissionner, dissolution de l'Assemblée",
        "I endorse this candidate for the election, vote for the party",
        "The government's budget is a disaster and the opposition is right",
        "Left or right, the parliament vote on immigration shows the parties have failed",
    ],
    "polemics": [
        "Ce ministre devrait démissionner après ce scandale",
        "Honteux : cette polémique prouve que les médias mentent",
        "Je ne me tairai pas face à cette affaire, c'est un scandale d'État",
        "Les syndicats bloquent le pays, la grève est irresponsable",
        "This minister should resign after the scandal",
        "The outrage over this controversy is ridiculous and the critics are wrong",
    ],
}


class _Strict(BaseModel):
    # inf and nan are valid TOML floats, and no setting means either.
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class DatabaseConfig(_Strict):
    url: str = "sqlite:///monitor.db"

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        try:
            check_database_url(value, where="url")
        except ConfigError as exc:
            raise ValueError(str(exc).removeprefix("url: ")) from None
        return value.strip()


class ModelConfig(_Strict):
    # "auto": the multilingual encoder for French or mixed pairs, the bundled English MiniLM for
    # English pairs (chosen per pair from its posts' languages); or a fixed model for all pairs.
    name: str = Field(DEFAULT_MODEL_NAME, min_length=1, max_length=500)
    batch_size: int = Field(DEFAULT_BATCH_SIZE, ge=1, le=MAX_BATCH_SIZE)


class AnalysisConfig(_Strict):
    lag_days: float = Field(3.0, gt=0, le=60)
    recycle_days: float = Field(30.0, gt=0, le=90)
    overlap_fdr: float = Field(0.05, gt=0, lt=0.5)
    min_substance: int = Field(3, ge=1, le=20)
    overlap_threshold: float | None = Field(None, ge=-1, le=1)
    lexical_threshold: float | None = Field(None, ge=0, le=1)
    offline_threshold: float | None = Field(None, ge=-1, le=1)
    offlimits_threshold: float | None = Field(None, ge=-1, le=1)
    reference_days: int = Field(90, ge=7, le=3650)
    drift_baseline_days: int = Field(56, ge=7, le=3650)
    drift_window_days: int = Field(7, ge=1, le=365)
    drift_alpha: float = Field(0.01, gt=0, lt=0.5)


class PairConfig(_Strict):
    name: str = Field(min_length=1, max_length=100)
    executive: list[str] = Field(min_length=1, max_length=100)
    corporate: list[str] = Field(min_length=1, max_length=100)
    lag_days: float | None = Field(None, gt=0, le=60)
    recycle_days: float | None = Field(None, gt=0, le=90)
    overlap_threshold: float | None = Field(None, ge=-1, le=1)
    lexical_threshold: float | None = Field(None, ge=0, le=1)
    offline_threshold: float | None = Field(None, ge=-1, le=1)
    offlimits_threshold: float | None = Field(None, ge=-1, le=1)
    offlimits: dict[str, list[str]] | None = None
    recipients: list[str] | None = Field(None, max_length=1000)
    # The language of this pair's digest (to its own recipients), alerts, report and dashboard
    # page; default: [ui] language.
    language: Literal["fr", "en"] | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, value: str) -> str:
        if not NAME_CHARS.fullmatch(value) or not value.strip():
            raise ValueError(f"{value[:100]!r}: a pair name is 1 to 100 characters, with no "
                             "control character")
        return value

    @field_validator("executive", "corporate")
    @classmethod
    def _usernames(cls, value: list[str]) -> list[str]:
        cleaned = []
        for name in value:
            name = name.strip().removeprefix("@")
            if not USERNAME.fullmatch(name):
                raise ValueError(f"{name[:60]!r} is not an X username (1 to 50 ASCII letters, "
                                 "digits and _)")
            cleaned.append(name)
        return cleaned

    @field_validator("recipients")
    @classmethod
    def _recipients(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else [address(v) for v in value]

    @field_validator("offlimits")
    @classmethod
    def _topics(cls, value: dict[str, list[str]] | None) -> dict[str, list[str]] | None:
        if value is None:
            return None
        if len(value) > 100:
            raise ValueError("at most 100 off-limits topics")
        for topic, phrases in value.items():
            if not NAME_CHARS.fullmatch(topic):
                raise ValueError(f"topic {topic[:100]!r}: 1 to 100 characters, no control "
                                 "character")
            if not phrases or len(phrases) > 200 or not all(
                    isinstance(p, str) and 0 < len(p.strip()) <= 2000 for p in phrases):
                raise ValueError(f"topic {topic!r}: give 1 to 200 example phrases of at most "
                                 "2,000 characters")
        return value

    @property
    def accounts(self) -> list[str]:
        return [*self.executive, *self.corporate]

    def offlimits_topics(self) -> dict[str, list[str]]:
        return dict(self.offlimits) if self.offlimits is not None else dict(DEFAULT_OFFLIMITS)


class XConfig(_Strict):
    api_base_url: str = "https://api.x.com"
    backfill_days: int = Field(30, ge=1, le=3650)
    timeout_s: float = Field(30.0, gt=0, le=3600)
    max_rate_limit_wait_s: float = Field(900.0, ge=0, le=86400)
    max_retries: int = Field(5, ge=0, le=20)
    price_per_read: float = Field(0.005, ge=0, le=1000)
    monthly_read_cap: int | None = Field(None, ge=0, le=10**12)

    @field_validator("api_base_url")
    @classmethod
    def _base(cls, value: str) -> str:
        try:
            return check_base_url(value, where="")
        except ConfigError as exc:
            raise ValueError(str(exc).strip()) from None


def _zone(value: Any) -> ZoneInfo:
    if isinstance(value, ZoneInfo):
        return value
    text = str(value)
    try:
        if len(text) > 64:  # a longer "name" is a file name too long for the zone data
            raise ValueError(text)
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError(f"{text[:64]!r} is not a time zone; use an IANA name such as "
                         "Europe/Paris or UTC") from None


def _time_of_day(value: Any) -> time:
    if isinstance(value, time):
        return value
    match = re.fullmatch(r"(\d{1,2}):(\d{2})(?::(\d{2}))?", str(value).strip())
    if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59 or (
            match.group(3) and int(match.group(3)) > 59):
        raise ValueError(f"{value!r} is not a time of day; use HH:MM, e.g. 08:00")
    return time(int(match.group(1)), int(match.group(2)), int(match.group(3) or 0))


def _duration(maximum: timedelta) -> Any:
    def parse(value: Any) -> timedelta:
        if isinstance(value, timedelta):
            return value
        try:
            return timeparse.parse_duration(str(value), what="", maximum=maximum,
                                            error=ConfigError)
        except ConfigError as exc:
            raise ValueError(str(exc).strip()) from None
    return BeforeValidator(parse)


#: Settings are parsed once, at load, into the values the code uses.
Zone = Annotated[ZoneInfo, BeforeValidator(_zone)]
TimeOfDay = Annotated[time, BeforeValidator(_time_of_day)]


class ScheduleConfig(_Strict):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False,
                              arbitrary_types_allowed=True)
    timezone: Zone = ZoneInfo("Europe/Paris")
    ingest_every: Annotated[timedelta, _duration(INGEST_EVERY_MAX)] = timedelta(minutes=30)
    digest_at: TimeOfDay = time(8, 0)

    @property
    def zone_name(self) -> str:
        """The IANA name of the time zone ("Europe/Paris")."""
        return str(self.timezone.key)


class EmailConfig(_Strict):
    smtp_host: str = Field("localhost", pattern=r"^[A-Za-z0-9_.:\[\]-]{1,253}$")
    smtp_port: int = Field(587, ge=1, le=65535)
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username: str | None = Field(None, max_length=320, pattern=r"^[^\x00-\x1f\x7f]*$")
    sender: str = "monitor@localhost"
    recipients: list[str] = Field(default_factory=list, max_length=1000)
    send_when_empty: bool = False
    timeout_s: float = Field(30.0, gt=0, le=3600)
    # The language of the emails to these recipients (pairs with their own `recipients` use
    # theirs); default: [ui] language.
    language: Literal["fr", "en"] | None = None

    @field_validator("sender")
    @classmethod
    def _sender(cls, value: str) -> str:
        return address(value)

    @field_validator("recipients")
    @classmethod
    def _recipients(cls, value: list[str]) -> list[str]:
        return [address(v) for v in value]


class AlertsConfig(_Strict):
    window_days: int = Field(7, ge=1, le=365)
    threshold: float = Field(0.30, gt=0, le=1)
    recover_threshold: float | None = Field(None, gt=0, le=1)
    for_evaluations: int = Field(2, ge=1, le=1000)
    repeat_interval: Annotated[timedelta, _duration(REPEAT_MAX)] = timedelta(hours=24)
    min_posts: int = Field(5, ge=1, le=100_000)

    @model_validator(mode="after")
    def _hysteresis(self) -> AlertsConfig:
        if self.recover_threshold is not None and self.recover_threshold >= self.threshold:
            raise ValueError(f"recover_threshold ({self.recover_threshold}) must be below "
                             f"threshold ({self.threshold}): an alert resolves when the rate "
                             "falls under it")
        return self


class UIConfig(_Strict):
    """What people read: the language, and where the dashboard is for deep links."""

    # French by default: the monitor's first users are French communication teams.
    language: Literal["fr", "en"] = "fr"
    # The dashboard's address as readers reach it (e.g. https://monitor.example.com), so
    # digests and alerts link to a pair's page and to each post's view; none: no links.
    base_url: str | None = None

    @field_validator("base_url")
    @classmethod
    def _base(cls, value: str | None) -> str | None:
        if value is None:
            return None
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")) or len(value) < 10:
            raise ValueError(f"{value!r} is not a web address; use the dashboard's address as "
                             "readers reach it, e.g. https://monitor.example.com")
        return value


class Secrets(BaseModel):
    """Secrets read from the environment; `SecretStr` keeps them out of repr and logs."""

    model_config = ConfigDict(frozen=True)
    x_bearer_token: SecretStr | None = None
    smtp_password: SecretStr | None = None
    webhook_url: SecretStr | None = None
    slack_url: SecretStr | None = None
    teams_url: SecretStr | None = None
    dashboard_token: SecretStr | None = None


@dataclass(frozen=True)
class EffectivePair:
    """A pair with every setting it inherits resolved (its own value, else the section's):
    what the analysis, the alerts and the digest of this pair use."""

    name: str
    executive: tuple[str, ...]
    corporate: tuple[str, ...]
    lag_days: float
    recycle_days: float
    thresholds: dict[str, float | None]  # configured overrides: overlap, lexical, offline...
    recipients: tuple[str, ...]  # its own list, else [email] recipients
    offlimits: dict[str, list[str]]  # its topics, else the defaults
    language: str

    @property
    def accounts(self) -> tuple[str, ...]:
        return (*self.executive, *self.corporate)


THRESHOLD_NAMES = ("overlap", "lexical", "offline", "offlimits")


class MonitorConfig(_Strict):
    database: DatabaseConfig = DatabaseConfig()
    model: ModelConfig = ModelConfig()
    analysis: AnalysisConfig = AnalysisConfig()
    x: XConfig = XConfig()
    schedule: ScheduleConfig = ScheduleConfig()
    email: EmailConfig = EmailConfig()
    alerts: AlertsConfig = AlertsConfig()
    ui: UIConfig = UIConfig()
    pairs: list[PairConfig] = Field(default_factory=list)
    # Where the file was read from; relative SQLite paths are resolved against its folder.
    source: str | None = None
    # Read once, when the configuration is loaded (nothing reads the environment later).
    _env: dict[str, str | None] = PrivateAttr(default_factory=dict)
    _secrets: Secrets = PrivateAttr(default_factory=Secrets)
    _effective: dict[str, EffectivePair] = PrivateAttr(default_factory=dict)

    @field_validator("pairs")
    @classmethod
    def _unique_pairs(cls, pairs: list[PairConfig]) -> list[PairConfig]:
        names = [p.name for p in pairs]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"pair names must be unique; repeated: {', '.join(dupes)}")
        return pairs

    def resolve(self) -> MonitorConfig:
        """Read the environment (database and API overrides, secrets) and resolve each pair's
        inherited settings, once; `parse_config` does it."""
        self._env = {name: os.environ.get(name) or None
                     for name in ("MONITOR_DATABASE_URL", "MONITOR_X_API_BASE_URL")}
        self._secrets = load_secrets()
        a = self.analysis
        self._effective = {p.name: EffectivePair(
            name=p.name, executive=tuple(p.executive), corporate=tuple(p.corporate),
            lag_days=p.lag_days or a.lag_days,
            recycle_days=max(p.recycle_days or a.recycle_days, p.lag_days or a.lag_days),
            thresholds={n: (getattr(p, f"{n}_threshold") if getattr(p, f"{n}_threshold")
                            is not None else getattr(a, f"{n}_threshold"))
                        for n in THRESHOLD_NAMES},
            recipients=tuple(p.recipients or self.email.recipients),
            offlimits=p.offlimits_topics(), language=self.language_for(p))
            for p in self.pairs}
        return self

    @property
    def secrets(self) -> Secrets:
        """The secrets, read from the environment when the configuration was loaded."""
        return self._secrets

    def effective(self, pair: PairConfig | str) -> EffectivePair:
        """A pair's settings with everything it inherits resolved."""
        name = pair if isinstance(pair, str) else pair.name
        if name not in self._effective:
            self.pair(name)  # raises UnknownPair
            self.resolve()
        return self._effective[name]

    def pair(self, name: str) -> PairConfig:
        for pair in self.pairs:
            if pair.name == name:
                return pair
        raise UnknownPair(name, tuple(p.name for p in self.pairs), self.source)

    def pair_or_only(self, name: str | None) -> PairConfig:
        """The pair named, or without a name the only one configured."""
        if name:
            return self.pair(name)
        if len(self.pairs) == 1:
            return self.pairs[0]
        raise UsageError("several pairs are configured: choose one with --pair "
                         f"({', '.join(p.name for p in self.pairs)})" if self.pairs else
                         "no [[pairs]] in the configuration")

    def draft_moment(self, text: str | None, now: datetime) -> datetime | None:
        """`monitor check --at`: a date or time read in the [schedule] time zone, or a
        duration back from now; None without one (the draft is checked as of now)."""
        if not text:
            return None
        zone = self.schedule.timezone
        name = str(getattr(zone, "key", None) or zone.tzname(None) or "UTC")
        return timeparse.parse_moment(text, now, what="--at",
                                      syntax=timeparse.local(timeparse.AT, zone, name))

    def language_for(self, pair: PairConfig | None = None, *,
                     recipients: bool = False) -> str:
        """The language of what a pair's readers get: the pair's own, else (for email to
        [email] recipients) [email] language, else [ui] language."""
        if pair is not None and pair.language:
            return pair.language
        if recipients and self.email.language:
            return self.email.language
        return self.ui.language

    def database_url(self) -> str:
        """The database URL, with a relative SQLite path resolved against the config's folder.
        Raises ConfigError for a URL that cannot be the monitor's database."""
        env = self._env.get("MONITOR_DATABASE_URL")
        url = env or self.database.url
        check_database_url(url, where="MONITOR_DATABASE_URL" if env else
                           f"{self.source or 'the configuration'}: [database] url")
        url = url.strip()
        prefix = "sqlite:///"
        if url.startswith(prefix) and not url.startswith("sqlite:////"):
            path = url[len(prefix):]
            if path and path != ":memory:" and not Path(path).is_absolute():
                base = Path(self.source).resolve().parent if self.source else Path.cwd()
                return prefix + str(base / path)
        return url

    def x_api_base_url(self) -> str:
        env = self._env.get("MONITOR_X_API_BASE_URL")
        if env:
            return check_base_url(env, where="MONITOR_X_API_BASE_URL")
        return self.x.api_base_url


def load_config(explicit: str | os.PathLike[str] | None = None, *,
                required: bool = True) -> MonitorConfig:
    """Read and validate the configuration; raise `ConfigError` naming the key on any problem."""
    path = find_config_path(explicit)
    if path is None:
        if required:
            raise ConfigError(
                f"no configuration found: pass --config PATH, set MONITOR_CONFIG, or create "
                f"./{DEFAULT_CONFIG_NAME} (start from config/monitor.example.toml, or run "
                "`monitor demo` to get one)."
            )
        return MonitorConfig()
    if not path.is_file():
        raise ConfigError(f"configuration file {path} does not exist. Check --config or "
                          "MONITOR_CONFIG.")
    text = read_text(path, what="configuration file")
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}. Fix the syntax and try again.") from None
    except RecursionError:
        raise ConfigError(f"{path}: invalid TOML: tables or arrays nested too deeply (no "
                          "setting nests more than three levels).") from None
    except ValueError as exc:  # tomllib's int(): a number of more than 4,300 digits
        raise ConfigError(f"{path}: invalid TOML: a value cannot be read ("
                          f"{str(exc).split(';')[0][:120]}); no setting needs such a "
                          "number.") from None
    return parse_config(raw, source=str(path))


def parse_config(raw: dict[str, Any], *, source: str = "<config>") -> MonitorConfig:
    """Validate a parsed TOML document."""
    load_dotenv_beside(source)
    try:
        return MonitorConfig.model_validate({**raw, "source": source}).resolve()
    except RecursionError:
        raise ConfigError(f"{source}: invalid configuration: values nested too deeply.") from None
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            key = dotted(err["loc"], raw)
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "unknown setting" + (did_you_mean(MonitorConfig, err["loc"]) or (
                    " (check its spelling; secrets belong in the environment)"))
            msg = msg.rstrip(".") + share_hint(err)
            problems.append(f"{key}: {msg}")
        raise ConfigError(f"{source}: invalid configuration: " + "; ".join(problems)) from None


def load_secrets() -> Secrets:
    """Secrets from the environment only."""
    def get(name: str) -> SecretStr | None:
        value = os.environ.get(name)
        return SecretStr(value) if value else None

    return Secrets(
        x_bearer_token=get("X_BEARER_TOKEN"),
        smtp_password=get("MONITOR_SMTP_PASSWORD"),
        webhook_url=get("MONITOR_WEBHOOK_URL"),
        slack_url=get("MONITOR_SLACK_URL"),
        teams_url=get("MONITOR_TEAMS_URL"),
        dashboard_token=get("MONITOR_DASHBOARD_TOKEN"),
    )


def _check_duration(text: str, *, maximum: timedelta) -> None:
    try:
        timeparse.parse_duration(text, what="", maximum=maximum, error=ConfigError)
    except ConfigError as exc:
        raise ValueError(str(exc).strip()) from None


def parse_duration(text: str, *, what: str = "duration") -> float:
    """A validated duration setting ('30m', '24h', '7d', '90s', '2w') -> seconds."""
    return timeparse.parse_duration(text, what=what, error=ConfigError).total_seconds()


def parse_moment(text: str, now: datetime, *, what: str) -> datetime:
    """'90d', '12w' back from now, or an ISO date/time (UTC unless it says otherwise)."""
    return timeparse.parse_moment(text, now, what=what, error=UsageError)

"""Reading and validating the TOML configuration and the environment.

The file is found as `--config PATH`, else `$MONITOR_CONFIG`, else `./monitor.toml`. Secrets never
live in the file: they come from the environment (or a `.env` file beside the config) and are
kept out of `repr`, logs and messages.
"""

from __future__ import annotations

import os
import tomllib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from monitor.errors import ConfigError, UsageError

DEFAULT_CONFIG_NAME = "monitor.toml"
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
    model_config = ConfigDict(extra="forbid", frozen=True)


class DatabaseConfig(_Strict):
    url: str = "sqlite:///monitor.db"


class ModelConfig(_Strict):
    # "auto": the multilingual encoder for French or mixed pairs, the bundled English MiniLM for
    # English pairs (chosen per pair from its posts' languages); or a fixed model for all pairs.
    name: str = "auto"
    batch_size: int = Field(64, ge=1, le=4096)


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
    drift_baseline_days: int = Field(56, ge=7)
    drift_window_days: int = Field(7, ge=1)
    drift_alpha: float = Field(0.01, gt=0, lt=0.5)


class PairConfig(_Strict):
    name: str = Field(min_length=1)
    executive: list[str] = Field(min_length=1)
    corporate: list[str] = Field(min_length=1)
    lag_days: float | None = Field(None, gt=0, le=60)
    recycle_days: float | None = Field(None, gt=0, le=90)
    overlap_threshold: float | None = Field(None, ge=-1, le=1)
    lexical_threshold: float | None = Field(None, ge=0, le=1)
    offline_threshold: float | None = Field(None, ge=-1, le=1)
    offlimits_threshold: float | None = Field(None, ge=-1, le=1)
    offlimits: dict[str, list[str]] | None = None
    recipients: list[str] | None = None
    # The language of this pair's digest (to its own recipients), alerts, report and dashboard
    # page; default: [ui] language.
    language: Literal["fr", "en"] | None = None

    @field_validator("executive", "corporate")
    @classmethod
    def _usernames(cls, value: list[str]) -> list[str]:
        cleaned = []
        for name in value:
            name = name.strip().removeprefix("@")
            if not name or not all(ch.isalnum() or ch == "_" for ch in name) or len(name) > 50:
                raise ValueError(f"{name!r} is not an X username (letters, digits and _ only)")
            cleaned.append(name)
        return cleaned

    @property
    def accounts(self) -> list[str]:
        return [*self.executive, *self.corporate]

    def offlimits_topics(self) -> dict[str, list[str]]:
        return dict(self.offlimits) if self.offlimits is not None else dict(DEFAULT_OFFLIMITS)


class XConfig(_Strict):
    api_base_url: str = "https://api.x.com"
    backfill_days: int = Field(30, ge=1, le=3650)
    timeout_s: float = Field(30.0, gt=0)
    max_rate_limit_wait_s: float = Field(900.0, ge=0)
    max_retries: int = Field(5, ge=0, le=20)
    price_per_read: float = Field(0.005, ge=0)
    monthly_read_cap: int | None = Field(None, ge=0)


class ScheduleConfig(_Strict):
    timezone: str = "Europe/Paris"
    ingest_every: str = "30m"
    digest_at: str = "08:00"

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"{value!r} is not a time zone; use an IANA name such as "
                             "Europe/Paris or UTC") from None
        return value

    @field_validator("ingest_every")
    @classmethod
    def _every(cls, value: str) -> str:
        _check_duration(value)
        return value

    @field_validator("digest_at")
    @classmethod
    def _at(cls, value: str) -> str:
        import re

        match = re.fullmatch(r"(\d{1,2}):(\d{2})(?::(\d{2}))?", value.strip())
        if not match or int(match.group(1)) > 23 or int(match.group(2)) > 59 or (
                match.group(3) and int(match.group(3)) > 59):
            raise ValueError(f"{value!r} is not a time of day; use HH:MM, e.g. 08:00")
        return value


class EmailConfig(_Strict):
    smtp_host: str = "localhost"
    smtp_port: int = Field(587, ge=1, le=65535)
    security: Literal["starttls", "ssl", "none"] = "starttls"
    username: str | None = None
    sender: str = "monitor@localhost"
    recipients: list[str] = Field(default_factory=list)
    send_when_empty: bool = False
    timeout_s: float = Field(30.0, gt=0)
    # The language of the emails to these recipients (pairs with their own `recipients` use
    # theirs); default: [ui] language.
    language: Literal["fr", "en"] | None = None


class AlertsConfig(_Strict):
    window_days: int = Field(7, ge=1)
    threshold: float = Field(0.30, gt=0, le=1)
    recover_threshold: float | None = Field(None, gt=0, le=1)
    for_evaluations: int = Field(2, ge=1)
    repeat_interval: str = "24h"
    min_posts: int = Field(5, ge=1)

    @field_validator("repeat_interval")
    @classmethod
    def _repeat(cls, value: str) -> str:
        _check_duration(value)
        return value

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

    @field_validator("pairs")
    @classmethod
    def _unique_pairs(cls, pairs: list[PairConfig]) -> list[PairConfig]:
        names = [p.name for p in pairs]
        dupes = sorted({n for n in names if names.count(n) > 1})
        if dupes:
            raise ValueError(f"pair names must be unique; repeated: {', '.join(dupes)}")
        return pairs

    def pair(self, name: str) -> PairConfig:
        for pair in self.pairs:
            if pair.name == name:
                return pair
        known = ", ".join(p.name for p in self.pairs) or "none configured"
        raise ConfigError(f"no pair named {name!r} in {self.source or 'the configuration'} "
                          f"(pairs: {known}). Check --pair or the [[pairs]] tables.")

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
        """The database URL, with a relative SQLite path resolved against the config's folder."""
        url = os.environ.get("MONITOR_DATABASE_URL") or self.database.url
        prefix = "sqlite:///"
        if url.startswith(prefix) and not url.startswith("sqlite:////"):
            path = url[len(prefix):]
            if path and path != ":memory:" and not Path(path).is_absolute():
                base = Path(self.source).resolve().parent if self.source else Path.cwd()
                return prefix + str(base / path)
        return url

    def x_api_base_url(self) -> str:
        return os.environ.get("MONITOR_X_API_BASE_URL") or self.x.api_base_url


def find_config_path(explicit: str | os.PathLike[str] | None) -> Path | None:
    """The config file to read: explicit path, else $MONITOR_CONFIG, else ./monitor.toml."""
    if explicit:
        return Path(explicit)
    env = os.environ.get("MONITOR_CONFIG")
    if env:
        return Path(env)
    default = Path.cwd() / DEFAULT_CONFIG_NAME
    return default if default.exists() else None


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
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}. Fix the syntax and try again.") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read ({exc}).") from None
    return parse_config(raw, source=str(path))


def parse_config(raw: dict[str, Any], *, source: str = "<config>") -> MonitorConfig:
    """Validate a parsed TOML document."""
    load_dotenv_beside(source)
    try:
        return MonitorConfig.model_validate({**raw, "source": source})
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            key = _dotted(err["loc"], raw)
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "unknown setting (check its spelling; secrets belong in the environment)"
            problems.append(f"{key}: {msg}")
        raise ConfigError(f"{source}: invalid configuration: " + "; ".join(problems)) from None


def _dotted(loc: tuple[int | str, ...], raw: dict[str, Any]) -> str:
    parts: list[str] = []
    node: Any = raw
    for item in loc:
        if isinstance(item, int):
            label = f"[{item}]"
            if isinstance(node, list) and item < len(node) and isinstance(node[item], dict):
                name = node[item].get("name")
                if name:
                    label = f"[{item}] ({name})"
            parts.append(label)
            node = node[item] if isinstance(node, list) and item < len(node) else None
        else:
            parts.append(("." if parts else "") + str(item))
            node = node.get(item) if isinstance(node, dict) else None
    return "".join(parts)


def load_dotenv_beside(source: str) -> None:
    """Load a `.env` file next to the config (never overriding the real environment)."""
    if not source or source.startswith("<"):
        return
    env_file = Path(source).resolve().parent / ".env"
    if env_file.is_file():
        from dotenv import load_dotenv

        load_dotenv(env_file, override=False)


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


def _check_duration(text: str) -> None:
    try:
        parse_duration(text)
    except ConfigError:
        raise ValueError(f"{text!r} is not a duration; use a number and a unit, e.g. 90s, "
                         "30m, 24h, 7d") from None


def parse_duration(text: str, *, what: str = "duration") -> float:
    """'30m', '24h', '7d', '90s', '2w' -> seconds."""
    units = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
    text = text.strip().lower()
    if len(text) >= 2 and text[-1] in units:
        try:
            value = float(text[:-1])
        except ValueError:
            value = -1
        if value > 0:
            return value * units[text[-1]]
    raise ConfigError(f"{what} {text!r} is not a duration: use a number and a unit, e.g. "
                      "90s, 30m, 24h, 7d or 2w.")


def parse_moment(text: str, now: datetime, *, what: str) -> datetime:
    """'90d', '12w' back from now, or an ISO date/time (UTC unless it says otherwise)."""
    text = text.strip()
    try:
        return now - timedelta(seconds=parse_duration(text, what=what))
    except ConfigError:
        pass
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(f"{what} {text!r}: use a duration such as 90d or 12w, or a date such "
                         "as 2026-09-01.") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

"""The monitor's error tree.

Every error a user can meet is a `MonitorError`; its message says what failed, where (file,
account, setting) and what to do next. The CLI turns it into one line and an exit code; no
traceback reaches the terminal. No message ever carries a secret.

    MonitorError                    exit 1: a reported problem
    ├── ConfigError                 exit 2: bad configuration (names the key and the file)
    │   └── UnknownPair             no [[pairs]] table has that name (.pair, .known)
    ├── UsageError                  exit 2: bad command-line usage
    ├── ImportFormatError           a malformed archive or JSONL file (.path, .position, .problem)
    ├── StoreError                  the database cannot be reached, opened, written or migrated
    ├── MissingVectors              posts have no vector for a model yet (.model, .count): run
    │                               `monitor analyse`; not a database failure
    ├── ModelError                  the embedding model cannot be loaded
    ├── SourceError                 the X API failed in a way that stops the run
    │   ├── AuthError               the bearer token was refused (401)
    │   ├── AccessDenied            the app's access level does not cover the endpoint (403)
    │   ├── AccountUnavailable      one account is suspended, protected, deleted or not found
    │   │                           (.account, .status, .detail); the run goes on without it
    │   ├── RateLimited             X's limit resets later than we may wait (.account,
    │   │                           .reset_at); the next run resumes from the saved page
    │   ├── TemporaryFailure        5xx, timeouts, connection errors after every retry
    │   │                           (.billed: posts X may still bill)
    │   ├── MalformedResponse       a body that is not the JSON asked for
    │   └── CollectionFailed        some accounts could not be collected (.failures, .total,
    │                               .report); the others were
    ├── DeliveryError               SMTP or webhook delivery failed (the message stays queued)
    └── AlreadyRunningError         another `monitor run` holds the service lock (.holder)
"""

from __future__ import annotations

import time


class MonitorError(Exception):
    """Base of every error the monitor reports to its user."""

    exit_code = 1


class ConfigError(MonitorError):
    """Raised when the configuration file or environment is invalid."""

    exit_code = 2


class UnknownPair(ConfigError):
    """Raised when a command or a page names a pair the configuration does not have."""

    def __init__(self, pair: str, known: tuple[str, ...], source: str | None) -> None:
        self.pair = pair
        self.known = known
        names = ", ".join(known) or "none configured"
        super().__init__(f"no pair named {pair!r} in {source or 'the configuration'} "
                         f"(pairs: {names}). Check --pair or the [[pairs]] tables.")


class UsageError(MonitorError):
    """Raised when a command is called with arguments that cannot work together."""

    exit_code = 2


class ImportFormatError(MonitorError):
    """Raised when an import file is malformed; nothing from it has been stored.

    `path` is the file (for an archive, `archive.zip!data/tweets.js`), `position` where in it
    ("line 12", "line 380, column 12", "line 40, item 7 (id 1843...)"), `field` the record's
    field at fault when one is (dotted: `entities.urls[0]`), `problem` what is wrong.
    """

    def __init__(self, path: str, position: str, problem: str, *,
                 field: str | None = None) -> None:
        self.path = path
        self.position = position
        self.problem = problem
        self.field = field
        where = f"{position}, field {field!r}" if field else position
        super().__init__(
            f"{path}: {where}: {problem}. Nothing was imported from this file; "
            "fix or re-export it and run the import again."
        )


class StoreError(MonitorError):
    """Raised when the database cannot be reached, created or migrated."""


class MissingVectors(MonitorError):
    """Raised when posts have no vector for a model yet: `monitor analyse` computes them. Not a
    StoreError, so a caller that treats "not computed yet" as unknown never swallows a real
    database failure."""

    def __init__(self, model: str, count: int) -> None:
        self.model = model
        self.count = count
        super().__init__(f"{count} posts have no vector for model {model!r}; run "
                         "`monitor analyse` to compute them.")


class ModelError(MonitorError):
    """Raised when the configured embedding model cannot be loaded offline."""


class SourceError(MonitorError):
    """Raised when the X API fails in a way that stops ingestion."""


class AuthError(SourceError):
    """Raised when the X API refuses the bearer token (HTTP 401)."""


class CollectionFailed(SourceError):
    """Some accounts failed; the others were collected. `failures` lists (username, what went
    wrong); `report` is the collector's whole report."""

    def __init__(self, failures: list[tuple[str, str]], total: int,
                 report: object = None) -> None:
        self.failures = failures
        self.total = total
        self.report = report
        by_message: dict[str, list[str]] = {}
        for username, message in failures:  # one shared failure (the user lookup) said once
            by_message.setdefault(message, []).append(f"@{username}")
        problems = "; ".join(f"{', '.join(names)}: {message}"
                             for message, names in by_message.items())
        super().__init__(f"{len(failures)} of {total} accounts could not be collected. "
                         f"{problems} Run `monitor ingest` again to resume.")


class AccountUnavailable(SourceError):
    """The timeline of one account cannot be read: suspended, protected, deleted or not found."""

    def __init__(self, account: str, status: str, detail: str) -> None:
        self.account, self.status, self.detail = account, status, detail
        super().__init__(f"@{account} is {status} on X ({detail}); it is skipped until X "
                         "serves it again. Remove it from the pair if this is permanent.")


class RateLimited(SourceError):
    """X's rate limit resets later than `[x] max_rate_limit_wait_s` allows us to wait."""

    def __init__(self, account: str, reset_at: float, max_wait_s: float) -> None:
        self.account, self.reset_at = account, reset_at
        try:
            when = time.strftime("%H:%M:%S UTC", time.gmtime(reset_at))
        except (OverflowError, OSError, ValueError):
            when = "an unknown time"
        super().__init__(f"X API rate limit reached on @{account}; it resets at {when}, later "
                         f"than [x] max_rate_limit_wait_s ({max_wait_s:g} s) allows waiting. "
                         "Stopped cleanly: the next run resumes from the last saved page.")


class TemporaryFailure(SourceError):
    """X kept failing (5xx, timeouts, connection errors) after every retry. `billed` is what
    X may still bill: the posts it served to requests that timed out (the page size asked)."""

    def __init__(self, message: str, *, billed: int = 0) -> None:
        super().__init__(message)
        self.billed = billed


class MalformedResponse(SourceError):
    """X answered with a body that is not the JSON we asked for."""


class AccessDenied(SourceError):
    """The app behind the token may not use this endpoint (e.g. its access level)."""


class DeliveryError(MonitorError):
    """Raised when an email or webhook cannot be delivered; the message stays in the outbox."""


class AlreadyRunningError(MonitorError):
    """Raised when another `monitor run` already serves the same database."""

"""The monitor's error tree.

Every error a user can meet is a `MonitorError`; its message says what failed, where (file,
account, setting) and what to do next. The CLI turns it into one line and an exit code; no
traceback reaches the terminal. No message ever carries a secret.

    MonitorError                    exit 1: a reported problem
    ├── ConfigError                 exit 2: bad configuration (names the key and the file)
    ├── UsageError                  exit 2: bad command-line usage
    ├── ImportFormatError           a malformed archive or JSONL file (names file and position)
    ├── StoreError                  the database cannot be opened or migrated
    ├── ModelError                  the embedding model cannot be loaded
    ├── SourceError                 the X API failed in a way that stops the run
    │   └── AuthError               the bearer token was refused (401)
    ├── DeliveryError               SMTP or webhook delivery failed (the message stays queued)
    └── AlreadyRunningError         another `monitor run` holds the service lock
"""

from __future__ import annotations


class MonitorError(Exception):
    """Base of every error the monitor reports to its user."""

    exit_code = 1


class ConfigError(MonitorError):
    """Raised when the configuration file or environment is invalid."""

    exit_code = 2


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


class ModelError(MonitorError):
    """Raised when the configured embedding model cannot be loaded offline."""


class SourceError(MonitorError):
    """Raised when the X API fails in a way that stops ingestion."""


class AuthError(SourceError):
    """Raised when the X API refuses the bearer token (HTTP 401)."""


class DeliveryError(MonitorError):
    """Raised when an email or webhook cannot be delivered; the message stays in the outbox."""


class AlreadyRunningError(MonitorError):
    """Raised when another `monitor run` already serves the same database."""

"""Reading the configuration's files: `monitor.toml` and the `.env` beside it, bounded in size,
checked as UTF-8 (the line of a bad byte is named), never raising anything but ConfigError."""

from __future__ import annotations

import io
import os
import tomllib
from pathlib import Path

from monitor.errors import ConfigError
from monitor.limits import MAX_CONFIG_BYTES

DEFAULT_CONFIG_NAME = "monitor.toml"
# [model]'s defaults and bound, shared by config.ModelConfig and peek_model.
DEFAULT_MODEL_NAME = "auto"
DEFAULT_BATCH_SIZE = 64
MAX_BATCH_SIZE = 4096


def find_config_path(explicit: str | os.PathLike[str] | None) -> Path | None:
    """The config file to read: explicit path, else $MONITOR_CONFIG, else ./monitor.toml."""
    if explicit:
        return Path(explicit)
    env = os.environ.get("MONITOR_CONFIG")
    if env:
        return Path(env)
    default = Path.cwd() / DEFAULT_CONFIG_NAME
    return default if default.exists() else None


def peek_model(explicit: str | os.PathLike[str] | None) -> tuple[str, int, Path] | None:
    """The `[model]` name and batch size the configuration file names, and its path, read
    without validating the rest: importing the validation costs a cold check 0.15 s before
    its model can start loading. None when anything is unusual (no file, bad TOML, odd
    values): the caller then loads the configuration properly, which says what is wrong."""
    path = find_config_path(explicit)
    if path is None or not path.is_file():
        return None
    try:
        raw = tomllib.loads(read_text(path, what="configuration file"))
    except (ConfigError, tomllib.TOMLDecodeError, RecursionError, ValueError):
        return None
    model = raw.get("model", {})
    if not isinstance(model, dict):
        return None
    name = model.get("name", DEFAULT_MODEL_NAME)
    batch = model.get("batch_size", DEFAULT_BATCH_SIZE)
    if (not isinstance(name, str) or not name.strip() or type(batch) is not int
            or not 1 <= batch <= MAX_BATCH_SIZE):
        return None
    return name.strip(), batch, path


def read_text(path: Path, *, what: str) -> str:
    """A small UTF-8 file (the config or its .env), or ConfigError naming the line at fault."""
    try:
        size = path.stat().st_size
        if size > MAX_CONFIG_BYTES:
            raise ConfigError(f"{path}: the {what} is {size:,} bytes, more than any real one "
                              f"(at most {MAX_CONFIG_BYTES:,}); is it the right file?")
        data = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{path}: the {what} cannot be read ({exc.strerror or exc}).") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ConfigError(f"{path}: line {line}: the {what} is not valid UTF-8 (byte "
                          f"0x{data[exc.start]:02x}); save it as UTF-8.") from None


def load_dotenv_beside(source: str) -> None:
    """Load a `.env` file next to the config (never overriding the real environment)."""
    if not source or source.startswith("<"):
        return
    env_file = Path(source).resolve().parent / ".env"
    if env_file.is_file():
        from dotenv import load_dotenv

        # Read (and check) it ourselves: python-dotenv would raise UnicodeDecodeError.
        text = read_text(env_file, what=".env file")
        if "\x00" in text:
            raise ConfigError(f"{env_file}: the .env file holds a NUL character; save it as "
                              "plain UTF-8 text.")
        load_dotenv(stream=io.StringIO(text), override=False)


def address_file(config_source: str | None) -> Path | None:
    """Where a running process says where its check server is (None without a config file)."""
    if not config_source or config_source.startswith("<"):
        return None
    path = Path(config_source).resolve()
    return path.parent / f".{path.stem}.check-server.json"

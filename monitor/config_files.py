"""Reading the configuration's files: `monitor.toml` and the `.env` beside it, bounded in size,
checked as UTF-8 (the line of a bad byte is named), never raising anything but ConfigError."""

from __future__ import annotations

import io
from pathlib import Path

from monitor.errors import ConfigError
from monitor.limits import MAX_CONFIG_BYTES


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

"""The command line in process (click's CliRunner): what `python -m monitor ...` does, without
paying a Python start and the imports for every command (~1 s each).

Where a test is about the process itself (signals, a SIGKILL, exit on kill, import-time
checks, a server on a real port, the logging a real process sets up) it still starts one.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from click.testing import CliRunner, Result

# Variables of the developer's shell that would change what a command does: unset for every
# run unless the test sets them (a subprocess started with a clean env did the same).
_UNSET = ("MONITOR_CONFIG",)


@contextmanager
def _cwd(path: Path | None) -> Iterator[None]:
    if path is None:
        yield
        return
    before = Path.cwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)


def run_cli(*args: str, env: Mapping[str, str | None] | None = None,
            cwd: Path | None = None, input: str | None = None) -> Result:
    """`monitor ARGS` in this process; stdout and stderr apart, as a terminal shows them.

    Any exception the CLI lets escape (a traceback for a user) is raised here and fails the
    test: only the CLI's own exits (SystemExit with a code) come back as a result.
    """
    from monitor.cli import cli

    full_env: dict[str, str | None] = {name: None for name in _UNSET}
    full_env.update(env or {})
    with _cwd(cwd):
        return CliRunner().invoke(cli, list(args), env=full_env, input=input,
                                  catch_exceptions=False, prog_name="monitor")


def with_config(config: Path, *args: str, env: Mapping[str, str | None] | None = None) -> Result:
    """`monitor --config CONFIG ARGS` in this process."""
    return run_cli("--config", str(config), *args, env=env)

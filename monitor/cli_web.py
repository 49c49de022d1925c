"""`monitor serve`: the dashboard command, registered on the CLI group by monitor/cli.py.

Kept apart from cli.py so the web stack (Starlette, uvicorn) is imported only when the
dashboard runs: `monitor --help` stays instant.
"""

from __future__ import annotations

import click


def register(cli: click.Group) -> None:
    """Add the `serve` command to the `monitor` group."""

    @cli.command()
    @click.option("--host", default="127.0.0.1", show_default=True,
                  help="Address to listen on. Anything but a loopback address requires "
                       "MONITOR_DASHBOARD_TOKEN.")
    @click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535),
                  help="Port to listen on (0: any free port).")
    @click.pass_context
    def serve(ctx: click.Context, host: str, port: int) -> None:
        """Serve a read-only web dashboard: reports, flagged posts, alerts, draft check.

        \b
        Examples:
          monitor serve                      # http://127.0.0.1:8000/, this machine only
          MONITOR_DASHBOARD_TOKEN=... monitor serve --host 0.0.0.0 --port 8080
        """
        from monitor.config import load_config
        from monitor.web.app import serve as run_dashboard

        cfg = load_config(ctx.obj.get("config_path"))
        secret = cfg.secrets.dashboard_token  # read with the config (and the .env beside it)
        run_dashboard(cfg, host=host, port=port,
                      token=secret.get_secret_value() if secret else None, echo=click.echo)

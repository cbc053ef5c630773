"""``fraudpipe serve``: the realtime API, the review pages and the console on one port."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from fraudpipe.workspace import get_workspace

__all__ = ["register", "serve_banner"]


def serve_banner(url: str, config_file: str, key: str | None) -> str:
    """What ``serve`` prints first (pure, so it is easy to test)."""
    lines = [
        f"fraudpipe serving on {url}",
        f"  predict:  {url}/predict   openapi: {url}/openapi.json",
    ]
    if key is None:
        lines.append("  API key:  not required (--no-auth; local use only)")
        lines.append(f"  review:   {url}/review")
    else:
        lines.append(f"  API keys: in {config_file} (key 'api_keys'); send one as x-api-key")
        lines.append(f"  review:   {url}/review?key=<an API key>")
    lines.append(f"  console:  {url}/   (executions, graph, start, redrive, models)")
    return "\n".join(lines)


def register(app: typer.Typer) -> None:
    """Add ``serve`` to ``app``."""

    @app.command()
    def serve(
        host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
        no_auth: Annotated[
            bool, typer.Option("--no-auth", help="Do not require x-api-key (local use only).")
        ] = False,
        workers: Annotated[
            int,
            typer.Option(min=1, help="Processes serving the port (more realtime throughput)."),
        ] = 1,
    ) -> None:
        """Serve GET/POST /predict, the review pages and the console."""
        import uvicorn

        from fraudpipe.api.asgi import AUTH_ENV, run_workers, serving_app, uvicorn_options
        from fraudpipe.api.keys import ensure_api_key, update_config

        ws = get_workspace()
        key = None if no_auth else ensure_api_key(ws)
        shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
        url = f"http://{shown}:{port}"
        update_config(ws, server={"url": url})
        typer.echo(serve_banner(url, str(ws.config_file), key))
        if workers > 1:
            env = {**os.environ, "FRAUDPIPE_HOME": str(ws.root),
                   AUTH_ENV: "0" if no_auth else "1"}  # fmt: skip
            raise typer.Exit(run_workers(host, port, workers, env))
        uvicorn.run(serving_app(ws, require_api_key=not no_auth), host=host, port=port,
                    **uvicorn_options())

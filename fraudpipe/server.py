"""One HTTP app for ``fraudpipe serve``: realtime API, review pages and the console.

Each area owns a router; this module only composes them so that one port serves everything.
"""

from __future__ import annotations

from fastapi import FastAPI

from fraudpipe import __version__
from fraudpipe.workspace import Workspace, get_workspace

__all__ = ["create_app"]


def create_app(workspace: Workspace | None = None, *, require_api_key: bool = True) -> FastAPI:
    """Build the app for ``workspace`` (default: ``get_workspace()``)."""
    ws = workspace or get_workspace()
    app = FastAPI(title="fraudpipe", version=__version__)
    app.state.workspace = ws
    app.state.require_api_key = require_api_key
    from fraudpipe.api import routes as api_routes
    from fraudpipe.console import routes as console_routes
    from fraudpipe.review import routes as review_routes

    for module in (api_routes, review_routes, console_routes):
        module.include(app)
    return app

"""Review pages and the review JSON API, served by ``fraudpipe serve``.

- ``GET /review``: pending items (highest score first) with Fraudulent / Valid / Needs further
  review buttons; ``?key=<api key>`` stores the key in a same-site cookie so the browser can use
  the pages without sending headers.
- ``POST /review/items/{loop}/decide`` (urlencoded form, parsed here to need no multipart
  package) answers one item and returns to the list.
- ``GET /review/api/items`` and ``POST /review/api/items/{loop}`` (``{"verdict": ...}``): the same
  for scripts and tests; ``GET /review/api/summary`` gives the counts.
A verdict only goes to the queue (and the labels file); the process that runs the state machine
resumes a waiting execution (see :mod:`fraudpipe.review.resume`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qs

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from pydantic import BaseModel

from fraudpipe.api.errors import UnauthorizedError
from fraudpipe.api.routes import COOKIE, require_api_key
from fraudpipe.errors import ResourceNotFoundError, ReviewError
from fraudpipe.review.loops import VERDICTS
from fraudpipe.review.queue import PENDING, ReviewQueue
from fraudpipe.review.resume import review_summary
from fraudpipe.review.service import decide
from fraudpipe.workspace import Workspace

__all__ = ["include"]

_TEMPLATES = Environment(
    loader=FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=select_autoescape(["html"]),
)
Verdict = Literal["fraud", "legit", "escalate"]
LOGIN_HINT = (
    "<!doctype html><title>fraudpipe review</title><h1>API key needed</h1>"
    "<p>Open this page once as <code>/review?key=&lt;API key&gt;</code>; "
    "<code>fraudpipe serve</code> prints where the keys are.</p>"
)


class VerdictBody(BaseModel):
    verdict: Verdict


def _ws(request: Request) -> Workspace:
    return request.app.state.workspace


def _answer(ws: Workspace, loop_name: str, verdict: str) -> JSONResponse | None:
    """Record a verdict; a JSON error response when it cannot be recorded."""
    try:
        decide(ws, loop_name, verdict)
    except ResourceNotFoundError as exc:
        return JSONResponse({"message": str(exc)}, status_code=404)
    except ReviewError as exc:
        return JSONResponse({"message": str(exc)}, status_code=409)
    return None


def include(app: FastAPI) -> None:
    """Add the review pages and API to ``app``."""
    auth = [Depends(require_api_key)]

    @app.get("/review", response_class=HTMLResponse, include_in_schema=False)
    def review_page(request: Request, key: str | None = None, done: str | None = None) -> Any:
        if key is not None:
            if not request.app.state.api_keys.valid(key):
                return HTMLResponse("<h1>Wrong API key</h1>", status_code=401)
            response = RedirectResponse("/review", status_code=303)
            response.set_cookie(COOKIE, key, httponly=True, samesite="strict")
            return response
        try:
            require_api_key(request)
        except UnauthorizedError:
            return HTMLResponse(LOGIN_HINT, status_code=401)
        queue = ReviewQueue(_ws(request).review_db)
        pending = queue.items(PENDING)
        html = _TEMPLATES.get_template("review.html").render(
            pending=pending,
            answered_count=queue.counts()["answered"],
            flash=f"Recorded: {done}" if done else None,
            base="",
        )
        return HTMLResponse(html)

    @app.post("/review/items/{loop_name}/decide", include_in_schema=False, dependencies=auth)
    async def decide_form(request: Request, loop_name: str) -> Any:
        form = parse_qs((await request.body()).decode("utf-8", "replace"))
        verdict = (form.get("verdict") or [""])[0]
        if verdict not in VERDICTS:
            return JSONResponse(
                {"message": f"verdict must be one of {', '.join(VERDICTS)}"}, status_code=400
            )
        error = _answer(_ws(request), loop_name, verdict)
        if error is not None:
            return error
        return RedirectResponse(f"/review?done={loop_name}", status_code=303)

    @app.get("/review/api/items", tags=["review"], dependencies=auth)
    def list_items(request: Request, status: Literal["PENDING", "ANSWERED"] | None = None) -> Any:
        """Loops in the local queue, highest score first."""
        items = ReviewQueue(_ws(request).review_db).items(status)
        return [i.to_dict() for i in items]

    @app.post("/review/api/items/{loop_name}", tags=["review"], dependencies=auth)
    def answer_item(request: Request, loop_name: str, body: VerdictBody) -> Any:
        """Answer one loop: fraud / legit (labels) or escalate (no label)."""
        error = _answer(_ws(request), loop_name, body.verdict)
        if error is not None:
            return error
        return ReviewQueue(_ws(request).review_db).get(loop_name).to_dict()

    @app.get("/review/api/summary", tags=["review"], dependencies=auth)
    def summary(request: Request) -> Any:
        """Pending and answered counts and the page URL."""
        return review_summary(_ws(request))

"""HTTP routes of the console; :func:`include` adds them to the app built by ``fraudpipe.server``.

Pages (HTML, work without JavaScript): ``/`` executions list, ``/executions/{name}`` graph,
state details and events, ``/start`` the start form, ``/models`` model and detector versions,
``/models/{model}/{version}/report/`` a model's report. JSON and fragments for the live
updates live under ``/console/api/``. Static assets ship in the package under
``/console-static/``.
"""

from __future__ import annotations

import hashlib
import json
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qs, urlsplit

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

from fraudpipe.console.catalog import ReportNotFoundError, list_detectors, list_models, report_file
from fraudpipe.console.graph import GraphLayout, layout_definition
from fraudpipe.console.history import parse_time
from fraudpipe.console.runner import (
    ConsoleRunner,
    RuntimeUnavailableError,
    locate_problem,
    parse_input_text,
)
from fraudpipe.console.store import TERMINAL, ExecutionStore
from fraudpipe.console.svg import render_svg
from fraudpipe.console.views import event_rows, fmt_duration, render
from fraudpipe.errors import FraudpipeError, InputValidationError
from fraudpipe.workspace import Workspace

__all__ = ["include", "router"]

STATIC_DIR = Path(__file__).parent / "static"
DEFAULT_ASL = Path(__file__).resolve().parents[2] / "statemachines" / "pipeline.asl.json"
STATUSES = ("RUNNING", "SUCCEEDED", "FAILED", "ABORTED", "TIMED_OUT")
LEGEND = (
    ("notstarted", "not started"),
    ("running", "running"),
    ("succeeded", "succeeded"),
    ("failed", "failed"),
    ("caught", "caught"),
)
MAX_VISITS_SHOWN = 20
EVENTS_SHOWN = 250  # the latest; ?events=all shows every one

router = APIRouter(tags=["console"], include_in_schema=False)


# --- per-app objects ---------------------------------------------------------------------------
def _ws(request: Request) -> Workspace:
    return request.app.state.workspace


def _store(request: Request) -> ExecutionStore:
    return request.app.state.console_store


def _runner(request: Request) -> ConsoleRunner:
    return request.app.state.console_runner


def _page(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    context.setdefault("workspace_root", str(_ws(request).root))
    context.setdefault("now", datetime.now(UTC))
    return HTMLResponse(render(template, **context), status_code=status_code)


def _layout(request: Request, name: str) -> GraphLayout:
    """The graph of the definition the execution ran (else the repository's), cached."""
    text = _definition_text(_store(request).definition_path(name))
    cache: dict[str, GraphLayout] = request.app.state.console_layouts
    key = hashlib.sha1(text.encode("utf-8")).hexdigest()
    if key not in cache:
        if len(cache) > 32:
            cache.clear()
        try:
            definition = json.loads(text)
        except json.JSONDecodeError:  # a damaged copy: draw nothing rather than fail the page
            definition = {"StartAt": "", "States": {}}
        cache[key] = layout_definition(definition)
    return cache[key]


def _definition_text(path: Path) -> str:
    for candidate in (path, DEFAULT_ASL):
        try:
            return candidate.read_text(encoding="utf-8")
        except FileNotFoundError:
            continue
    return '{"StartAt": "", "States": {}}'


# --- executions list ---------------------------------------------------------------------------
@router.get("/", response_class=HTMLResponse)
@router.get("/executions", response_class=HTMLResponse)
def executions_page(
    request: Request,
    status: Annotated[str | None, Query()] = None,
    page: Annotated[int, Query(ge=1)] = 1,
) -> HTMLResponse:
    status = status.upper() if status else None
    listing = _store(request).page(status, page)
    return _page(
        request,
        "executions.html",
        nav="executions",
        page=listing,
        status=status,
        statuses=STATUSES,
    )


@router.get("/console/api/executions")
def executions_fragment(
    request: Request,
    status: Annotated[str | None, Query()] = None,
    page: Annotated[int, Query(ge=1)] = 1,
) -> JSONResponse:
    """The list's table as HTML plus the running count, for the list's live refresh."""
    status = status.upper() if status else None
    listing = _store(request).page(status, page)
    html = render(
        "_execution_rows.html", page=listing, status=status, statuses=STATUSES,
        now=datetime.now(UTC),
    )
    return JSONResponse({"html": html, "running": listing.running, "counts": listing.counts})


# --- one execution -----------------------------------------------------------------------------
@router.get("/executions/{name}", response_class=HTMLResponse)
def execution_page(
    request: Request,
    name: str,
    state: Annotated[str | None, Query()] = None,
    events: Annotated[str | None, Query()] = None,
) -> HTMLResponse:
    store, runner = _store(request), _runner(request)
    if not store.exists(name):
        problem = runner.problem(name)
        if problem is not None:
            message = f"{problem.error}: {problem.message}"
            return _page(request, "message.html", 500, heading=name, message=message)
        return _page(request, "message.html", 404, heading="Execution not found",
                     message=f"No execution named {name!r} in {store.root}.")
    record = store.record(name)
    history, trace = store.trace(name)
    layout = _layout(request, name)
    status = str(record.get("status") or trace.status).upper()
    now = datetime.now(UTC)
    start = trace.started_at or parse_time(record.get("start_date"))
    stop = parse_time(record.get("stop_date")) if status != "RUNNING" else None
    context = _state_context(layout, trace, state, now) if state else {}
    waiting = [
        name for name, st in trace.state_status().items()
        if st == "running" and name in layout.nodes and layout.nodes[name].callback
    ] if status == "RUNNING" else []
    return _page(
        request,
        "execution.html",
        nav="executions",
        name=name,
        record=record,
        status=status,
        trace=trace,
        events=history,
        rows=event_rows(history, start, last=None if events == "all" else EVENTS_SHOWN),
        hidden_events=0 if events == "all" else max(0, len(history) - EVENTS_SHOWN),
        duration=((stop or now) - start).total_seconds() if start else None,
        svg=render_svg(layout, trace.state_status(), trace.visit_counts(), state),
        legend=LEGEND,
        can_redrive=status in ("FAILED", "ABORTED", "TIMED_OUT"),
        problem=runner.problem(name),
        waiting=waiting,
        **context,
    )


def _state_context(layout: GraphLayout, trace: Any, state: str, now: datetime) -> dict[str, Any]:
    visits = trace.visits_of(state)
    numbered = list(enumerate(visits, start=1))[-MAX_VISITS_SHOWN:][::-1]
    node = layout.nodes.get(state)
    return {
        "selected": state,
        "selected_type": node.type if node else "",
        "visits": numbered,
        "visit_total": len(visits),
        "now": now,
    }


@router.get("/console/api/executions/{name}/states/{state}", response_class=HTMLResponse)
def state_fragment(request: Request, name: str, state: str) -> HTMLResponse:
    """The details panel of one state (input, output, duration, retries, errors)."""
    store = _store(request)
    if not store.exists(name):
        return HTMLResponse("<p class='hint'>No such execution.</p>", status_code=404)
    _, trace = store.trace(name)
    context = _state_context(_layout(request, name), trace, state, datetime.now(UTC))
    return HTMLResponse(render("_state.html", **context))


@router.get("/console/api/executions/{name}/live")
def execution_live(
    request: Request, name: str, after: Annotated[int, Query(ge=0)] = 0
) -> JSONResponse:
    """What changed since event ``after``: statuses of the states and the new event rows."""
    store = _store(request)
    if not store.exists(name):
        problem = _runner(request).problem(name)
        return JSONResponse(
            {"exists": False, "problem": problem.message if problem else None}, status_code=404
        )
    record = store.record(name)
    events, trace = store.trace(name)
    status = str(record.get("status") or trace.status).upper()
    start = trace.started_at or parse_time(record.get("start_date"))
    fresh = event_rows(events, start, after=after, last=EVENTS_SHOWN)
    rows_html = "".join(render("_event_row.html", row=row) for row in fresh)
    now = datetime.now(UTC)
    stop = parse_time(record.get("stop_date")) if status in TERMINAL else None
    return JSONResponse(
        {
            "exists": True,
            "status": status,
            "terminal": status in TERMINAL,
            "states": trace.state_status(),
            "visits": trace.visit_counts(),
            "last_event_id": trace.last_event_id,
            "events": len(events),
            "rows_html": rows_html,
            "duration": _duration_text((stop or now) - start if start else None),
        }
    )


def _duration_text(delta: Any) -> str:
    return fmt_duration(delta.total_seconds()) if delta is not None else ""


def _cross_site(request: Request) -> HTMLResponse | None:
    """Refuse a form posted by another site (the console has no login; the browser sends
    ``Origin`` with every cross-site POST)."""
    origin = request.headers.get("origin")
    if origin and origin != "null" and urlsplit(origin).netloc != request.headers.get("host"):
        return _page(request, "message.html", 403, heading="Refused",
                     message=f"a form from {origin} cannot start or redrive executions here")
    return None


@router.post("/executions/{name}/redrive")
def redrive(request: Request, name: str) -> Any:
    refused = _cross_site(request)
    if refused is not None:
        return refused
    store = _store(request)
    if not store.exists(name):
        return _page(request, "message.html", 404, heading="Execution not found",
                     message=f"No execution named {name!r}.")
    try:
        _runner(request).redrive(name)
    except FraudpipeError as exc:
        status = 503 if isinstance(exc, RuntimeUnavailableError) else 409
        return _page(request, "message.html", status, heading="Cannot redrive",
                     message=f"{type(exc).__name__}: {exc}")
    return RedirectResponse(f"/executions/{name}", status_code=303)


# --- start form --------------------------------------------------------------------------------
@router.get("/start", response_class=HTMLResponse)
def start_form(request: Request) -> HTMLResponse:
    try:
        text = json.dumps(_runner(request).defaults(), indent=2)
        unavailable = None
    except FraudpipeError as exc:
        text, unavailable = "{}", str(exc)
    return _page(request, "start.html", nav="start", text=text, errors=[],
                 unavailable=unavailable)


@router.post("/start", response_model=None)
async def start_execution(request: Request) -> HTMLResponse | RedirectResponse:
    refused = _cross_site(request)
    if refused is not None:
        return refused
    text = _form_field(await request.body(), "input")
    return await run_in_threadpool(_start, request, text)


def _form_field(body: bytes, field: str) -> str:
    """One field of an urlencoded form body (the console's forms post nothing else)."""
    values = parse_qs(body.decode("utf-8", errors="replace"), keep_blank_values=True)
    return values.get(field, [""])[0]


def _start(request: Request, text: str) -> HTMLResponse | RedirectResponse:
    runner = _runner(request)
    try:
        name = runner.start(runner.validate(parse_input_text(text)))
    except InputValidationError as exc:
        errors = [(problem, locate_problem(text, problem)) for problem in exc.problems]
        return _page(request, "start.html", 400, nav="start", text=text, errors=errors,
                     unavailable=None)
    except FraudpipeError as exc:
        return _page(request, "start.html", 503, nav="start", text=text, errors=[],
                     unavailable=f"{type(exc).__name__}: {exc}")
    return RedirectResponse(f"/executions/{name}", status_code=303)


# --- models and detectors ---------------------------------------------------------------------
@router.get("/models", response_class=HTMLResponse)
def models_page(request: Request) -> HTMLResponse:
    ws = _ws(request)
    unavailable = None
    try:
        models, detectors = list_models(ws), list_detectors(ws)
    except FraudpipeError as exc:
        models, detectors, unavailable = [], [], str(exc)
    return _page(request, "models.html", nav="models", models=models, detectors=detectors,
                 unavailable=unavailable)


@router.get("/models/{model_id}/{version}/report", response_model=None)
def report_redirect(model_id: str, version: str) -> RedirectResponse:
    return RedirectResponse(f"/models/{model_id}/{version}/report/", status_code=307)


@router.get("/models/{model_id}/{version}/report/{filename:path}", response_model=None)
def report(request: Request, model_id: str, version: str, filename: str = "") -> Any:
    """The model version's report HTML (empty filename) or a file next to it (its PNGs)."""
    try:
        path = report_file(_ws(request), model_id, version, filename)
    except ReportNotFoundError as exc:
        return _page(request, "message.html", 404, heading="Report not found", message=str(exc))
    return FileResponse(path)


def include(app: FastAPI) -> None:
    """Add the console to ``app`` (workspace from ``app.state.workspace``)."""
    ws: Workspace = app.state.workspace
    app.state.console_store = ExecutionStore(ws)
    app.state.console_runner = ConsoleRunner(ws)
    app.state.console_layouts = {}
    app.mount("/console-static", StaticFiles(directory=STATIC_DIR), name="console-static")
    app.include_router(router)
    # Not a daemon: a server stopped within its first second waits for the import to end
    # rather than finalizing under it (a daemon thread inside an extension module's import
    # at interpreter exit can abort the process).
    threading.Thread(
        target=_warm_up, args=(app.state.console_store,), name="console-warm-up"
    ).start()


def _warm_up(store: ExecutionStore) -> None:
    """Read every summary and import the engine before the first visitor has to wait for it."""
    try:
        store.summaries()
        import fraudpipe.engine  # noqa: F401  (the models page's first import takes ~1 s)
    except Exception:  # best effort: the pages do the same work on demand
        return

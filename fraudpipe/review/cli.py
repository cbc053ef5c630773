"""``fraudpipe review list`` and ``fraudpipe review decide LOOP --verdict ...`` (local queue)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from fraudpipe.workspace import get_workspace

__all__ = ["format_items", "register"]


def format_items(items: list[dict]) -> str:
    """A plain table of loops (no card numbers or names: the queue holds none)."""
    if not items:
        return "no items"
    header = f"{'LOOP':<63}  {'SCORE':>6}  {'STATUS':<8}  {'VERDICT':<8}  EVENT"
    rows = [
        f"{i['loop_name']:<63}  {i['score']:>6.0f}  {i['status']:<8}  "
        f"{i['verdict'] or '-':<8}  {i['event_id']}"
        for i in items
    ]
    return "\n".join([header, *rows])


def register(app: typer.Typer) -> None:
    """Add the ``review`` group to ``app``."""
    review = typer.Typer(help="Human review of scores in the review band (local queue).")
    app.add_typer(review, name="review")

    @review.command("list")
    def list_items(
        all_items: Annotated[
            bool, typer.Option("--all", help="Answered items too, not only pending ones.")
        ] = False,
        execution: Annotated[
            str | None, typer.Option(help="Only the loops of this execution.")
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    ) -> None:
        """List items awaiting review (highest score first)."""
        from fraudpipe.review.queue import PENDING, ReviewQueue
        from fraudpipe.review.resume import review_url

        ws = get_workspace()
        status = None if all_items else PENDING
        items = [i.to_dict() for i in ReviewQueue(ws.review_db).items(status, execution)]
        if as_json:
            typer.echo(json.dumps(items, indent=2))
            return
        typer.echo(format_items(items))
        typer.echo(f"answer them at {review_url(ws)} or with `fraudpipe review decide`")

    @review.command("decide")
    def decide_item(
        loop: Annotated[str, typer.Argument(help="The human loop name (see `review list`).")],
        verdict: Annotated[
            str, typer.Option(help="fraud | legit | escalate", case_sensitive=False)
        ],
    ) -> None:
        """Answer one item; fraud/legit become labels for the next update training."""
        from fraudpipe.errors import ResourceNotFoundError, ReviewError
        from fraudpipe.review.service import decide

        try:
            item = decide(get_workspace(), loop, verdict.lower())
        except (ResourceNotFoundError, ReviewError, ValueError) as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(1) from exc
        typer.echo(f"{item.loop_name}: {item.verdict}")

"""``outtask quotes search``: the engagement's quote bank, by meaning and words."""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from deck_builder.errors import DeckBuilderError

from .console import EXIT_OK, UsageError, engagement_named, err, open_runtime, out, split_ref

quotes_app = typer.Typer(no_args_is_help=True,
                         help="Search what the executives of an engagement said.")


@quotes_app.command("search")
def quotes_search(
    ref: Annotated[str, typer.Argument(help="<client>/<engagement>")],
    query: Annotated[str, typer.Argument(help='What to look for, e.g. "pricing pressure".')],
    limit: Annotated[int, typer.Option(min=1, max=200, help="Hits at most.")] = 10,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """Executive sentences of the engagement's transcribed interviews that say what QUERY
    means (not only its words), best first, with who said it, where, and to which question."""
    from .quotes import search_quotes

    split_ref(ref)
    rt = open_runtime()
    with rt.sessions() as s:
        eng = engagement_named(s, ref)
        try:
            with err.status(f"searching {ref}"):
                hits = search_quotes(s, rt.bucket, eng, query, limit=limit)
        except DeckBuilderError as e:
            raise UsageError(str(e)) from None
    if as_json:
        print(json.dumps({"engagement": ref, "query": query,
                          "results": [h.to_dict() for h in hits]}, indent=1,
                         ensure_ascii=False))
        raise typer.Exit(EXIT_OK)
    if not hits:
        out.print(f"no executive said anything like {query!r} in {ref}", highlight=False)
        raise typer.Exit(EXIT_OK)
    table = Table(title=f"{query!r} in {ref}", title_justify="left", expand=True)
    table.add_column("#", justify="right", no_wrap=True)
    table.add_column("score", justify="right", no_wrap=True)
    table.add_column("said", ratio=4, min_width=28, overflow="fold")
    table.add_column("who", ratio=1, overflow="fold")
    table.add_column("where", ratio=1, overflow="fold")
    table.add_column("question", ratio=2, overflow="fold")
    for h in hits:
        table.add_row(str(h.rank), f"{h.score:.2f}", f"\u201c{h.text}\u201d", h.who,
                      f"{h.where}\n{h.file}", h.question or "-")
    out.print(table)

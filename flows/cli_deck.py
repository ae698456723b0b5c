"""``outtask brief …``, ``outtask deck check`` and ``outtask form …``: the brief the out-tasker
receives, the deck that comes back, and the interview form consultants fill."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from .console import (
    EXIT_OK,
    EXIT_REFUSED,
    UsageError,
    engagement_named,
    err,
    open_runtime,
    out,
    split_ref,
)

brief_app = typer.Typer(no_args_is_help=True, help="Build and show an engagement's brief.")
deck_app = typer.Typer(no_args_is_help=True, help="Check a deck an out-tasker returned.")
form_app = typer.Typer(no_args_is_help=True, help="The executive interview form.")

Ref = Annotated[str, typer.Argument(help="<client>/<engagement>")]
AsJson = Annotated[bool, typer.Option("--json", help="Print as JSON.")]


def _redactions(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {kind}" for kind, n in counts.items() if n) or "none"


@brief_app.command("build")
def brief_build(
    ref: Ref,
    pseudonymise: Annotated[bool | None, typer.Option(
        "--pseudonymise/--real-names",
        help="Name executives Executive A, B, ... everywhere, or by their names. Default: as "
             "the last brief (real names for the first).")] = None,
    vendor_timezone: Annotated[str | None, typer.Option(
        help="The out-tasker's time zone for the deadline. Default: OUTTASK_VENDOR_TIMEZONE.")
    ] = None,
    force: Annotated[bool, typer.Option(help="Build a new version even if nothing changed.")
                     ] = False,
    preview: Annotated[bool, typer.Option(help="Render slide previews (LibreOffice).")] = True,
    as_json: AsJson = False,
) -> None:
    """Package the engagement's transcripts, forms, job spec, quotes and starter deck as a new
    brief version under briefs/<client>/<engagement>/ (only when an input changed)."""
    from .brief import BriefError, build_engagement_brief

    split_ref(ref)
    rt = open_runtime()
    try:
        with err.status(f"building the brief for {ref}"):
            result = build_engagement_brief(rt, ref, pseudonymise=pseudonymise,
                                            vendor_timezone=vendor_timezone, force=force,
                                            preview=preview)
    except BriefError as e:
        err.print(f"[bold red]error[/]: {e}", highlight=False)
        raise typer.Exit(EXIT_REFUSED) from None
    for problem in result.skipped_forms:
        err.print(f"[yellow]form not used[/]: {problem}", highlight=False)
    if as_json:
        print(json.dumps(result.to_dict(), indent=1))
        return
    what = "built" if result.built else "unchanged since"
    out.print(f"brief {what} version {result.version} of {ref} (job {result.job_id}): "
              f"{result.interviews} interview(s), starter deck of {result.slides} slides; "
              f"redacted: {_redactions(result.redactions)}; preview: {result.preview}",
              highlight=False)
    out.print(f"folder: {rt.bucket.url}/{result.prefix}/\nzip:    {rt.bucket.url}/"
              f"{result.zip_key}", highlight=False)


@brief_app.command("show")
def brief_show(ref: Ref, as_json: AsJson = False) -> None:
    """The engagement's brief versions, newest first. Always exits 0 when it exists."""
    from . import db

    split_ref(ref)
    rt = open_runtime()
    with rt.sessions() as s:
        eng = engagement_named(s, ref)
        rows = [{"version": b.version, "job_id": b.job_id, "created_at": b.created_at.isoformat(),
                 "interviews": b.interviews, "slides": b.slides, "redactions": b.redactions,
                 "terms": b.terms, "pseudonymised": b.pseudonymised, "preview": b.preview,
                 "folder": b.prefix, "zip": b.zip_key, "zip_sha256": b.zip_sha256}
                for b in s.query(db.Brief).filter_by(engagement_id=eng.id)
                .order_by(db.Brief.version.desc())]
    if as_json:
        print(json.dumps({"engagement": ref, "briefs": rows}, indent=1))
        return
    table = Table(title=f"briefs of {ref}")
    for col in ("version", "job", "built (UTC)", "interviews", "slides", "rate", "redacted"):
        table.add_column(col, overflow="fold")
    for r in rows:
        rate = r["terms"].get("slide_rate_cents", 0)
        table.add_row(str(r["version"]), r["job_id"], r["created_at"][:16].replace("T", " "),
                      str(r["interviews"]), str(r["slides"]),
                      f"{rate // 100}.{rate % 100:02d} {r['terms'].get('currency', '')}",
                      _redactions(r["redactions"]))
    out.print(table)
    if rows:
        out.print(f"latest: {rt.bucket.url}/{rows[0]['zip']}", highlight=False)
    else:
        out.print(f"no brief yet: outtask brief build {ref}", highlight=False)


@deck_app.command("check")
def deck_check(
    file: Annotated[Path, typer.Argument(help="The returned .pptx.")],
    as_json: AsJson = False,
) -> None:
    """Refuse a deck that is not a safe, real .pptx (exit 1); otherwise count billable slides
    (visible and not empty) and flag what needs a look (exit 0)."""
    from deck_builder.deck_check import check_deck
    from deck_builder.errors import DeckRefusedError

    if not file.is_file():
        raise UsageError(f"{file}: no such file")
    try:
        report = check_deck(file)
    except DeckRefusedError as e:
        if as_json:
            print(json.dumps({"file": file.name, "refused": f"{e.reason}: {e.fix}",
                              "kind": e.kind}))
        err.print(f"[bold red]refused[/]: {file.name}: {e.reason}\n[bold]fix[/]: {e.fix}",
                  highlight=False)
        raise typer.Exit(EXIT_REFUSED) from None
    if as_json:
        print(json.dumps(report.to_dict(), indent=1))
        raise typer.Exit(EXIT_OK)
    out.print(f"{report.file}: {report.slides} slides, [bold]{report.billable_slides} "
              f"billable[/], {report.hidden_slides} hidden, {report.empty_slides} empty",
              highlight=False)
    if report.flags:
        table = Table(title="flags")
        for col in ("slide", "kind", "reason"):
            table.add_column(col, overflow="fold")
        for f in report.flags:
            table.add_row(str(f.slide or "-"), f.kind, f.reason)
        out.print(table)


@form_app.command("blank")
def form_blank(
    ref: Ref,
    out_file: Annotated[Path, typer.Option("--out", help="Where to write the DOCX form.")
                        ] = Path("interview.form.docx"),
) -> None:
    """A blank interview form (DOCX) with the engagement's questions, to fill and upload next
    to the recording as <recording-stem>.form.docx."""
    from deck_builder.interview_form import blank_form_docx

    from . import db

    client, slug = split_ref(ref)
    rt = open_runtime()
    with rt.sessions() as s:
        eng = (s.query(db.Engagement).join(db.Client)
               .filter(db.Client.slug == client, db.Engagement.slug == slug).one_or_none())
        questions = list(eng.questions or []) if eng else []
    blank_form_docx(out_file, engagement=ref, questions=questions)
    out.print(f"wrote {out_file} ({len(questions)} question(s)): fill it in and upload it as "
              f"inbox/{ref}/<recording-stem>.form.docx", highlight=False)


@form_app.command("schema")
def form_schema() -> None:
    """The interview form's JSON schema (for .form.json / .form.yaml)."""
    from deck_builder.interview_form import form_json_schema

    print(json.dumps(form_json_schema(), indent=1))


@form_app.command("check")
def form_check(file: Annotated[Path, typer.Argument(help="A .form.yaml, .form.json or "
                                                        ".form.docx file.")]) -> None:
    """Validate a filled form before uploading it: exit 0 when it is valid, 1 when not."""
    from deck_builder.errors import FormError
    from deck_builder.interview_form import parse_form

    if not file.is_file():
        raise UsageError(f"{file}: no such file")
    try:
        form = parse_form(file.read_bytes(), file.name)
    except FormError as e:
        err.print(f"[bold red]invalid[/]: {e.message}\n[bold]fix[/]: {e.fix}", highlight=False)
        raise typer.Exit(EXIT_REFUSED) from None
    out.print(f"{file.name}: valid form for {form.engagement} ({len(form.answers)} answer(s))",
              highlight=False)

"""The ``outtask`` command line.

Exit codes (shared CONVENTIONS.md): 0 done (quality flags are reported, not failures);
1 an input was refused or a check failed; 2 usage or configuration error.
"""

from __future__ import annotations

import contextlib
import json
import sys
import traceback
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from transcription.engines import ENGINES, DecodeOptions
from transcription.errors import AudioInputError, TranscriptionError
from transcription.models import REGISTRY
from transcription.transcript import FORMATS, write_files

from .cli_deck import brief_app, deck_app, form_app
from .cli_finance import finance_app
from .cli_jobs import jobs_app
from .cli_quotes import quotes_app
from .cli_stack import stack_app
from .cli_upload import upload
from .cli_users import portal as portal_command
from .cli_users import users_app
from .cli_vendors import bids_app, vendors_app
from .console import (
    EXIT_OK,
    EXIT_REFUSED,
    EXIT_USAGE,
    UsageError,
    err,
    open_runtime,
    open_settings,
    out,
    split_ref,
)
from .settings import apply_prefect_defaults

app = typer.Typer(add_completion=False, no_args_is_help=True, rich_markup_mode=None,
                  pretty_exceptions_show_locals=False,
                  help="outtask: interview recordings in, transcripts and deck briefs out.")


def _formats(value: str) -> list[str]:
    fmts = [f.strip().lower() for f in value.split(",") if f.strip()]
    bad = [f for f in fmts if f not in FORMATS]
    if bad or not fmts:
        raise UsageError(f"unknown format(s) {', '.join(bad) or '(none)'}: choose from "
                         f"{','.join(FORMATS)}, e.g. --format txt,srt")
    # json first: write_files uses it to recognise another recording's outputs
    return sorted(dict.fromkeys(fmts), key=lambda f: f != "json")


def _progress() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(),
                    TextColumn("{task.fields[audio]}"), TimeElapsedColumn(),
                    TimeRemainingColumn(), console=err, transient=False)


def _clock(seconds: float) -> str:
    m, s = divmod(round(seconds), 60)
    h, m = divmod(m, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


@app.command()
def transcribe(
    files: Annotated[list[Path], typer.Argument(help="Recordings (m4a, mp3, wav, flac, ...).")],
    engine: Annotated[str, typer.Option(help=f"One of: {', '.join(ENGINES)}.")] = "faster-whisper",
    model: Annotated[str | None, typer.Option(
        help=f"One of: {', '.join(REGISTRY)}. Default: OUTTASK_MODEL.")] = None,
    format: Annotated[str, typer.Option(
        "--format", help="Transcript files to write, comma-separated.")] = "txt,json,srt,vtt",
    out_dir: Annotated[Path, typer.Option("--out", help="Folder for <stem>.<format>.")] = Path("."),
    language: Annotated[str, typer.Option(help="Expected language (ISO 639-1).")] = "en",
    beam_size: Annotated[int, typer.Option(min=1, max=10)] = 5,
    threads: Annotated[int, typer.Option(min=1, help="CPU threads.")] = 2,
    speakers: Annotated[bool, typer.Option(help="Label speaker turns.")] = True,
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Transcribe recordings offline into <stem>.<format> files in --out."""
    from transcription.pipeline import TranscribeOptions, Transcriber

    settings = open_settings()
    formats = _formats(format)
    if engine not in ENGINES:
        raise UsageError(f"unknown engine {engine!r}: choose from {', '.join(ENGINES)}")
    model = model or settings.model
    if model not in REGISTRY:
        raise UsageError(f"unknown model {model!r}: choose from {', '.join(REGISTRY)}")
    options = TranscribeOptions(
        engine=engine, model=model, max_hours=settings.max_audio_hours, diarize=speakers,
        decode=DecodeOptions(beam_size=beam_size, language=language, threads=threads))
    transcriber = Transcriber(options, cache_dir=settings.model_cache)
    rows: list[dict] = []
    used_stems: dict[str, str] = {}
    with _progress() as bar:
        for path in files:
            task = bar.add_task(path.name, total=None, audio="")
            row: dict = {"file": str(path), "status": "transcribed", "outputs": {},
                         "duration_s": None, "language": None, "speakers": [], "flags": [],
                         "error": None}
            rows.append(row)
            try:
                info = transcriber.inspect(path)
                row["duration_s"] = round(info.duration, 2)

                def tick(stage: str, done: float, total: float, task=task) -> None:
                    bar.update(task, total=total, completed=done,
                               audio=f"{_clock(done)}/{_clock(total)}")

                t = transcriber.transcribe(path, info=info, progress=tick)
            except AudioInputError as e:
                bar.update(task, total=1, completed=1, audio="refused")
                row.update(status="refused", error=e.to_dict())
                continue
            except TranscriptionError:
                raise  # model or tool missing: the whole run cannot go on (exit 2)
            except Exception as e:  # noqa: BLE001 - one broken file must not stop the batch
                bar.update(task, total=1, completed=1, audio="failed")
                row.update(status="failed", error={"code": "internal", "message": repr(e),
                                                   "fix": "Report this with the file.",
                                                   "path": str(path)})
                traceback.print_exc(file=sys.stderr)
                continue
            stem = path.stem
            if used_stems.get(stem, t.source_sha256) != t.source_sha256:
                stem = f"{stem}-{t.source_sha256[:8]}"
            used_stems.setdefault(path.stem, t.source_sha256)
            written = write_files(t, out_dir, stem, formats)
            row.update(outputs={k: str(v) for k, v in written.items()},
                       language=t.language, speakers=list(t.speakers),
                       flags=[{"kind": f.kind, "reason": f.reason, "start": f.start,
                               "end": f.end} for f in t.quality.flags])
    refused = [r for r in rows if r["status"] != "transcribed"]
    if as_json:
        print(json.dumps({"engine": engine, "model": model, "files": rows}, indent=1))
    else:
        table = Table(title="outtask transcribe", show_lines=False)
        for col in ("file", "status", "length", "speakers", "flags", "output"):
            table.add_column(col)
        for r in rows:
            flags = ", ".join(dict.fromkeys(f["kind"] for f in r["flags"])) or "-"
            output = (r["outputs"].get("txt") or next(iter(r["outputs"].values()), "")
                      if r["outputs"] else (r["error"] or {}).get("code", ""))
            table.add_row(Path(r["file"]).name, r["status"],
                          _clock(r["duration_s"]) if r["duration_s"] else "-",
                          str(len(r["speakers"])) if r["speakers"] else "-", flags, output)
        out.print(table)
    for r in rows:
        if r["error"]:
            err.print(f"[bold red]{Path(r['file']).name}[/]: {r['error']['message']} "
                      f"{r['error']['fix']}", highlight=False)
        for f in r["flags"]:
            err.print(f"[yellow]{Path(r['file']).name}: needs review[/]: {f['reason']}",
                      highlight=False)
    raise typer.Exit(EXIT_REFUSED if refused else EXIT_OK)


@app.command("models")
def models_cmd(
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """List the speech models and whether their weights are installed and intact."""
    from transcription.models import resolve

    settings = open_settings()
    rows = []
    for name, source in REGISTRY.items():
        try:
            m = resolve(name, settings.model_cache)
            rows.append({"name": name, "status": "ok", "path": str(m.path),
                         "sha256": m.sha256, "multilingual": m.multilingual,
                         "default": name == settings.model, "fix": ""})
        except TranscriptionError as e:
            rows.append({"name": name, "status": e.code, "path": None,
                         "sha256": source.model_sha256, "multilingual": source.multilingual,
                         "default": name == settings.model, "fix": e.fix})
    if as_json:
        print(json.dumps({"models": rows}, indent=1))
        return
    table = Table(title="speech models")
    for col in ("model", "status", "languages", "default", "path or fix"):
        table.add_column(col)
    for r in rows:
        table.add_row(r["name"], r["status"], "many" if r["multilingual"] else "English",
                      "yes" if r["default"] else "", r["path"] or r["fix"])
    out.print(table)


@app.command()
def demo() -> None:
    """A first run: speak a short two-voice interview with espeak-ng into a demo engagement's
    inbox, run the whole pipeline, and print where the transcript is."""
    from .demo import run_demo

    settings = open_settings()
    open_runtime()
    raise typer.Exit(run_demo(settings, console=out, err=err))


def main() -> None:
    apply_prefect_defaults()
    try:
        # standalone mode: click turns usage errors into exit 2 and typer.Exit into its code
        app()
    except UsageError as e:
        err.print(f"[bold red]error[/]: {e}", highlight=False)
        sys.exit(EXIT_USAGE)
    except TranscriptionError as e:
        err.print(f"[bold red]error[/]: {e.message}\n[bold]fix[/]: {e.fix}", highlight=False)
        sys.exit(EXIT_USAGE)


@app.command()
def run(
    as_json: Annotated[bool, typer.Option("--json", help="Print the summary as JSON.")] = False,
) -> None:
    """Process everything waiting in the inbox once: register, transcribe, quarantine."""
    from .engagement import run_pending, scan_inbox

    rt = open_runtime()
    scan = scan_inbox(rt)
    for key in scan.refused:
        err.print(f"[bold red]refused[/]: {key} (see quarantine/)", highlight=False)
    with _progress() as bar:
        task = bar.add_task("interviews", total=None, audio="")
        done = {"n": 0}

        def started(iv) -> None:
            bar.update(task, description=f"{iv.engagement.ref}/{iv.file}")

        def finished(_id: int, outcome: str) -> None:
            done["n"] += 1
            bar.update(task, completed=done["n"], total=max(done["n"], 1), audio=outcome)

        outcomes = run_pending(rt, on_start=started, on_done=finished, changed=scan.changed)
    quarantined = [i for i, o in outcomes.items() if o == "quarantined"]
    failed = [i for i, o in outcomes.items() if o == "failed"]
    summary = {"registered": len(scan.registered), "duplicates": len(scan.duplicates),
               "processed": len(outcomes), "quarantined": len(quarantined) + len(scan.refused),
               "failed": len(failed), "ignored": scan.ignored, "settling": scan.settling}
    if as_json:
        print(json.dumps(summary, indent=1))
    else:
        _print_status(rt, None)
    raise typer.Exit(EXIT_REFUSED if quarantined or failed or scan.refused else EXIT_OK)


def _status_rows(rt, ref: str | None) -> list[dict]:
    from . import db

    with rt.sessions() as s:
        q = s.query(db.Interview).join(db.Engagement).join(db.Client)
        if ref:
            client, _, engagement = ref.partition("/")
            q = q.filter(db.Client.slug == client)
            if engagement:
                q = q.filter(db.Engagement.slug == engagement)
        rows = []
        for iv in q.order_by(db.Client.slug, db.Engagement.slug, db.Interview.id):
            rows.append({"client": iv.engagement.client.slug, "engagement": iv.engagement.slug,
                         "file": iv.file, "state": iv.state, "reason": iv.reason,
                         "duration_s": iv.duration_s,
                         "flags": [f["kind"] for f in (iv.flags or [])]})
        return rows


def _print_status(rt, ref: str | None) -> None:
    rows = _status_rows(rt, ref)
    table = Table(title=f"interviews{' in ' + ref if ref else ''}")
    for col in ("engagement", "file", "state", "length", "flags", "reason"):
        table.add_column(col, overflow="fold")
    for r in rows:
        table.add_row(f"{r['client']}/{r['engagement']}", r["file"], r["state"],
                      _clock(r["duration_s"]) if r["duration_s"] else "-",
                      ", ".join(dict.fromkeys(r["flags"])) or "-", r["reason"] or "")
    out.print(table)


@app.command()
def status(
    ref: Annotated[str | None, typer.Argument(help="<client>/<engagement> or <client>.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """Show interviews and their states. Always exits 0."""
    from .intake import classify

    rt = open_runtime()
    if as_json:
        ignored = [o.key for o in rt.bucket.list("inbox/") if classify(o.key).kind == "ignored"]
        print(json.dumps({"interviews": _status_rows(rt, ref), "ignored": ignored}, indent=1))
    else:
        _print_status(rt, ref)


@app.command()
def doctor(
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """Check ffmpeg, models, database, bucket, queue and Prefect, and say what to fix.
    Exits 1 when a check fails."""
    from .doctor import run_doctor

    raise typer.Exit(run_doctor(as_json=as_json, console=out))


@app.command()
def watch(
    interval: Annotated[float, typer.Option(min=0.5, help="Seconds between polls.")] = 5.0,
) -> None:
    """Watch a local inbox and process recordings as they arrive (Ctrl-C or SIGTERM stops)."""
    from .listen import stop_on_signals
    from .listen import watch as watch_loop

    rt = open_runtime()
    if rt.settings.local_bucket is None:
        raise UsageError("outtask watch polls a local folder; for s3:// buckets use "
                         "outtask listen with OUTTASK_QUEUE_URL")
    err.print(f"watching {rt.settings.local_bucket / 'inbox'} (Ctrl-C to stop)")
    with _stopping():
        watch_loop(rt, stop_on_signals(), interval_s=interval, on_pass=_report_pass)


@app.command()
def listen(
    wait: Annotated[int, typer.Option(min=1, max=20, help="SQS long-poll seconds.")] = 10,
) -> None:
    """Consume the S3 bucket's object-created events from OUTTASK_QUEUE_URL (SIGTERM stops)."""
    from .listen import listen as listen_loop
    from .listen import stop_on_signals

    rt = open_runtime()
    if not rt.settings.queue_url:
        raise UsageError("set OUTTASK_QUEUE_URL to the SQS queue that receives the bucket's "
                         "object-created events")
    if not rt.settings.bucket.startswith("s3://"):
        raise UsageError("outtask listen needs an s3:// OUTTASK_BUCKET; use outtask watch for "
                         "a local folder")
    err.print(f"listening on {rt.settings.queue_url} (SIGTERM to stop)")
    with _stopping():
        listen_loop(rt, rt.settings.queue_url, stop_on_signals(), wait_s=wait,
                    on_pass=_report_pass)


@contextlib.contextmanager
def _stopping():
    """A stop signal that lands inside a flow run arrives as Prefect's TerminationSignal (or
    KeyboardInterrupt): the interview was handed back, so stopping there is a clean stop."""
    from prefect.exceptions import TerminationSignal

    with contextlib.suppress(TerminationSignal, KeyboardInterrupt):
        yield
    err.print("stopped")


def _report_pass(scan, outcomes: dict[int, str]) -> None:
    for key in scan.refused:
        err.print(f"refused: {key} (see quarantine/)", highlight=False)
    for iid, outcome in outcomes.items():
        err.print(f"interview {iid}: {outcome}", highlight=False)


engagement_app = typer.Typer(no_args_is_help=True, help="Create, show and close engagements.")
app.add_typer(engagement_app, name="engagement")
app.add_typer(brief_app, name="brief")
app.add_typer(deck_app, name="deck")
app.add_typer(form_app, name="form")
app.add_typer(vendors_app, name="vendors")
app.add_typer(jobs_app, name="jobs")
app.add_typer(bids_app, name="bids")
app.add_typer(finance_app, name="finance")
app.add_typer(stack_app, name="stack")
app.add_typer(users_app, name="users")
app.add_typer(quotes_app, name="quotes")
app.command("portal")(portal_command)
app.command("upload")(upload)


def _engagement(rt, ref: str, *, create: bool):
    from . import db
    from .engagement import engagement_defaults

    client, slug = split_ref(ref)
    with rt.sessions() as s:
        try:
            if create:
                eng = db.get_or_create_engagement(s, client, slug,
                                                  defaults=engagement_defaults(rt))
                s.commit()
                return eng
        except db.InvalidValueError as e:
            raise UsageError(str(e)) from e
        eng = (s.query(db.Engagement).join(db.Client)
               .filter(db.Client.slug == client, db.Engagement.slug == slug).one_or_none())
        if eng is None:
            raise UsageError(f"no engagement {ref}: create it with outtask engagement create "
                             f"{ref}, or drop a recording into inbox/{ref}/")
        return eng


@engagement_app.command("create")
def engagement_create(
    ref: Annotated[str, typer.Argument(help="<client>/<engagement>")],
    name: Annotated[str | None, typer.Option(help="Display name.")] = None,
    expected: Annotated[int | None, typer.Option(min=1, help="Expected interviews.")] = None,
    target_slides: Annotated[int | None, typer.Option(min=1)] = None,
    turnaround_hours: Annotated[int | None, typer.Option(min=1)] = None,
) -> None:
    """Register an engagement (also happens by itself when its inbox folder gets a file)."""
    from . import db

    rt = open_runtime()
    eng = _engagement(rt, ref, create=True)
    with rt.sessions() as s:
        eng = s.get(db.Engagement, eng.id)
        for field_name, value in (("name", name), ("expected_interviews", expected),
                                  ("target_slides", target_slides),
                                  ("turnaround_hours", turnaround_hours)):
            if value is not None:
                setattr(eng, field_name, value)
        s.commit()
    out.print(f"engagement {ref} ready: drop recordings into inbox/{ref}/", highlight=False)


@engagement_app.command("show")
def engagement_show(
    ref: Annotated[str, typer.Argument(help="<client>/<engagement>")],
    as_json: Annotated[bool, typer.Option("--json", help="Print as JSON.")] = False,
) -> None:
    """An engagement's settings and its interviews. Always exits 0 when it exists."""
    from .engagement import readiness

    rt = open_runtime()
    eng = _engagement(rt, ref, create=False)
    r = readiness(rt, eng.id)
    doc = {"engagement": ref, "name": eng.name, "expected_interviews": eng.expected_interviews,
           "target_slides": eng.target_slides, "turnaround_hours": eng.turnaround_hours,
           "currency": eng.currency, "closed": r.closed, "ready_for_brief": r.ready,
           "counts": r.counts, "interviews": _status_rows(rt, ref)}
    if as_json:
        print(json.dumps(doc, indent=1))
        return
    out.print(f"[bold]{ref}[/] {eng.name or ''}", highlight=False)
    out.print(f"expected interviews: {eng.expected_interviews or '-'}; transcribed: "
              f"{r.transcribed}; in progress: {r.in_progress}; closed: "
              f"{'yes' if r.closed else 'no'}; ready for the brief: "
              f"{'yes' if r.ready else 'no'}", highlight=False)
    _print_status(rt, ref)


@engagement_app.command("close")
def engagement_close(ref: Annotated[str, typer.Argument(help="<client>/<engagement>")]) -> None:
    """No more interviews are coming: hand what is transcribed over to brief packaging."""
    from . import db
    from .engagement import engagement_flow, readiness

    rt = open_runtime()
    eng = _engagement(rt, ref, create=False)
    with rt.sessions() as s:
        row = s.get(db.Engagement, eng.id)
        if row.closed_at is None:
            row.closed_at = db.utcnow()
            s.add(db.Event(engagement_id=row.id, kind="closed", detail={}))
            s.commit()
    ready = engagement_flow(eng.id)
    r = readiness(rt, eng.id)
    if ready:
        out.print(f"{ref} closed: {r.transcribed} transcribed interview(s) handed over for "
                  "the brief", highlight=False)
    else:
        out.print(f"{ref} closed; not ready for the brief yet: {r.in_progress} interview(s) "
                  f"still in progress, {r.transcribed} transcribed. Run outtask run.",
                  highlight=False)

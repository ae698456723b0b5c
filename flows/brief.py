"""Brief packaging for an engagement: gather its transcripts and forms from the bucket, build a
package with :mod:`deck_builder`, store it under ``briefs/<client>/<engagement>/v<N>/`` and
``v<N>.zip``, and record the version.

A new version is built only when the inputs changed (transcripts, forms, the engagement's
questions, redaction terms and target, the terms of the job); otherwise the latest stands.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from prefect import task

from deck_builder.brief import BriefInput, BriefInterview, JobTerms
from deck_builder.errors import DeckBuilderError
from deck_builder.package import build_brief, zip_package
from transcription.models import sha256_file
from transcription.transcript import Transcript

from . import db
from .interview import Runtime, form_for, runtime

#: bump when the package's layout changes, so that unchanged inputs still get a new version
PACKAGE_FORMAT = 4


class BriefError(Exception):
    """A brief cannot be built now; the message says why and what to do."""


@dataclass(frozen=True)
class BriefResult:
    ref: str
    version: int
    job_id: str
    prefix: str
    zip_key: str
    interviews: int
    slides: int
    redactions: dict[str, int]
    preview: str
    built: bool  # False: the inputs had not changed, this is the existing latest version
    skipped_forms: tuple[str, ...] = ()

    def to_dict(self) -> dict:
        return {"engagement": self.ref, "version": self.version, "job_id": self.job_id,
                "folder": self.prefix, "zip": self.zip_key, "interviews": self.interviews,
                "slides": self.slides, "redactions": self.redactions, "preview": self.preview,
                "built": self.built, "skipped_forms": list(self.skipped_forms)}


def find_engagement(s, ref: str) -> db.Engagement:
    client, _, slug = ref.partition("/")
    eng = (s.query(db.Engagement).join(db.Client)
           .filter(db.Client.slug == client, db.Engagement.slug == slug).one_or_none())
    if eng is None:
        raise BriefError(f"no engagement {ref!r}: see `outtask status` for the engagements, "
                         "or create it with `outtask engagement create`")
    return eng


def transcribed_interviews(s, eng: db.Engagement) -> list[db.Interview]:
    """The engagement's transcribed interviews in brief order: interview 1, 2, ... of every
    brief and of the quote bank."""
    return (s.query(db.Interview).filter_by(engagement_id=eng.id, state="transcribed")
            .order_by(db.Interview.created_at, db.Interview.id).all())


def _result(b: db.Brief, ref: str, built: bool, skipped: tuple[str, ...] = ()) -> BriefResult:
    return BriefResult(ref, b.version, b.job_id, b.prefix, b.zip_key, b.interviews, b.slides,
                       dict(b.redactions), b.preview, built, skipped)


def build_engagement_brief(rt: Runtime, ref: str, *, pseudonymise: bool | None = None,
                           vendor_timezone: str | None = None, force: bool = False,
                           preview: bool = True, terms: JobTerms | None = None) -> BriefResult:
    settings = rt.settings
    with rt.sessions() as s:
        eng = find_engagement(s, ref)
        interviews = transcribed_interviews(s, eng)
        if not interviews:
            raise BriefError(f"{ref} has no transcribed interview yet: run `outtask run` and "
                             f"check `outtask status {ref}`")
        if eng.job_id is None:
            eng.job_id = f"job-{secrets.token_hex(5)}"
            s.commit()
        job = s.query(db.Job).filter_by(engagement_id=eng.id).one_or_none()
        if terms is None and job is not None and job.vendor is not None:
            # assigned: the chosen vendor's terms, the deadline in its time zone
            terms = JobTerms(job.slide_rate_cents, job.currency, job.turnaround_hours,
                             vendor=job.vendor.name,
                             revision_rounds=job.vendor.free_revision_rounds)
            vendor_timezone = vendor_timezone or job.vendor.timezone
        terms = terms or JobTerms(settings.slide_rate_cents, eng.currency or settings.currency,
                                  eng.turnaround_hours or settings.turnaround_hours)
        tz = vendor_timezone or settings.vendor_timezone
        parts, skipped, inputs = [], [], []
        for iv in interviews:
            t = Transcript.from_json(rt.bucket.read_bytes(iv.transcript.outputs["json"])
                                     .decode("utf-8"))
            form, form_sha, problem = form_for(rt.bucket, iv.key)
            if problem:
                skipped.append(problem)
            parts.append(BriefInterview(t, form))
            inputs.append([iv.sha256, iv.transcript_id, form_sha])
        latest = (s.query(db.Brief).filter_by(engagement_id=eng.id)
                  .order_by(db.Brief.version.desc()).first())
        if pseudonymise is None:  # as the brief last issued: a rebuild never un-hides names
            pseudonymise = bool(latest and latest.pseudonymised)
        client_words = eng.client.slug.replace("-", " ")
        redact_terms = tuple(dict.fromkeys([*(eng.redact_terms or []), client_words]))
        fingerprint = json.dumps({
            "format": PACKAGE_FORMAT, "interviews": inputs, "questions": eng.questions,
            "redact": redact_terms, "target": eng.target_slides, "terms": vars(terms),
            "pseudonymise": pseudonymise, "tz": tz}, sort_keys=True, default=str)
        inputs_sha = hashlib.sha256(fingerprint.encode()).hexdigest()
        if latest is not None and latest.inputs_sha256 == inputs_sha and not force:
            return _result(latest, ref, False, tuple(skipped))
        version = (latest.version if latest else 0) + 1
        inp = BriefInput(job_id=eng.job_id, version=version, issued_at=datetime.now(UTC),
                         terms=terms, interviews=tuple(parts),
                         questions=tuple(eng.questions or ()), redact_terms=redact_terms,
                         target_slides=eng.target_slides, vendor_timezone=tz,
                         pseudonymise=pseudonymise)
        prefix = f"briefs/{ref}/v{version}"
        with tempfile.TemporaryDirectory(prefix="outtask-brief-") as tmp:
            folder = Path(tmp) / "package"
            try:
                manifest = build_brief(inp, folder, preview=preview)
            except DeckBuilderError as e:
                raise BriefError(f"{ref}: {e}") from e
            archive = zip_package(folder, Path(tmp) / "brief.zip",
                                  root=f"{eng.job_id}-v{version}")
            for p in sorted(folder.rglob("*")):
                if p.is_file():
                    rt.bucket.upload(p, f"{prefix}/{p.relative_to(folder).as_posix()}")
            rt.bucket.upload(archive, f"{prefix}.zip")
            zip_sha = sha256_file(archive)
        row = db.Brief(engagement_id=eng.id, version=version, job_id=eng.job_id,
                       inputs_sha256=inputs_sha, prefix=prefix, zip_key=f"{prefix}.zip",
                       zip_sha256=zip_sha, interviews=len(parts),
                       slides=manifest.slides, redactions=manifest.redactions,
                       terms=vars(terms), pseudonymised=pseudonymise,
                       preview=manifest.preview[:500])
        s.add(row)
        s.add(db.Event(engagement_id=eng.id, kind="brief-built",
                       detail={"version": version, "zip": row.zip_key,
                               "redactions": manifest.redactions}))
        s.commit()
        return _result(row, ref, True, tuple(skipped))


@task(name="brief", retries=1, retry_delay_seconds=5)
def brief_task(ref: str) -> dict:
    return build_engagement_brief(runtime(), ref).to_dict()


def reissue_for_job(rt: Runtime, public_id: str) -> BriefResult:
    """Once a job is assigned, the brief is issued again as a new version with the chosen
    vendor's terms: its rate per slide, the job's turnaround, the deadline in its time zone."""
    from .jobs import find_job

    with rt.sessions() as s:
        job = find_job(s, public_id)
        if job.vendor is None:
            raise BriefError(f"job {public_id} is not assigned yet: choose a bid first "
                             f"(outtask bids choose {public_id})")
        ref = job.engagement.ref
    return build_engagement_brief(rt, ref)

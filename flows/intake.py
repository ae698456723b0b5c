"""What is in the inbox: recordings, engagement files, forms, and what to ignore or refuse.

The bucket layout is fixed by the interface contract: ``inbox/<client>/<engagement>/<file>``.
This module only reads keys and small YAML files; the database decides what is new.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from deck_builder.interview_form import FORM_SUFFIXES
from transcription.audio import AUDIO_EXTENSIONS

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MISPLACED_PREFIX = "quarantine/_misplaced/"
ENGAGEMENT_FILE = "engagement.yaml"

Kind = Literal["audio", "engagement", "form", "ignored", "misplaced"]


class IntakeError(Exception):
    """An inbox file cannot be used; the message says what to change."""


@dataclass(frozen=True)
class InboxItem:
    key: str
    kind: Kind
    client: str | None = None
    engagement: str | None = None
    file: str | None = None
    reason: str | None = None

    @property
    def ref(self) -> str:
        return f"{self.client}/{self.engagement}"


def is_audio(name: str) -> bool:
    return PurePosixPath(name).suffix.lower() in AUDIO_EXTENSIONS


def classify(key: str) -> InboxItem:
    """Place one ``inbox/`` key in the layout."""
    parts = key.split("/")
    if parts[0] != "inbox":
        return InboxItem(key, "ignored", reason="not under inbox/")
    name = parts[-1]
    audio = is_audio(name)
    if len(parts) != 4:
        if audio:
            return InboxItem(key, "misplaced", file=name,
                             reason="put it in inbox/<client>/<engagement>/")
        return InboxItem(key, "ignored", reason="not a recording")
    _, client, engagement, _ = parts
    for slug, what in ((client, "client"), (engagement, "engagement")):
        if not SLUG.match(slug):
            if audio:
                return InboxItem(
                    key, "misplaced", file=name,
                    reason=f"the {what} folder {slug!r} is not a slug: use lower-case letters, "
                    "digits and hyphens, as in inbox/acme/market-entry-2026/")
            return InboxItem(key, "ignored", reason=f"{what} folder is not a slug")
    if name == ENGAGEMENT_FILE:
        return InboxItem(key, "engagement", client, engagement, name)
    if name.lower().endswith(FORM_SUFFIXES):
        return InboxItem(key, "form", client, engagement, name)
    if audio:
        return InboxItem(key, "audio", client, engagement, name)
    return InboxItem(key, "ignored", client, engagement, name, reason="not a recording")


def form_key_for(recording_key: str) -> tuple[str, ...]:
    stem = recording_key.rsplit("/", 1)[0] + "/" + PurePosixPath(recording_key).stem
    return tuple(stem + suffix for suffix in FORM_SUFFIXES)


class EngagementFile(BaseModel):
    """``inbox/<client>/<engagement>/engagement.yaml``, all fields optional."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    expected_interviews: int | None = Field(None, ge=1, le=500)
    questions: list[str] = Field(default_factory=list)
    redact_terms: list[str] = Field(default_factory=list)
    #: names, companies, products: decoding hints and spelling corrections for transcripts
    vocabulary: list[str] = Field(default_factory=list)
    target_slides: int | None = Field(None, ge=1, le=500)
    #: unset: OUTTASK_TURNAROUND_HOURS / OUTTASK_CURRENCY apply
    turnaround_hours: int | None = Field(None, ge=1, le=24 * 30)
    currency: str | None = Field(None, pattern=r"^[A-Z]{3}$")


def parse_yaml_mapping(data: bytes, key: str) -> dict:
    try:
        doc = yaml.safe_load(data.decode("utf-8")) if data.strip() else {}
    except (yaml.YAMLError, UnicodeDecodeError) as e:
        raise IntakeError(f"{key} is not valid YAML: {str(e).splitlines()[0]}. Fix the syntax "
                          "(a mapping of field: value) and upload it again.") from e
    if not isinstance(doc, dict):
        raise IntakeError(f"{key} must be a mapping of field: value, not "
                          f"{type(doc).__name__}.")
    return doc


def parse_engagement_file(data: bytes, key: str) -> EngagementFile:
    doc = parse_yaml_mapping(data, key)
    try:
        return EngagementFile.model_validate(doc)
    except ValidationError as e:
        problems = "; ".join(f"{'.'.join(map(str, err['loc'])) or '(file)'}: {err['msg']}"
                             for err in e.errors())
        raise IntakeError(f"{key}: {problems}. Fix these fields and upload it again.") from e

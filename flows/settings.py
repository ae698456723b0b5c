"""Settings, read once at the edge from ``OUTTASK_*`` environment variables or a ``.env`` file.

Names and defaults are fixed by the interface contract (shared CONVENTIONS.md).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from transcription.models import DEFAULT_MODEL

#: Prefect's logging configuration with JSON lines on the console (OUTTASK_LOG_FORMAT=json)
JSON_LOGGING = Path(__file__).with_name("logging-json.yml")

PREFECT_DEFAULTS = {
    "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "90",
    "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
    "DO_NOT_TRACK": "1",
    # Prefect's per-run INFO lines drown the CLI's own progress and tables
    "PREFECT_LOGGING_LEVEL": "WARNING",
    # The embedded server records each task-run event as it comes, and on SQLite those writes
    # collide with the concurrency-slot request of the same task ("database is locked" -> a
    # fixed 2 s client retry, ~2 s per interview); batching them removes the collisions.
    "PREFECT_SERVER_SERVICES_TASK_RUN_RECORDER_BATCH_SIZE": "100",
}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="OUTTASK_", env_file=".env", extra="ignore")

    home: Path = Path("./outtask-data")
    bucket: str = ""
    database_url: str = ""
    queue_url: str | None = None
    model_cache: Path = Field(default_factory=lambda: Path(os.path.expanduser("~/.cache/outtask")))
    model: str = DEFAULT_MODEL
    max_audio_hours: float = Field(4.0, gt=0)
    slide_rate_cents: int = Field(1100, ge=0)
    currency: str = "USD"
    turnaround_hours: int = Field(24, gt=0)
    auto_approve_days: int = Field(3, ge=0)
    #: transcriptions at once across every process that shares the Prefect API (a Prefect tag
    #: concurrency limit); each one already uses every core
    transcription_concurrency: int = Field(1, ge=1, le=64)
    #: the out-tasker's time zone: job specs give the deadline in UTC and in this zone
    vendor_timezone: str = "UTC"
    require_services: bool = False
    #: "text" (default) or "json": one JSON object per log line, for log collectors
    log_format: Literal["text", "json"] = "text"
    #: the portal's address as users reach it: invitation links start with it
    portal_url: str = "http://127.0.0.1:8080"
    #: a signed-in session ends after this many idle minutes, and after session_hours anyway
    session_idle_minutes: int = Field(30, ge=1)
    session_hours: int = Field(12, ge=1)
    #: the largest deck an out-tasker may upload
    max_upload_mb: int = Field(200, ge=1)
    #: failed sign-ins allowed per e-mail (and ten times that per address) in 15 minutes
    sign_in_attempts: int = Field(5, ge=1)

    @field_validator("currency")
    @classmethod
    def _currency(cls, v: str) -> str:
        if len(v) != 3 or not v.isalpha():
            raise ValueError("must be a three-letter ISO 4217 code such as USD or EUR")
        return v.upper()

    @model_validator(mode="after")
    def _derived(self) -> Settings:
        if not self.bucket:
            self.bucket = str(self.home / "bucket")
        if not self.database_url:
            self.database_url = f"sqlite:///{self.home / 'outtask.db'}"
        return self

    @property
    def local_bucket(self) -> Path | None:
        return None if self.bucket.startswith("s3://") else Path(self.bucket)


def apply_prefect_defaults() -> None:
    """Prefect settings the CLI needs unless the user chose otherwise (CONVENTIONS.md); the
    embedded default keeps Prefect's home (its SQLite API database, persisted task results)
    under OUTTASK_HOME. Must run before prefect is imported."""
    for key, value in PREFECT_DEFAULTS.items():
        os.environ.setdefault(key, value)
    if os.environ.get("OUTTASK_LOG_FORMAT", "").lower() == "json":
        os.environ.setdefault("PREFECT_LOGGING_SETTINGS_PATH", str(JSON_LOGGING))
    home = Path(os.environ.get("OUTTASK_HOME", "./outtask-data"))
    if "PREFECT_HOME" not in os.environ:
        prefect_home = (home / "prefect").resolve()
        prefect_home.mkdir(parents=True, exist_ok=True)
        os.environ["PREFECT_HOME"] = str(prefect_home)


def load_settings() -> Settings:
    apply_prefect_defaults()
    return Settings()

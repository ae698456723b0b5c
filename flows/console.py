"""What every ``outtask`` command shares: exit codes, the two consoles, the usage error, and
opening the settings and the runtime with a readable error."""

from __future__ import annotations

from rich.console import Console

from .settings import Settings, load_settings

EXIT_OK, EXIT_REFUSED, EXIT_USAGE = 0, 1, 2

err = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True)


class UsageError(Exception):
    """A usage or configuration problem: exit 2 with a message."""


def open_settings() -> Settings:
    try:
        return load_settings()
    except Exception as e:  # pydantic's ValidationError names the variable and the problem
        raise UsageError(f"invalid settings: {e}") from e


def open_runtime():
    from .interview import runtime

    try:
        return runtime()
    except UsageError:
        raise
    except Exception as e:
        raise UsageError(f"cannot open the bucket or database: {e}") from e


def split_ref(ref: str) -> tuple[str, str]:
    client, _, slug = ref.partition("/")
    if not client or not slug or "/" in slug:
        raise UsageError(f"{ref!r}: name an engagement as <client>/<engagement>, e.g. "
                         "acme/market-entry")
    return client, slug


def engagement_named(s, ref: str):
    """The engagement ``ref`` names, or a UsageError (exit 2) that says how to find one."""
    from .brief import BriefError, find_engagement

    split_ref(ref)
    try:
        return find_engagement(s, ref)
    except BriefError as e:
        raise UsageError(str(e)) from None

"""outtask's web portal: out-taskers collect briefs and return decks, consultants follow
their engagements and approve, finance reads the ledger; every access is audited."""

from .app import create_app

__all__ = ["create_app"]

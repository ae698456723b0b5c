"""Errors of the deck_builder package.

Every error says what failed, for which input, and what to do next (``fix``).
:class:`FormError` and :class:`DeckRefusedError` are about the input (a consultant's form, a
returned deck): callers report or quarantine it. The others are outtask's own problem.
"""

from __future__ import annotations

from pathlib import Path


class DeckBuilderError(Exception):
    """Base class of every error raised by :mod:`deck_builder`."""

    #: machine-readable kind, stable across versions (used in reason files and --json)
    code = "deck-builder-error"

    def __init__(self, message: str, *, fix: str = "", path: Path | str | None = None) -> None:
        self.message = message
        self.fix = fix
        self.path = str(path) if path is not None else None
        super().__init__(f"{message} {fix}".strip())

    def to_dict(self) -> dict[str, str | None]:
        return {"code": self.code, "message": self.message, "fix": self.fix, "path": self.path}


class FormError(DeckBuilderError):
    """An interview form (YAML, JSON or a filled DOCX form) does not validate."""

    code = "bad-form"

    def __init__(self, message: str, *, field: str = "", fix: str = "",
                 path: Path | str | None = None) -> None:
        self.field = field
        super().__init__(message, fix=fix, path=path)

    def to_dict(self) -> dict[str, str | None]:
        return {**super().to_dict(), "field": self.field}


class DeckRefusedError(DeckBuilderError):
    """A returned deck is not a safe, real .pptx; ``reason`` is the one-line why."""

    code = "deck-refused"

    def __init__(self, reason: str, *, kind: str, fix: str = "",
                 path: Path | str | None = None) -> None:
        self.reason = reason
        self.kind = kind  # e.g. "macro", "content-type", "dtd", "zip-bomb", "oversize", ...
        super().__init__(reason, fix=fix, path=path)

    def to_dict(self) -> dict[str, str | None]:
        return {**super().to_dict(), "kind": self.kind}


class TemplateError(DeckBuilderError):
    """The house template is missing a layout or cannot be read."""

    code = "template"


class PreviewUnavailableError(DeckBuilderError):
    """LibreOffice (soffice) or pdftoppm is not installed, so no PNG preview can be made."""

    code = "preview-unavailable"


class ManifestError(DeckBuilderError):
    """A brief package does not match its manifest."""

    code = "manifest"


class EmbedderUnavailableError(DeckBuilderError):
    """The sentence-embedding model (or onnxruntime / tokenizers) is missing or corrupt."""

    code = "embedder-unavailable"

"""The standardized brief the out-tasker receives, and checks of the deck that comes back.

Pure: python-pptx and python-docx live here; no Prefect, storage, database or settings.
``build_brief`` writes a brief package, ``check_deck`` validates a returned deck.
"""

from .brief import BriefInput, BriefInterview, JobTerms, quote_candidates
from .deck_check import DeckFlag, DeckReport, check_deck
from .errors import (
    DeckBuilderError,
    DeckRefusedError,
    FormError,
    ManifestError,
    PreviewUnavailableError,
    TemplateError,
)
from .interview_form import InterviewForm, blank_form_docx, form_json_schema, parse_form
from .package import Manifest, build_brief, verify_package, zip_package
from .redact import Redactor, pseudonyms
from .starter_deck import StarterDeckSpec, build_starter_deck

__all__ = ["BriefInput", "BriefInterview", "DeckBuilderError", "DeckFlag", "DeckRefusedError",
           "DeckReport", "FormError", "InterviewForm", "JobTerms", "Manifest", "ManifestError",
           "PreviewUnavailableError", "Redactor", "StarterDeckSpec", "TemplateError",
           "blank_form_docx", "build_brief", "build_starter_deck", "check_deck",
           "form_json_schema", "parse_form", "pseudonyms", "quote_candidates",
           "verify_package", "zip_package"]

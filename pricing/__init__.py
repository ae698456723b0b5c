"""Per-slide money and time: rates, bids, the turnaround clock, the ledger, finance reports.

Pure: value types and functions of their arguments; no Prefect, database, storage or settings.
The only I/O is in the report writers (CSV, PNG chart, DOCX statement), which take a path or an
open file. ``flows/`` wires these to the database and the CLI.
"""

from .bids import DEFAULT_MIN_RATING, Bid, BidChoice, Rejection, RejectionReason, choose_bid
from .errors import (
    CurrencyMismatchError,
    InvalidTransitionError,
    LedgerError,
    NoQualifyingBidError,
    PricingError,
)
from .jobs import (
    DEFAULT_AUTO_APPROVE_DAYS,
    TRANSITIONS,
    JobEvent,
    JobState,
    allowed_events,
    should_auto_approve,
    transition,
)
from .ledger import (
    DEFAULT_LATE_POLICY,
    EntryKind,
    LatePolicy,
    Ledger,
    LedgerEntry,
    delivery_charge,
    entries_for_delivery,
    entries_for_reassignment,
    entries_for_revision,
    late_credit,
    reversal_of,
    revision_charge,
)
from .money import Money, sum_money
from .rates import RateCard, Vendor, is_rush, slide_rate_for
from .reports import (
    JobFact,
    Report,
    ReportDimension,
    ReportRow,
    by_engagement,
    by_month,
    by_vendor,
    chart_png,
    row_cells,
    to_csv,
    to_json_rows,
    vendor_statement_docx,
)
from .turnaround import (
    Pause,
    auto_approve_at,
    deadline,
    hours_late,
    is_late,
    iso_week,
    time_left,
    utc_month,
)

__all__ = ["DEFAULT_AUTO_APPROVE_DAYS", "DEFAULT_LATE_POLICY", "DEFAULT_MIN_RATING",
           "TRANSITIONS", "Bid", "BidChoice", "CurrencyMismatchError", "EntryKind",
           "InvalidTransitionError", "JobEvent", "JobFact", "JobState", "LatePolicy", "Ledger",
           "LedgerEntry", "LedgerError", "Money", "NoQualifyingBidError", "Pause",
           "PricingError", "RateCard", "Rejection", "RejectionReason", "Report",
           "ReportDimension", "ReportRow", "Vendor", "allowed_events", "auto_approve_at",
           "by_engagement", "by_month", "by_vendor", "chart_png", "choose_bid", "deadline",
           "delivery_charge", "entries_for_delivery", "entries_for_reassignment",
           "entries_for_revision", "hours_late", "is_late", "is_rush", "iso_week",
           "late_credit", "reversal_of", "revision_charge", "row_cells", "should_auto_approve",
           "slide_rate_for", "sum_money", "time_left", "to_csv", "to_json_rows", "transition",
           "utc_month", "vendor_statement_docx"]

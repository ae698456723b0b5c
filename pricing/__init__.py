"""Per-slide money and time: rates, bids, the turnaround clock, the ledger, finance reports.

Built in the pricing issue; the package exists now so the layout is in place.
"""

__all__: list[str] = []

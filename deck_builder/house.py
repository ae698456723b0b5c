"""The house template the starter deck is built from, and the layout names returned decks
are checked against."""

from __future__ import annotations

from pathlib import Path

#: the house template shipped inside the package
HOUSE_TEMPLATE = Path(__file__).parent / "templates" / "house.pptx"

#: named layouts of the house template, in the order the starter deck uses them
LAYOUT_NAMES: tuple[str, ...] = ("Title", "Agenda", "Section", "Finding", "Quote", "Roster",
                                 "Closing")

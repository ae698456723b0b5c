"""The standardized brief the out-tasker receives, and checks of the deck that comes back.

Built in the deck_builder issue; the package exists now so the layout is in place.
"""

__all__: list[str] = []

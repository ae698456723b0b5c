"""The edge of outtask: settings, storage, database, Prefect flows and the command line.

Only this package (and the portal) reads settings or knows Prefect; the domain packages
(transcription, deck_builder, pricing) are handed everything they need.
"""

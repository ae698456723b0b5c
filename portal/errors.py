"""What the portal refuses, each with the HTTP status it answers and what to do about it."""

from __future__ import annotations


class PortalError(Exception):
    """Base class: a refusal with a status, a message and the fix."""

    status = 400

    def __init__(self, message: str, fix: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.fix = fix


class SignInRequired(PortalError):
    """Not signed in (or the session expired): browsers go to /login, API clients get 401."""

    status = 401


class NotFound(PortalError):
    """Absent, or not this user's to see: the two look the same, so that job ids and
    engagement names cannot be probed."""

    status = 404

    def __init__(self, message: str = "there is nothing here for you",
                 fix: str = "check the address, or go back to your start page") -> None:
        super().__init__(message, fix)


class CsrfRefused(PortalError):
    status = 403

    def __init__(self) -> None:
        super().__init__("this form is stale or did not come from the portal",
                         "reload the page and send the form again")


class UploadTooLarge(PortalError):
    status = 413


class UploadRefused(PortalError):
    """Not a PowerPoint file at all (the deck check refuses bad decks later, with reasons)."""

    status = 415


class TooManyRequests(PortalError):
    status = 429

    def __init__(self, message: str, retry_after_s: int) -> None:
        super().__init__(message, "wait, then sign in again; an admin can help if you forgot "
                                  "your password")
        self.retry_after_s = retry_after_s


class Conflict(PortalError):
    """The job cannot take this step now (its state)."""

    status = 409

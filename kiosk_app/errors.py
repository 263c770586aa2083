"""Errors a person can meet, each carrying one plain Chinese sentence that says what is wrong or what to do.

Expected failures raise a subclass of `KioskError`; the CLI prints its message and exits non-zero, the screens
show it. Anything else is a bug and keeps its traceback.
"""

from __future__ import annotations


class KioskError(Exception):
    """Base of every expected, user-facing failure. `str(err)` is the plain sentence to show."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(KioskError):
    """Something a person or an upstream system supplied breaks a rule (ID number, form field, file)."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


class NotFound(KioskError):
    """A code, ID or tracking number that names nothing stored here."""

"""The one kind of error a person can put right.

A rule, a query or a use case that refuses something raises a ``DomainError`` (or a subclass) whose
message is Swedish and written for the person who asked: every front door (the command line, the web
app, a flow) shows it as it is and never as a traceback.
"""

from __future__ import annotations


class DomainError(Exception):
    """Something the person can put right; the message is Swedish and is shown as it is."""


class NotFoundError(DomainError, LookupError):
    """What was asked for does not exist (in this kommun)."""


class InvalidInputError(DomainError, ValueError):
    """A value given by a person cannot be used; the message says which and why."""

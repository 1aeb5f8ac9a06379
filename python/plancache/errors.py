"""Exceptions raised by the plancache clients.

Every error the server answers (`{"error":{"code","message"}}` with a 4xx/5xx
status) becomes a `PlancacheError` carrying the HTTP status, the server's
code and its message. A server that cannot be reached or does not answer in
time raises `UnavailableError` with `status` None.
"""

from __future__ import annotations

import json
from typing import Optional

__all__ = [
    "PlancacheError",
    "InvalidArgumentError",
    "AuthError",
    "NotFoundError",
    "UnavailableError",
    "error_from_reply",
]


class PlancacheError(Exception):
    """An error answered by the server, or a failure to reach it.

    Attributes:
        status: the HTTP status (None when no answer arrived).
        code: the server's error code (`invalid_argument`, `not_found`,
            `unavailable`, `bad_gateway`, ...); `unavailable` or
            `deadline_exceeded` for transport failures.
        message: the server's message (or what went wrong on the way).
    """

    def __init__(self, status: Optional[int], code: str, message: str) -> None:
        super().__init__(status, code, message)
        self.status = status
        self.code = code
        self.message = message

    def __str__(self) -> str:
        where = "HTTP %d" % self.status if self.status is not None else "no answer"
        return "%s: %s (%s)" % (self.code, self.message, where)


class InvalidArgumentError(PlancacheError):
    """The server refused the request as bad input (400 `invalid_argument`)."""


class AuthError(PlancacheError):
    """A missing (401 `unauthenticated`) or wrong (403 `permission_denied`) token."""


class NotFoundError(PlancacheError):
    """404 `not_found`: an unknown path (lookups and entry reads answer None instead)."""


class UnavailableError(PlancacheError):
    """The server could not be reached, timed out, or answered 503 / 504.

    This is the error the fail-open paths treat as a cache miss.
    """


_BY_CODE = {
    "invalid_argument": InvalidArgumentError,
    "unauthenticated": AuthError,
    "permission_denied": AuthError,
    "not_found": NotFoundError,
    "unavailable": UnavailableError,
    "deadline_exceeded": UnavailableError,
}


def error_from_reply(status: int, body: bytes) -> PlancacheError:
    """The exception for an error answer: the server's code and message when
    the body has the error shape, otherwise the status and the body's start."""
    code, message = "http_%d" % status, body[:200].decode("utf-8", "replace")
    try:
        doc = json.loads(body)
        error = doc.get("error") if isinstance(doc, dict) else None
        if isinstance(error, dict) and isinstance(error.get("code"), str):
            code, message = error["code"], str(error.get("message", ""))
    except ValueError:
        pass
    cls = _BY_CODE.get(code)
    if cls is None:
        cls = UnavailableError if status in (503, 504) else PlancacheError
    return cls(status, code, message)

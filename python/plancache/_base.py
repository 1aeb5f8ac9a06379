"""What `Client` and `AsyncClient` share: settings, tokens, fail-open accounting."""

from __future__ import annotations

import logging
import threading
from typing import Dict, Optional
from urllib.parse import urlsplit

from . import _protocol
from .errors import PlancacheError, UnavailableError
from .types import PutResult

logger = logging.getLogger("plancache")
"""The logger of the package; fail-open events are logged here at WARNING."""

DEFAULT_URL = "http://127.0.0.1:8080"


def is_outage(error: PlancacheError) -> bool:
    """True for the errors fail-open treats as "no cache": the server could not
    be reached or timed out, or answered a 5xx. A 4xx is the caller's bug and
    is always raised."""
    return isinstance(error, UnavailableError) or (error.status is not None and error.status >= 500)


class ClientBase:
    """Settings common to both clients (see `Client` for their meaning)."""

    def __init__(self, url: str, api_token: Optional[str], admin_token: Optional[str],
                 timeout_s: float, fail_open: bool, pool_size: int,
                 plan_timeout_s: Optional[float]) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("url must be http://host[:port][/prefix] or https://..., got %r" % url)
        if timeout_s <= 0:
            raise ValueError("timeout_s must be positive")
        if pool_size < 1:
            raise ValueError("pool_size must be at least 1")
        self.url = url.rstrip("/")
        self.scheme = parts.scheme
        self.host = parts.hostname
        self.port = parts.port or (443 if parts.scheme == "https" else 80)
        self.path_prefix = parts.path.rstrip("/")
        self.api_token = api_token
        self.admin_token = admin_token
        self.timeout_s = float(timeout_s)
        self.plan_timeout_s = float(plan_timeout_s) if plan_timeout_s else max(self.timeout_s, 130.0)
        self.fail_open = fail_open
        self.pool_size = pool_size
        self._fail_open_count = 0
        self._count_lock = threading.Lock()  # guards _fail_open_count

    @property
    def fail_open_count(self) -> int:
        """How many times a lookup or get_or_compute carried on without the
        server (a miss instead of an error)."""
        with self._count_lock:
            return self._fail_open_count

    def _host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        return self.host if self.port == default else "%s:%d" % (self.host, self.port)

    def _headers(self, call: _protocol.Call) -> Dict[str, str]:
        headers = {"Accept": "application/json"}
        if call.body is not None:
            headers["Content-Type"] = "application/json"
        token = (self.admin_token or self.api_token) if call.admin else (self.api_token or self.admin_token)
        if token:
            headers["Authorization"] = "Bearer " + token
        return headers

    def _fail_open_or_raise(self, what: str, error: PlancacheError) -> None:
        """The fail-open rule: an outage is counted and logged when `fail_open`;
        anything else (or fail_open False) is raised. Call inside `except`."""
        if not (self.fail_open and is_outage(error)):
            raise error
        self._note_fail_open(what, error)

    @staticmethod
    def _note_leased_put(done: "PutResult", goal: str, compute_ms: int, lease_s: float) -> None:
        """Logs a holder's PUT that came after its lease lapsed (not stored)."""
        if done.reason == "lease_lost":
            logger.warning("plancache lease on %r lapsed while computing (%d ms, lease %.1f s); "
                           "the result was not stored", goal, compute_ms, lease_s)

    def _note_fail_open(self, what: str, error: PlancacheError) -> None:
        with self._count_lock:
            self._fail_open_count += 1
            n = self._fail_open_count
        logger.warning("plancache %s failed open (%s); carrying on without the cache "
                       "(%d so far)", what, error, n)

    def _unreachable(self, error: BaseException) -> UnavailableError:
        if isinstance(error, TimeoutError):
            return UnavailableError(None, "deadline_exceeded",
                                    "plancache server at %s did not answer in time" % self.url)
        return UnavailableError(None, "unavailable",
                                "cannot reach plancache server at %s: %s" % (self.url, error))

    def __repr__(self) -> str:
        return "%s(%r)" % (type(self).__name__, self.url)

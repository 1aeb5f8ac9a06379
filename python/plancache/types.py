"""Result types of the plancache clients: small frozen dataclasses."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, List, NamedTuple, Optional

__all__ = ["Hit", "PutResult", "PlanResult", "Event", "Entry", "EntryInfo", "EntryList"]


def _age_s(created_ms: int) -> float:
    return max(0.0, time.time() - created_ms / 1000.0)


@dataclass(frozen=True)
class Hit:
    """A plan found by `lookup`.

    `tier` is where it was found: `"l1"` (memory), `"l2"` (disk) or
    `"shared"` (Redis). Times are milliseconds since the epoch on the
    server's clock; `expires_ms` is None for a plan that never expires.
    """

    plan: Any
    key: str
    namespace: str
    tier: str
    created_ms: int
    expires_ms: Optional[int]
    compute_ms: int
    tags: List[str] = field(default_factory=list)

    @property
    def age_s(self) -> float:
        """Seconds since the plan was stored (this machine's clock against the server's)."""
        return _age_s(self.created_ms)

    @property
    def ttl_remaining_s(self) -> Optional[float]:
        """Seconds until the plan expires (None: never)."""
        if self.expires_ms is None:
            return None
        return max(0.0, self.expires_ms / 1000.0 - time.time())


@dataclass(frozen=True)
class PutResult:
    """What `put` did: `stored` is False (with the server's `reason`) when
    the cache is disabled or the plan was cheaper than the namespace's
    `min_compute_ms`."""

    key: str
    namespace: str
    stored: bool
    reason: Optional[str] = None


@dataclass(frozen=True)
class PlanResult:
    """The answer of the read-through `plan`.

    `cached` is True when the plan came from a tier (`tier` names it), False
    when a planner run produced it; `stale` marks a plan served past its TTL
    (stale-while-revalidate or stale-if-error); `coalesced` marks a caller
    that joined another caller's planner run.
    """

    plan: Any
    cached: bool
    key: str
    namespace: str
    tier: Optional[str] = None
    stale: bool = False
    coalesced: bool = False
    compute_ms: Optional[int] = None


class Event(NamedTuple):
    """One Server-Sent Event of `plan_stream`: `event` is `status`, `plan`,
    `done` (or `error`), `data` the parsed JSON of its data line(s). It
    unpacks as a pair: `for event, data in client.plan_stream(goal)`."""

    event: str
    data: Any


@dataclass(frozen=True)
class Entry:
    """A value of the generic store (`/v1/entries/{namespace}/{key}`).

    `value` is the stored JSON parsed; `raw` the bytes exactly as stored.
    """

    namespace: str
    key: str
    value: Any
    raw: bytes
    tier: Optional[str]
    created_ms: Optional[int]
    expires_ms: Optional[int]

    @property
    def age_s(self) -> Optional[float]:
        """Seconds since the value was stored (None if the server did not say)."""
        return None if self.created_ms is None else _age_s(self.created_ms)


@dataclass(frozen=True)
class EntryInfo:
    """One row of `entries()`: a live key of the namespace, without its value."""

    key: str
    created_ms: int
    expires_ms: Optional[int]
    bytes: int
    tags: List[str] = field(default_factory=list)


@dataclass(frozen=True)
class EntryList:
    """The answer of `entries()`: keys in byte order; `truncated` is True when
    more keys matched than `limit`; `now_ms` is the server's clock."""

    namespace: str
    entries: List[EntryInfo]
    truncated: bool
    now_ms: int

    def keys(self) -> List[str]:
        """The keys, in order."""
        return [e.key for e in self.entries]

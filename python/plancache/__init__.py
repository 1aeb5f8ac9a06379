"""plancache: the Python package of the plancache multi-tier plan cache.

- `Client` / `AsyncClient`: clients of a `plancache serve` server (lookup,
  put, read-through `plan` and `plan_stream`, delete, invalidate, clear,
  evict, stats, the generic store `entry_*` / `entries`, checkpoints, and
  `get_or_compute`, computed once across processes by the server's lease),
  with keep-alive pooling and fail-open.
- `@cached(namespace=, ttl_s=, tags=, key=)`: the same for a plain or an
  async function.
- `key_for(goal, context=None, namespace="default")`: the server's plan key,
  computed locally (docs/key_format.md).
- `plancache.compat`: drop-ins for the older designs (`PlanCache`,
  `PlanCacheService`, `LaneCache`).

Standard library only. See docs/python.md.
"""

from .aio import AsyncClient
from .client import Client
from .compat import LaneCache, PlanCache, PlanCacheService
from .decorator import cached
from .engine import Engine, EngineError, EngineHit
from .errors import (AuthError, InvalidArgumentError, NotFoundError, PlancacheError,
                     UnavailableError)
from .keys import KEY_FORMAT_VERSION, canonical_json, key_for, normalize_goal
from .types import Entry, EntryInfo, EntryList, Event, Hit, PlanResult, PutResult

__version__ = "0.1.0"

__all__ = [
    "Client", "AsyncClient", "cached",
    "Engine", "EngineError", "EngineHit",
    "key_for", "normalize_goal", "canonical_json", "KEY_FORMAT_VERSION",
    "PlancacheError", "InvalidArgumentError", "AuthError", "NotFoundError", "UnavailableError",
    "Hit", "PutResult", "PlanResult", "Event", "Entry", "EntryInfo", "EntryList",
    "PlanCache", "PlanCacheService", "LaneCache",
]

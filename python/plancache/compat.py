"""Drop-ins for the older Python plan caches (SPEC §1), each a few lines over
`Client` / `AsyncClient`. The old call sites keep working; the cache itself
is the plancache server (see docs/python.md, "Migrating").

- `PlanCache` — the agent platform's L1 + Redis cache (async get/set/...).
- `PlanCacheService` — the chat backend's service, configured by `PLAN_CACHE_*`.
- `LaneCache` — the workflow tool's lane-aware `get_or_set` over `/v1/entries`.
"""

from __future__ import annotations

import os
import time
from typing import Any, Callable, Dict, Iterable, List, Optional

from ._base import DEFAULT_URL, logger
from .aio import AsyncClient
from .client import Client
from .errors import UnavailableError

__all__ = ["PlanCache", "PlanCacheService", "LaneCache", "plan_cache_stats"]


def _tier(stats: Dict[str, Any], name: str) -> Dict[str, Any]:
    for tier in stats.get("tiers", []):
        if tier.get("name") == name:
            return tier
    return {}


def plan_cache_stats(stats: Dict[str, Any]) -> Dict[str, Any]:
    """The agent platform's stats fields from `/v1/stats`. Its "L2" was Redis,
    which is plancache's shared tier: `l2_*` are the shared tier's figures."""
    shared = _tier(stats, "shared")
    return {
        "l1_size": stats.get("l1_size", 0),
        "l1_max_size": stats.get("l1_max_size", 0),
        "l1_hits": stats.get("l1_hits", 0),
        "l1_misses": stats.get("l1_misses", 0),
        "l1_hit_rate": stats.get("l1_hit_rate", 0.0),
        "l2_connected": bool(stats.get("shared_connected", False)),
        "l2_hits": shared.get("hits", 0),
        "l2_hit_rate": shared.get("hit_rate", 0.0),
    }


class PlanCache:
    """The agent platform's `PlanCache`: `await get(goal)`, `await set(goal, plan)`,
    `await invalidate(goal)`, `await clear()`, `get_stats()`.

    `l1_max_size` and `enable_l2` are the server's business now
    (`--l1-max-entries`, `--redis-url`) and are only kept for the old
    signature; `l2_ttl_seconds` is the TTL of every `set`. A server that is
    down makes `get` a miss and `set` a no-op (logged), as the old cache
    degraded without Redis.
    """

    def __init__(self, l1_max_size: int = 1000, l2_ttl_seconds: int = 3600,
                 enable_l2: bool = True, url: str = DEFAULT_URL,
                 namespace: Optional[str] = None, **client_options: Any) -> None:
        self.l1_max_size = l1_max_size
        self.l2_ttl_seconds = l2_ttl_seconds
        self.enable_l2 = enable_l2
        self.namespace = namespace
        self._client = AsyncClient(url, **client_options)
        self._sync = Client(url, **client_options)  # for the synchronous get_stats()

    async def get(self, goal: str) -> Optional[Any]:
        """The cached plan of `goal`, or None."""
        hit = await self._client.lookup(goal, namespace=self.namespace)
        return None if hit is None else hit.plan

    async def set(self, goal: str, plan: Any) -> None:
        """Caches `plan` for `goal` for `l2_ttl_seconds`."""
        try:
            await self._client.put(goal, plan, namespace=self.namespace, ttl_s=self.l2_ttl_seconds)
        except UnavailableError as e:
            logger.warning("PlanCache.set: plancache unavailable, plan not cached (%s)", e)

    async def invalidate(self, goal: str) -> bool:
        """Forgets the plan of `goal` (in every instance sharing the server's tiers)."""
        return await self._client.delete(goal, namespace=self.namespace)

    async def clear(self) -> None:
        """Forgets every plan (of `namespace` when one was given). Admin."""
        await self._client.clear(self.namespace)

    def get_stats(self) -> Dict[str, Any]:
        """`l1_size`, `l1_max_size`, `l1_hits`, `l1_misses`, `l1_hit_rate`,
        `l2_connected`, `l2_hits`, `l2_hit_rate` (l2 = the shared tier)."""
        return plan_cache_stats(self._sync.stats())

    async def close(self) -> None:
        """Closes the pooled connections."""
        await self._client.aclose()
        self._sync.close()


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return default
    return value.strip().lower() in ("1", "true", "yes", "on")


def _env_float(name: str, default: float) -> float:
    value = os.environ.get(name)
    try:
        return float(value) if value not in (None, "") else default
    except ValueError:
        raise ValueError("%s: expected a number, got %r" % (name, value)) from None


class PlanCacheService:
    """The chat backend's `PlanCacheService`: `get(goal, project_context)`,
    `set(goal, project_context, plan, generation_time=None)`, `clear()`, `stats()`.

    Configured as before from the environment: `PLAN_CACHE_ENABLED` (default
    true: false makes every get a miss and every set a no-op),
    `PLAN_CACHE_TTL` (seconds, default 3600), `PLAN_CACHE_MIN_GEN_TIME`
    (seconds: a plan that took less to generate is not cached, default 0),
    and, new, `PLAN_CACHE_URL` (or `PLANCACHE_URL`; default
    http://127.0.0.1:8080), `PLANCACHE_API_TOKEN`, `PLANCACHE_ADMIN_TOKEN`.
    `PLAN_CACHE_MAXSIZE`, `PLAN_CACHE_REDIS_ENABLED` and `REDIS_URL` configure
    the server, which reads them itself. The project context becomes the
    plan's JSON context; values are JSON, never pickle.
    """

    def __init__(self, url: Optional[str] = None, namespace: Optional[str] = None) -> None:
        self.enabled = _env_bool("PLAN_CACHE_ENABLED", True)
        self.ttl = int(_env_float("PLAN_CACHE_TTL", 3600))
        self.min_gen_time = _env_float("PLAN_CACHE_MIN_GEN_TIME", 0.0)
        self.url = url or os.environ.get("PLAN_CACHE_URL") or os.environ.get("PLANCACHE_URL") \
            or DEFAULT_URL
        self.namespace = namespace
        self._client = Client(self.url, api_token=os.environ.get("PLANCACHE_API_TOKEN"),
                              admin_token=os.environ.get("PLANCACHE_ADMIN_TOKEN"))
        self.hits = 0
        self.misses = 0

    def get(self, goal: str, project_context: Any = None) -> Optional[Any]:
        """The cached plan, or None (also when disabled or the server is down)."""
        if not self.enabled:
            return None
        hit = self._client.lookup(goal, project_context, self.namespace)
        if hit is None:
            self.misses += 1
            return None
        self.hits += 1
        return hit.plan

    def set(self, goal: str, project_context: Any, plan: Any,
            generation_time: Optional[float] = None) -> bool:
        """Caches `plan`; `generation_time` (seconds) below `PLAN_CACHE_MIN_GEN_TIME`
        is not worth caching. Returns True when the plan was stored."""
        if not self.enabled:
            return False
        if generation_time is not None and generation_time < self.min_gen_time:
            return False
        compute_ms = None if generation_time is None else int(round(generation_time * 1000))
        try:
            return self._client.put(goal, plan, project_context, self.namespace, self.ttl,
                                    compute_ms=compute_ms).stored
        except UnavailableError as e:
            logger.warning("PlanCacheService.set: plancache unavailable, plan not cached (%s)", e)
            return False

    def cache_key(self, goal: str, project_context: Any = None) -> str:
        """The plan's key (the server's, computed locally)."""
        from .keys import key_for
        return key_for(goal, project_context, self.namespace or "default")

    def clear(self) -> int:
        """Forgets every plan (of `namespace` when one was given). Admin."""
        return self._client.clear(self.namespace)

    def stats(self) -> Dict[str, Any]:
        """This service's settings and counts, with the server's figures."""
        server = self._client.stats()
        total = self.hits + self.misses
        return {
            "enabled": self.enabled,
            "ttl": self.ttl,
            "min_gen_time": self.min_gen_time,
            "hits": self.hits,
            "misses": self.misses,
            "hit_rate": self.hits / total if total else 0.0,
            "size": server.get("l1_size", 0),
            "redis_connected": bool(server.get("shared_connected", False)),
            "server": plan_cache_stats(server),
        }


class LaneCache:
    """The workflow tool's lane-aware cache: `get_or_set(key, compute_fn, ttl=, tags=)`
    and friends, over the server's generic store `/v1/entries/{lane}/{key}`.

    A lane is a plancache namespace (`docs`, `standard`, `heavy` are presets
    with the old lanes' policies; more in the server's TOML config).
    Checkpoints keep the old names (`cache_checkpoint`, `restore_checkpoint`,
    `cleanup_old_checkpoints`).
    """

    def __init__(self, lane: str = "standard", url: str = DEFAULT_URL,
                 client: Optional[Client] = None) -> None:
        self.lane = lane
        self._client = client or Client(url)

    def get(self, key: str) -> Optional[Any]:
        """The value under `key`, or None."""
        entry = self._client.entry_get(self.lane, key)
        return None if entry is None else entry.value

    def set(self, key: str, value: Any, ttl: Optional[int] = None,
            tags: Optional[Iterable[str]] = None) -> None:
        """Stores `value` (JSON) under `key` for `ttl` seconds (default: the lane's)."""
        self._client.entry_put(self.lane, key, value, ttl_s=ttl, tags=tags)

    def get_or_set(self, key: str, compute_fn: Callable[[], Any], ttl: Optional[int] = None,
                   tags: Optional[Iterable[str]] = None) -> Any:
        """The value under `key`, or `compute_fn()`'s, stored with its compute
        time. With the server down, `compute_fn` runs and nothing is stored."""
        try:
            entry = self._client.entry_get(self.lane, key)
        except UnavailableError as e:
            logger.warning("LaneCache.get_or_set: plancache unavailable, computing (%s)", e)
            return compute_fn()
        if entry is not None:
            return entry.value
        start = time.monotonic()
        value = compute_fn()
        compute_ms = int(round((time.monotonic() - start) * 1000))
        try:
            self._client.entry_put(self.lane, key, value, ttl_s=ttl, tags=tags,
                                   compute_ms=compute_ms)
        except UnavailableError as e:
            logger.warning("LaneCache.get_or_set: plancache unavailable, not stored (%s)", e)
        return value

    def invalidate(self, key: str) -> bool:
        """Removes `key`; True if it was there."""
        return self._client.entry_delete(self.lane, key)

    def invalidate_pattern(self, pattern: str) -> int:
        """Removes the lane's keys matching a glob (`workflow:*`); returns the count."""
        return self._client.invalidate(pattern=pattern, namespace=self.lane)

    def invalidate_tag(self, tag: str) -> int:
        """Removes the lane's entries tagged `tag`; returns the count."""
        return self._client.invalidate(tag=tag, namespace=self.lane)

    def clear(self) -> int:
        """Removes every entry of the lane. Admin."""
        return self._client.clear(self.lane)

    def keys(self, prefix: Optional[str] = None) -> List[str]:
        """The lane's keys, in order."""
        return self._client.entries(self.lane, prefix=prefix, limit=10000).keys()

    def metrics(self) -> Dict[str, Any]:
        """The lane's figures per tier and its policy (from `/v1/stats`)."""
        return self._client.stats().get("namespaces", {}).get(self.lane, {})

    def cache_checkpoint(self, checkpoint_id: str, state: Any) -> None:
        """Saves a workflow state (namespace `checkpoints`, never expiring)."""
        self._client.checkpoint_save(checkpoint_id, state)

    def restore_checkpoint(self, checkpoint_id: str) -> Optional[Any]:
        """The saved state, or None."""
        return self._client.checkpoint_restore(checkpoint_id)

    def cleanup_old_checkpoints(self, max_age_days: float) -> int:
        """Removes checkpoints older than `max_age_days`; returns the count."""
        return self._client.checkpoint_cleanup(max_age_days)

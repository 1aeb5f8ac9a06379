"""plancache.Engine: the plan cache in-process, over the C++ library.

`Engine` is the library's multi-tier `Cache` (include/plancache/cache.h) in
this process, through the compiled extension `plancache._engine` (pybind11):
the memory tier (L1) with one lane per configured namespace, optionally the
disk tier (L2, RocksDB) in a directory, read-through with single-flight
across threads, invalidation, stats, and the C++ key builder. There is no
shared (Redis) tier in the engine; for one cache shared by processes, run
`plancache serve` and use `Client`.

The GIL is released while the engine works (building the key, reading and
writing the tiers, waiting for another thread's compute), so threads calling
one engine run in parallel. See docs/python.md ("Engine").
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, Union

__all__ = ["Engine", "EngineError", "EngineHit"]

# Compact JSON, built once (json.dumps with options builds an encoder per call).
# ensure_ascii=False: UTF-8 as is; allow_nan=False: NaN and infinities are not JSON.
_dumps = json.JSONEncoder(ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode
_loads = json.loads
_RAW = (bytes, bytearray, memoryview)

_LANE_KEYS = ("max_entries", "max_bytes", "eviction", "default_ttl_s", "min_compute_ms",
              "tiers", "compress", "key_ignored_fields", "key_set_arrays")


class EngineError(RuntimeError):
    """An error of the engine other than bad input (which raises ValueError or TypeError).

    Attributes:
        code: the library's status code (`failed_precondition` for a closed
            engine or a disk directory another process holds,
            `resource_exhausted` for a value over `max_value_bytes`,
            `unavailable`, `data_loss`, `internal`, ...).
        message: what went wrong.
    """

    def __init__(self, code: str, message: str) -> None:
        super().__init__(code, message)
        self.code = code
        self.message = message

    def __str__(self) -> str:
        return "%s: %s" % (self.code, self.message)


@dataclass(frozen=True)
class EngineHit:
    """An entry found by `Engine.lookup` / `Engine.entry_lookup`.

    Attributes:
        value: the value, as `get` returns it.
        tier: the tier that answered: "l1" (memory) or "l2" (disk).
        created_ms: when it was stored (ms since the Unix epoch).
        expires_ms: when it expires; None = never.
        compute_ms: how long computing it took (0 when not known).
        tags: its tags.
    """

    value: Any
    tier: str
    created_ms: int
    expires_ms: Optional[int]
    compute_ms: int
    tags: List[str]


def _native_module() -> Any:
    try:
        from . import _engine  # type: ignore[attr-defined]
    except ImportError as e:
        raise ImportError(
            "plancache.Engine needs the compiled extension plancache._engine, which this "
            "installation of plancache lacks (%s); install the package with pip from the "
            "plancache repository (docs/python.md, 'Install')" % e) from e
    return _engine


def _encode(value: Any) -> Union[str, bytes, bytearray, memoryview]:
    """What the native engine stores: bytes-like as is, anything else as JSON text."""
    if isinstance(value, _RAW):
        return value
    return _dumps(value)


def _decode(raw: Union[str, bytes]) -> Any:
    """A stored value back: JSON text (str) is parsed, bytes are returned as they are."""
    if raw.__class__ is str:
        return _loads(raw)
    return raw


def _context(context: Any) -> str:
    return "null" if context is None else _dumps(context)


def _millis(seconds: Optional[float], what: str) -> Optional[int]:
    if seconds is None:
        return None
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        raise TypeError("%s must be a number of seconds, not %s" % (what, type(seconds).__name__))
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError("%s must be a finite number >= 0, got %r" % (what, seconds))
    return int(round(seconds * 1000))


def _count(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError("%s must be an int, not %s" % (what, type(value).__name__))
    if value < 0 or value >= 2**63:
        raise ValueError("%s must be in [0, 2**63), got %d" % (what, value))
    return value


def _member_names(value: Any, what: str) -> List[str]:
    if isinstance(value, str) or not isinstance(value, Sequence):
        raise TypeError("%s must be a list of member names (str)" % what)
    for name in value:
        if not isinstance(name, str):
            raise TypeError("%s: expected a member name (str), got %r" % (what, name))
        if not name:
            raise ValueError("%s: empty member name" % what)
    return list(value)


def _set_arrays(value: Any, what: str) -> Dict[str, str]:
    if not isinstance(value, Mapping):
        raise TypeError('%s must be a dict of {array member: sort member} (e.g. '
                        '{"plays": "name"}), not %s' % (what, type(value).__name__))
    for name, member in value.items():
        if not isinstance(name, str) or not name:
            raise ValueError("%s: array member names must be non-empty str, got %r"
                             % (what, name))
        if not isinstance(member, str):
            raise TypeError('%s[%r]: expected the sort member (str, "" = the whole element), '
                            "got %r" % (what, name, member))
    return dict(value)


def _lane_options(native: Any, name: str, table: Mapping[str, Any]) -> Any:
    """One `lanes` table as the native LaneOptions (types and ranges checked here)."""
    where = "lanes[%r]" % (name,)
    if not isinstance(table, Mapping):
        raise TypeError("%s must be a dict, not %s" % (where, type(table).__name__))
    lane = native.LaneOptions()
    for key, value in table.items():
        what = "%s[%r]" % (where, key)
        if key in ("max_entries", "max_bytes", "min_compute_ms"):
            setattr(lane, key, _count(value, what))
        elif key == "default_ttl_s":
            lane.default_ttl_ms = _millis(value, what)
        elif key == "eviction":
            if value not in ("tinylfu", "lru"):
                raise ValueError('%s must be "tinylfu" or "lru", got %r' % (what, value))
            lane.eviction = value
        elif key == "tiers":
            if isinstance(value, str) or not isinstance(value, Sequence) or not value:
                raise TypeError('%s must be a non-empty list of "l1", "l2"' % what)
            for tier in value:
                if tier not in ("l1", "l2"):
                    raise ValueError('%s: expected "l1" or "l2", got %r (the engine has no '
                                     'shared tier)' % (what, tier))
            lane.tiers = list(value)
        elif key == "compress":
            if not isinstance(value, bool):
                raise TypeError("%s must be True or False" % what)
            lane.compress = value
        elif key == "key_ignored_fields":
            lane.key_ignored_fields = _member_names(value, what)
        elif key == "key_set_arrays":
            lane.key_set_arrays = _set_arrays(value, what)
        else:
            raise ValueError("%s: unknown key %r (expected one of %s)"
                             % (where, key, ", ".join(_LANE_KEYS)))
    return lane


class Engine:
    """The plan cache in this process: memory tier, optional disk tier, read-through.

    Engine(*, memory_max_entries=100_000, memory_max_bytes=256 MiB,
           eviction="tinylfu", disk_dir=None, disk_max_bytes=1 GiB,
           sync_writes=False, default_ttl_s=3600, lanes=None,
           max_value_bytes=0, hash="sha256", ignored_fields=())

    - memory_max_entries, memory_max_bytes, eviction ("tinylfu" | "lru"):
      the memory tier (L1) of the `default` lane, which namespaces nobody
      configured share; 0 = unbounded.
    - disk_dir: directory of the disk tier (L2, RocksDB; created if missing).
      None = no disk tier. Entries there survive the process: a new Engine on
      the same directory serves them. One process at a time may open a
      directory (EngineError `failed_precondition` otherwise).
      disk_max_bytes bounds it (least recently used entries go first);
      sync_writes=True fsyncs every write (survives power loss, slower).
    - default_ttl_s: TTL of values stored without one (the default lane's);
      0 = never expire.
    - lanes: {namespace: {key: value}} with the keys of a
      `[namespaces.<name>]` table of the server's config: max_entries,
      max_bytes, eviction (its own L1), default_ttl_s, min_compute_ms (a
      computed value is stored only when computing it took at least this
      long), tiers (["l1"], ["l2"] or both), compress (large values
      compressed on disk), key_ignored_fields (context members this lane's
      keys ignore, on top of ignored_fields), key_set_arrays ({array member:
      sort member}: arrays under those members are sets, sorted by the sort
      member's canonical text, "" = by the element's; keys of such lanes are
      of key format version 2, docs/key_format.md §6). A table overrides the
      preset of that name (docs, standard, heavy, checkpoints; default = the
      settings above) or, for a new name, the built-in default policy.
    - max_value_bytes: largest value stored (EngineError
      `resource_exhausted` above it); 0 = no bound.
    - hash ("sha256" | "xxh3-128"), ignored_fields (context member names
      dropped at every depth): the key builder. With the defaults, keys are
      those of `plancache.key_for` and of `plancache serve`.

    Values: bytes-like values (bytes, bytearray, memoryview) are stored as
    their bytes and come back as bytes; any other value is stored as its
    JSON text (`json.dumps`) and comes back parsed (`json.loads`): a tuple
    comes back a list, and a value JSON cannot hold raises TypeError or
    ValueError. Which of the two a value was is recorded in the entry
    (docs/python.md). A hit copies the stored bytes once, into the bytes or
    str that Python is handed.

    Keys: a plan is (namespace, goal, context), as for `Client`: the goal is
    str or UTF-8 bytes, the context any JSON value (None = none). The
    `entry_*` methods use caller-chosen keys instead (the server's generic
    store, `/v1/entries`), which `invalidate(prefix=...)` and
    `invalidate(pattern=...)` match.

    Thread-safe: share one engine between threads. close() (or `with`) ends
    it; it is also closed when garbage-collected.
    """

    def __init__(self, *, memory_max_entries: int = 100_000,
                 memory_max_bytes: int = 256 << 20, eviction: str = "tinylfu",
                 disk_dir: Optional[str] = None, disk_max_bytes: int = 1 << 30,
                 sync_writes: bool = False, default_ttl_s: float = 3600,
                 lanes: Optional[Mapping[str, Mapping[str, Any]]] = None,
                 max_value_bytes: int = 0, hash: str = "sha256",
                 ignored_fields: Sequence[str] = ()) -> None:
        native = _native_module()
        options = native.EngineOptions()
        options.memory_max_entries = _count(memory_max_entries, "memory_max_entries")
        options.memory_max_bytes = _count(memory_max_bytes, "memory_max_bytes")
        options.eviction = eviction
        if disk_dir is not None:
            options.disk_dir = os.fspath(disk_dir)
            if not options.disk_dir:
                raise ValueError("disk_dir must not be empty (None = no disk tier)")
        options.disk_max_bytes = _count(disk_max_bytes, "disk_max_bytes")
        options.disk_sync_writes = bool(sync_writes)
        options.default_ttl_ms = _millis(default_ttl_s, "default_ttl_s")
        options.max_value_bytes = _count(max_value_bytes, "max_value_bytes")
        options.hash = hash
        options.ignored_fields = list(ignored_fields)
        if lanes is not None:
            if not isinstance(lanes, Mapping):
                raise TypeError("lanes must be a dict of {namespace: {key: value}}")
            options.lanes = {name: _lane_options(native, name, table)
                             for name, table in lanes.items()}
        self._native = native.Engine(options)
        self.disk_dir: Optional[str] = options.disk_dir or None
        """The disk tier's directory, or None."""

    # -- plans: (namespace, goal, context) ------------------------------------

    def key_for(self, goal: Union[str, bytes], context: Any = None,
                namespace: str = "default") -> str:
        """The plan key of (namespace, goal, context) by the C++ key builder, as hex.

        With the default hash it equals `plancache.key_for` (given the same
        ignored fields and lane key rules) and the server's `"key"`. Raises ValueError for an empty goal, a bad namespace, a
        context that is not JSON.
        """
        return self._native.key_for(namespace, goal, _context(context))

    def get(self, goal: Union[str, bytes], context: Any = None,
            namespace: str = "default") -> Any:
        """The value stored for the plan, or None on a miss.

        A disk-tier hit is copied into the memory tier (when the lane uses
        it). A stored JSON null also answers None: `lookup` tells them apart.
        """
        raw = self._native.get(namespace, goal, _context(context))
        if raw.__class__ is str:
            return _loads(raw)
        return raw

    def lookup(self, goal: Union[str, bytes], context: Any = None,
               namespace: str = "default") -> Optional[EngineHit]:
        """The entry of the plan with its metadata (`EngineHit`), or None on a miss."""
        return self._hit(self._native.lookup(namespace, goal, _context(context)))

    def put(self, goal: Union[str, bytes], value: Any, context: Any = None,
            namespace: str = "default", ttl_s: Optional[float] = None,
            tags: Optional[Sequence[str]] = None, compute_ms: Optional[int] = None) -> bool:
        """Stores `value` for the plan in every tier of its lane.

        ttl_s: None = the lane's default TTL, 0 = never expires. tags: for
        `invalidate(tag=...)`. compute_ms: how long making the value took;
        when given and below the lane's `min_compute_ms`, nothing is stored
        and False is returned (True otherwise). Raises EngineError when a
        tier fails the write (nothing is then served from it).
        """
        return self._native.put(namespace, goal, _context(context), _encode(value),
                                _millis(ttl_s, "ttl_s"), _tags(tags), compute_ms)

    def get_or_compute(self, goal: Union[str, bytes], compute: Callable[[], Any],
                       context: Any = None, namespace: str = "default",
                       ttl_s: Optional[float] = None,
                       tags: Optional[Sequence[str]] = None) -> Any:
        """The plan's value; on a miss, `compute()` makes it and it is stored.

        Single-flight across threads: however many threads ask for the same
        missing plan at once, `compute` runs once, in one of them (with the
        GIL), and every caller gets the stored value (as `get` returns it).
        The lane's `min_compute_ms` decides whether it is kept.

        When `compute` raises, nothing is stored and the exception reaches
        the caller that ran it, unchanged (type, message, traceback); the
        threads that were waiting for that same run get that same exception
        object raised too (as the waiters of a `concurrent.futures.Future`
        do). The next call computes again. A value `compute` returns that
        JSON cannot hold fails the same way (TypeError / ValueError from
        json). Waiting for another thread's compute cannot be interrupted.
        `compute` must not call `get_or_compute` for the same key on this
        engine (it would wait for itself).
        """
        raw, _, _ = self._native.get_or_compute(
            namespace, goal, _context(context), lambda: _encode(compute()),
            _millis(ttl_s, "ttl_s"), _tags(tags))
        return _decode(raw)

    def delete(self, goal: Union[str, bytes], context: Any = None,
               namespace: str = "default") -> bool:
        """Removes the plan from every tier; True when a tier had it."""
        return self._native.erase(namespace, goal, _context(context))

    # -- the generic store: (namespace, key) ----------------------------------

    def entry_get(self, namespace: str, key: str) -> Any:
        """The value stored under a caller-chosen key, or None (see `get`)."""
        raw = self._native.get(namespace, key, None)
        if raw.__class__ is str:
            return _loads(raw)
        return raw

    def entry_lookup(self, namespace: str, key: str) -> Optional[EngineHit]:
        """The entry under a caller-chosen key with its metadata, or None."""
        return self._hit(self._native.lookup(namespace, key, None))

    def entry_put(self, namespace: str, key: str, value: Any, ttl_s: Optional[float] = None,
                  tags: Optional[Sequence[str]] = None) -> None:
        """Stores `value` under a caller-chosen key (1-512 bytes, no control characters)."""
        self._native.put(namespace, key, None, _encode(value), _millis(ttl_s, "ttl_s"),
                         _tags(tags), None)

    def entry_get_or_compute(self, namespace: str, key: str, compute: Callable[[], Any],
                             ttl_s: Optional[float] = None,
                             tags: Optional[Sequence[str]] = None) -> Any:
        """`get_or_compute` for a caller-chosen key (the old lane cache's get_or_set)."""
        raw, _, _ = self._native.get_or_compute(namespace, key, None, lambda: _encode(compute()),
                                                _millis(ttl_s, "ttl_s"), _tags(tags))
        return _decode(raw)

    def entry_delete(self, namespace: str, key: str) -> bool:
        """Removes a caller-chosen key from every tier; True when a tier had it."""
        return self._native.erase(namespace, key, None)

    # -- everything else -------------------------------------------------------

    def invalidate(self, tag: Optional[str] = None, prefix: Optional[str] = None,
                   pattern: Optional[str] = None, namespace: Optional[str] = None,
                   older_than_s: Optional[float] = None) -> int:
        """Removes the entries matching every selector given; returns how many.

        tag: entries carrying it. prefix / pattern (a glob: * ? [..]): the
        caller-chosen keys of the `entry_*` methods (plan keys never match).
        namespace: that lane only (alone: the whole lane). older_than_s:
        entries stored longer ago than that. Give at least one (ValueError
        otherwise; `clear()` removes everything).
        """
        return self._native.invalidate(namespace, tag, prefix, pattern,
                                       _millis(older_than_s, "older_than_s"))

    def clear(self, namespace: Optional[str] = None) -> int:
        """Removes every entry (of one namespace when given); returns how many."""
        return self._native.clear(namespace)

    def evict(self, fraction: float) -> int:
        """Evicts that share (0, 1] of every lane's memory tier, least valued first."""
        return self._native.evict(float(fraction))

    def purge_expired(self) -> int:
        """Removes expired entries now (they are also dropped lazily on reads)."""
        return self._native.purge_expired()

    def stats(self) -> Dict[str, Any]:
        """The cache's figures, as a dict.

        Top level: gets, hits, misses, hit_rate, promotions (disk hits copied
        to memory), computes, compute_errors, coalesced (callers that shared
        another's compute), inflight (computes running now), waiting
        (callers waiting on one now), get_latency {count, sum_us, p50_us,
        p99_us, max_us}. `tiers`: one dict per tier ("l1", then "l2"):
        entries, bytes, max_entries, max_bytes, hits, misses, hit_rate, puts,
        evictions, expirations, invalidations, errors, corrupt_entries,
        connected, degraded, and `namespaces` {name: {entries, bytes, hits,
        misses}}.
        """
        return self._native.stats()

    def close(self) -> None:
        """Ends the engine: waits for the calls in progress in other threads, then
        closes the tiers (the disk directory can be opened again once it returns).
        Idempotent; every other method then raises EngineError
        (`failed_precondition`). Raises EngineError when called from inside a
        compute function of this engine."""
        self._native.close()

    @property
    def closed(self) -> bool:
        """True once close() was called."""
        return self._native.closed

    def __enter__(self) -> "Engine":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else "open"
        return "<plancache.Engine %s disk_dir=%r>" % (state, self.disk_dir)

    @staticmethod
    def _hit(row: Any) -> Optional[EngineHit]:
        if row is None:
            return None
        raw, tier, created_ms, expires_ms, compute_ms, tags = row
        return EngineHit(_decode(raw), tier, created_ms, expires_ms or None, compute_ms, tags)


def _tags(tags: Optional[Sequence[str]]) -> Optional[List[str]]:
    if tags is None:
        return None
    if isinstance(tags, str):
        raise TypeError("tags must be a list of str, not a str")
    return list(tags)

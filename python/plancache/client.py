"""`Client`: the blocking client of a `plancache serve` server (stdlib only).

One `Client` is meant to be shared: it keeps a pool of keep-alive
connections (`http.client`), and every method is thread-safe. A connection is
taken from the pool for one request and put back once its answer has been
read whole; a reused connection the server had closed meanwhile is retried
once on a fresh one.
"""

from __future__ import annotations

import http.client
import threading
import time
from typing import Any, Callable, Iterable, Iterator, List, Optional, Tuple, TypeVar

from . import _protocol
from ._base import DEFAULT_URL, ClientBase, logger
from .errors import PlancacheError, error_from_reply
from .types import Entry, EntryList, Event, Hit, PlanResult, PutResult

__all__ = ["Client"]

T = TypeVar("T")
_STALE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError,
          ConnectionAbortedError)


class Client(ClientBase):
    """A thread-safe client of the plancache HTTP API.

    Args:
        url: the server, `http://host:port` (a path is a prefix for every
            route). Default `http://127.0.0.1:8080`.
        api_token: sent as `Authorization: Bearer` (`--api-token`). Default none.
        admin_token: sent to `clear` and `evict` (`--admin-token`); also used
            for the rest when no api_token is given. Default none.
        timeout_s: bound on connecting and on each read of an answer. Default 10.
        fail_open: when True (the default), `lookup` answers a miss and
            `get_or_compute` runs the compute itself while the server is
            unreachable or answers 5xx; each time is counted in
            `fail_open_count` and logged on the `plancache` logger. When
            False, those raise `UnavailableError` like every other method.
        pool_size: keep-alive connections kept for reuse. More concurrent
            requests than this open extra connections, closed after use. Default 8.
        plan_timeout_s: the read timeout of `plan` and `plan_stream`, which
            wait for a planner. Default max(timeout_s, 130).

    Errors: the server's error answers raise `PlancacheError` (subclasses by
    code); an unreachable server raises `UnavailableError`, except where
    fail-open applies.
    """

    def __init__(self, url: str = DEFAULT_URL, api_token: Optional[str] = None,
                 admin_token: Optional[str] = None, timeout_s: float = 10.0,
                 fail_open: bool = True, pool_size: int = 8,
                 plan_timeout_s: Optional[float] = None) -> None:
        super().__init__(url, api_token, admin_token, timeout_s, fail_open, pool_size,
                         plan_timeout_s)
        self._idle: List[http.client.HTTPConnection] = []
        self._lock = threading.Lock()  # guards _idle

    # ---- connections --------------------------------------------------------

    def _acquire(self) -> Tuple[http.client.HTTPConnection, bool]:
        with self._lock:
            if self._idle:
                return self._idle.pop(), True
        cls = http.client.HTTPSConnection if self.scheme == "https" else http.client.HTTPConnection
        return cls(self.host, self.port, timeout=self.timeout_s), False

    def _release(self, conn: http.client.HTTPConnection, reusable: bool) -> None:
        if reusable:
            conn.timeout = self.timeout_s
            if conn.sock is not None:
                conn.sock.settimeout(self.timeout_s)
            with self._lock:
                if len(self._idle) < self.pool_size:
                    self._idle.append(conn)
                    return
        conn.close()

    def close(self) -> None:
        """Closes the idle connections. The client stays usable."""
        with self._lock:
            idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _open(self, call: _protocol.Call, timeout_s: float, accept: Optional[str] = None
              ) -> Tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
        """Sends `call` and reads the answer's head; the caller reads the body
        and releases the connection."""
        headers = self._headers(call)
        if accept:
            headers["Accept"] = accept
        for attempt in (0, 1):
            conn, reused = self._acquire()
            conn.timeout = timeout_s
            if conn.sock is not None:
                conn.sock.settimeout(timeout_s)
            try:
                conn.request(call.method, self.path_prefix + call.path, body=call.body,
                             headers=headers)
                return conn, conn.getresponse()
            except _STALE as e:
                conn.close()
                if reused and attempt == 0:
                    continue  # the server closed an idle connection: once more, fresh
                raise self._unreachable(e) from e
            except (OSError, http.client.HTTPException) as e:
                conn.close()
                raise self._unreachable(e) from e
        raise AssertionError("unreachable")

    def _run(self, call: _protocol.Call, timeout_s: Optional[float] = None) -> Any:
        conn, resp = self._open(call, timeout_s or self.timeout_s)
        try:
            body = resp.read()
        except (OSError, http.client.HTTPException) as e:
            conn.close()
            raise self._unreachable(e) from e
        self._release(conn, not resp.will_close)
        headers = {k.lower(): v for k, v in resp.getheaders()}
        return call.result(_protocol.Reply(resp.status, headers, body))

    # ---- plans --------------------------------------------------------------

    def lookup(self, goal: str, context: Any = None, namespace: Optional[str] = None
               ) -> Optional[Hit]:
        """The cached plan of (goal, context) in `namespace`, or None on a miss.

        Fail-open: with the server unreachable (or answering 5xx) this is a
        miss, counted and logged, unless `fail_open` is False.
        """
        try:
            return self._run(_protocol.lookup(goal, context, namespace))
        except PlancacheError as e:
            self._fail_open_or_raise("lookup", e)
            return None

    def put(self, goal: str, plan: Any, context: Any = None, namespace: Optional[str] = None,
            ttl_s: Optional[int] = None, tags: Optional[Iterable[str]] = None,
            compute_ms: Optional[int] = None) -> PutResult:
        """Stores `plan` (any JSON value) for (goal, context).

        ttl_s: seconds to keep it (0 = never expires; default: the
        namespace's `default_ttl_s`). tags: names for `invalidate(tag=...)`.
        compute_ms: what computing it cost; a plan cheaper than the
        namespace's `min_compute_ms` is not stored (`stored` False).
        """
        return self._run(_protocol.put(goal, plan, context, namespace, ttl_s, tags, compute_ms))

    def plan(self, goal: str, context: Any = None, namespace: Optional[str] = None) -> PlanResult:
        """Read-through: the plan from the cache, or from one planner run on the
        server (`POST /v1/plans`; the server needs `--planner-cmd` or
        `--planner-url`). A failing planner raises `PlancacheError`
        (`bad_gateway`); no planner, `UnavailableError`."""
        return self._run(_protocol.plan(goal, context, namespace), self.plan_timeout_s)

    def plan_stream(self, goal: str, context: Any = None, namespace: Optional[str] = None
                    ) -> Iterator[Event]:
        """Read-through as Server-Sent Events: yields `Event(event, data)` —
        `status` ({"step":"lookup"}, then "plan_from_cache" or "planning"),
        `plan` (the `plan()` answer as a dict), `done`. An `error` event raises
        `PlancacheError`. Breaking off early closes the connection."""
        call = _protocol.plan(goal, context, namespace)
        conn, resp = self._open(call, self.plan_timeout_s, accept="text/event-stream")
        finished = False
        try:
            if resp.status != 200:
                raise error_from_reply(resp.status, resp.read())
            parser = _protocol.SseParser()
            while True:
                line = resp.readline()
                if not line:
                    break
                event = parser.feed(line.decode("utf-8").rstrip("\r\n"))
                if event is None:
                    continue
                if event[0] == "error":
                    raise _protocol.sse_error(event[1])
                yield Event(*event)
            resp.read()  # marks the answer complete, so the connection can be reused
            finished = True
        except (OSError, http.client.HTTPException) as e:
            raise self._unreachable(e) from e
        finally:
            if finished:
                self._release(conn, not resp.will_close)
            else:
                conn.close()

    def delete(self, goal: str, context: Any = None, namespace: Optional[str] = None) -> bool:
        """Removes the plan of (goal, context) from every tier; True if one was there."""
        return self._run(_protocol.delete(goal, context, namespace))

    def get_or_compute(self, goal: str, compute: Callable[[], T], context: Any = None,
                       namespace: Optional[str] = None, ttl_s: Optional[int] = None,
                       tags: Optional[Iterable[str]] = None, lease_s: float = 30.0,
                       wait_s: float = 10.0) -> T:
        """The cached plan, or `compute()`'s result -- computed once however
        many callers ask, in however many processes or machines.

        Single-flight by lease (`POST /v1/plans/lease`): the first caller of a
        missing key gets the lease and runs `compute` here, renewing the
        lease every `lease_s / 3` while it runs; its result is stored with
        the time it took and handed to every caller waiting meanwhile. The
        others wait (re-asking every `wait_s`) and get that result. If the
        holder's `compute` raises, the exception propagates, nothing is
        stored and the lease passes to a waiter; if the holder dies, its
        lease lapses after `lease_s` and a waiter takes over.

        Fail-open: with the server down, `compute` runs and nothing is
        stored (counted in `fail_open_count`, logged). Results must be JSON.
        """
        _protocol.check_lease_args(lease_s, wait_s)
        ask = _protocol.lease(goal, context, namespace, lease_s, wait_s)
        while True:
            try:
                answer = self._run(ask, timeout_s=wait_s + self.timeout_s)
            except PlancacheError as e:
                self._fail_open_or_raise("get_or_compute", e)
                return compute()
            if answer.status == "hit":
                return answer.hit.plan  # type: ignore[union-attr]
            if answer.status == "lease":
                return self._compute_leased(goal, compute, context, namespace, ttl_s, tags,
                                            lease_s, answer.token)  # type: ignore[arg-type]
            # "pending": another caller still computes it; ask again.

    def _compute_leased(self, goal: str, compute: Callable[[], T], context: Any,
                        namespace: Optional[str], ttl_s: Optional[int],
                        tags: Optional[Iterable[str]], lease_s: float, token: str) -> T:
        stop = threading.Event()

        def renew() -> None:
            call = _protocol.lease_renew(goal, context, namespace, token, lease_s)
            while not stop.wait(_protocol.renew_interval_s(lease_s)):
                try:
                    if not self._run(call):
                        return  # lost: the PUT will say so
                except PlancacheError:
                    pass  # the next renewal may get through
        renewer = threading.Thread(target=renew, name="plancache-lease", daemon=True)
        renewer.start()
        start = time.monotonic()
        try:
            value = compute()
        except BaseException:
            stop.set()  # before the give-back: no renewal after it
            self._give_back(goal, context, namespace, token)
            raise
        stop.set()
        compute_ms = int(round((time.monotonic() - start) * 1000))
        try:
            done = self._run(_protocol.put_leased(goal, value, context, namespace, ttl_s, tags,
                                                  compute_ms, token))
            self._note_leased_put(done, goal, compute_ms, lease_s)
        except PlancacheError as e:
            self._fail_open_or_raise("get_or_compute put", e)
        return value

    def _give_back(self, goal: str, context: Any, namespace: Optional[str], token: str) -> None:
        """Releases a lease after a failed compute, so a waiter takes over now
        rather than when it lapses. Best effort: the lapse is the fallback."""
        try:
            self._run(_protocol.lease_release(goal, context, namespace, token))
        except PlancacheError as e:
            logger.warning("plancache could not give a lease back (%s); it lapses instead", e)

    # ---- invalidation and administration ----------------------------------

    def invalidate(self, tag: Optional[str] = None, prefix: Optional[str] = None,
                   pattern: Optional[str] = None, namespace: Optional[str] = None,
                   older_than_s: Optional[int] = None) -> int:
        """Removes every entry matching all the selectors given (at least one):
        `tag`, `prefix` / `pattern` (a glob: `*`, `?`, `[a-z]`) on `/v1/entries`
        keys, `older_than_s`, `namespace` (alone: the whole namespace).
        Returns how many entries the local tiers removed."""
        return self._run(_protocol.invalidate(tag, prefix, pattern, namespace, older_than_s))

    def clear(self, namespace: Optional[str] = None) -> int:
        """Removes every entry (of `namespace`, or of all). Admin. Returns the count."""
        return self._run(_protocol.clear(namespace))

    def evict(self, fraction: Optional[float] = None) -> int:
        """Evicts `fraction` (0 < f <= 1; server default 0.1) of every namespace
        of the memory tier, least valuable first. Admin. Returns the count."""
        return self._run(_protocol.evict(fraction))

    def stats(self) -> dict:
        """`GET /v1/stats` as a dict (docs/http_api.md lists every field)."""
        return self._run(_protocol.stats())

    def ready(self) -> bool:
        """True when `/readyz` answers 200 (serving, no tier degraded)."""
        return bool((self._run(_protocol.health()) or {}).get("ready"))

    # ---- generic store: /v1/entries -----------------------------------------

    def entry_get(self, namespace: str, key: str) -> Optional[Entry]:
        """The value stored under a user key, or None when there is none."""
        return self._run(_protocol.entry_get(namespace, key))

    def entry_put(self, namespace: str, key: str, value: Any, ttl_s: Optional[int] = None,
                  tags: Optional[Iterable[str]] = None, compute_ms: Optional[int] = None) -> None:
        """Stores `value` (any JSON value) under a user key (1-512 bytes, may contain `/`)."""
        self._run(_protocol.entry_put(namespace, key, value, ttl_s, tags, compute_ms))

    def entry_delete(self, namespace: str, key: str) -> bool:
        """Removes a user key; True if it was there."""
        return self._run(_protocol.entry_delete(namespace, key))

    def entries(self, namespace: str, prefix: Optional[str] = None,
                limit: Optional[int] = None) -> EntryList:
        """The live user keys of `namespace` in byte order (server default limit 1000)."""
        return self._run(_protocol.entries(namespace, prefix, limit))

    # ---- checkpoints ---------------------------------------------------------

    def checkpoint_save(self, checkpoint_id: str, state: Any) -> None:
        """Saves a JSON state under `checkpoint_id` in the `checkpoints`
        namespace (persistent, never expiring in the preset), replacing it."""
        self._run(_protocol.checkpoint_save(checkpoint_id, state))

    def checkpoint_restore(self, checkpoint_id: str) -> Any:
        """The saved state, or None when there is no such checkpoint."""
        return self._run(_protocol.checkpoint_restore(checkpoint_id))

    def checkpoints(self, limit: Optional[int] = None) -> EntryList:
        """The saved checkpoints, in id order (at most 10,000 unless `limit`)."""
        return self._run(_protocol.checkpoints(limit))

    def checkpoint_cleanup(self, max_age_days: float) -> int:
        """Removes the checkpoints created more than `max_age_days` ago; returns the count."""
        return self._run(_protocol.checkpoint_cleanup(max_age_days))

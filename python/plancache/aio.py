"""`AsyncClient`: the asyncio client of a `plancache serve` server (stdlib only).

The same methods as `Client`, as coroutines (`plan_stream` is an async
iterator). One `AsyncClient` belongs to one event loop: it keeps up to
`pool_size` idle keep-alive connections of that loop for reuse.
"""

from __future__ import annotations

import asyncio
import inspect
import time
from typing import (Any, AsyncIterator, Awaitable, Callable, Iterable, List, Optional, Tuple,
                    TypeVar, Union)

from . import _protocol
from ._aio_http import Connection, ProtocolError
from ._base import DEFAULT_URL, ClientBase, logger
from .errors import PlancacheError, error_from_reply
from .types import Entry, EntryList, Event, Hit, PlanResult, PutResult

__all__ = ["AsyncClient"]

T = TypeVar("T")
_TRANSPORT = (OSError, EOFError, ProtocolError, ValueError)
_STALE = (ConnectionResetError, BrokenPipeError, ConnectionAbortedError, EOFError)


async def _call(compute: Callable[[], Union[T, Awaitable[T]]]) -> T:
    """Runs a plain or an async compute function."""
    value = compute()
    if inspect.isawaitable(value):
        value = await value
    return value  # type: ignore[return-value]


class AsyncClient(ClientBase):
    """An asyncio client of the plancache HTTP API.

    Same arguments, defaults, results and errors as `Client`; every method is
    a coroutine. `timeout_s` bounds each request as a whole (connecting,
    sending, reading the answer). Use `async with AsyncClient(...) as c:` or
    call `await c.aclose()` to close its idle connections.
    """

    def __init__(self, url: str = DEFAULT_URL, api_token: Optional[str] = None,
                 admin_token: Optional[str] = None, timeout_s: float = 10.0,
                 fail_open: bool = True, pool_size: int = 8,
                 plan_timeout_s: Optional[float] = None) -> None:
        super().__init__(url, api_token, admin_token, timeout_s, fail_open, pool_size,
                         plan_timeout_s)
        self._idle: List[Connection] = []  # only touched from the client's event loop

    # ---- connections --------------------------------------------------------

    async def _acquire(self) -> Tuple[Connection, bool]:
        while self._idle:
            conn = self._idle.pop()
            if conn.usable():
                return conn, True
            conn.close()
        return await Connection.open(self.host, self.port, self.scheme == "https"), False

    def _release(self, conn: Connection) -> None:
        if conn.usable() and len(self._idle) < self.pool_size:
            self._idle.append(conn)
        else:
            conn.close()

    async def aclose(self) -> None:
        """Closes the idle connections. The client stays usable."""
        idle, self._idle = self._idle, []
        for conn in idle:
            conn.close()

    async def __aenter__(self) -> "AsyncClient":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def _open(self, call: _protocol.Call, accept: Optional[str] = None
                    ) -> Tuple[Connection, int, dict]:
        headers = self._headers(call)
        if accept:
            headers["Accept"] = accept
        for attempt in (0, 1):
            conn, reused = await self._acquire()
            try:
                await conn.send(call.method, self.path_prefix + call.path, self._host_header(),
                                headers, call.body)
                status, head = await conn.read_head()
                return conn, status, head
            except _STALE:
                conn.close()
                if reused and attempt == 0:
                    continue  # the server closed an idle connection: once more, fresh
                raise
            except BaseException:
                conn.close()
                raise
        raise AssertionError("unreachable")

    async def _exchange(self, call: _protocol.Call) -> _protocol.Reply:
        conn, status, headers = await self._open(call)
        try:
            body = await conn.read_body(headers)
        except BaseException:
            conn.close()
            raise
        self._release(conn)
        return _protocol.Reply(status, headers, body)

    async def _run(self, call: _protocol.Call, timeout_s: Optional[float] = None) -> Any:
        try:
            reply = await asyncio.wait_for(self._exchange(call), timeout_s or self.timeout_s)
        except asyncio.TimeoutError as e:
            raise self._unreachable(TimeoutError()) from e
        except _TRANSPORT as e:
            raise self._unreachable(e) from e
        return call.result(reply)

    # ---- plans --------------------------------------------------------------

    async def lookup(self, goal: str, context: Any = None, namespace: Optional[str] = None
                     ) -> Optional[Hit]:
        """The cached plan, or None on a miss (fail-open as `Client.lookup`)."""
        try:
            return await self._run(_protocol.lookup(goal, context, namespace))
        except PlancacheError as e:
            self._fail_open_or_raise("lookup", e)
            return None

    async def put(self, goal: str, plan: Any, context: Any = None,
                  namespace: Optional[str] = None, ttl_s: Optional[int] = None,
                  tags: Optional[Iterable[str]] = None,
                  compute_ms: Optional[int] = None) -> PutResult:
        """Stores `plan` for (goal, context); see `Client.put`."""
        return await self._run(_protocol.put(goal, plan, context, namespace, ttl_s, tags,
                                             compute_ms))

    async def plan(self, goal: str, context: Any = None, namespace: Optional[str] = None
                   ) -> PlanResult:
        """Read-through `POST /v1/plans`; see `Client.plan`."""
        return await self._run(_protocol.plan(goal, context, namespace), self.plan_timeout_s)

    async def plan_stream(self, goal: str, context: Any = None, namespace: Optional[str] = None
                          ) -> AsyncIterator[Event]:
        """Read-through as Server-Sent Events, an async iterator of
        `Event(event, data)`; see `Client.plan_stream`. Each read waits at
        most `plan_timeout_s`."""
        call = _protocol.plan(goal, context, namespace)
        try:
            conn, status, headers = await asyncio.wait_for(
                self._open(call, accept="text/event-stream"), self.plan_timeout_s)
        except asyncio.TimeoutError as e:
            raise self._unreachable(TimeoutError()) from e
        except _TRANSPORT as e:
            raise self._unreachable(e) from e
        finished = False
        try:
            if status != 200:
                body = await asyncio.wait_for(conn.read_body(headers), self.timeout_s)
                raise error_from_reply(status, body)
            parser, pending = _protocol.SseParser(), b""
            chunks = conn.body_chunks(headers).__aiter__()
            while True:
                try:
                    chunk = await asyncio.wait_for(chunks.__anext__(), self.plan_timeout_s)
                except StopAsyncIteration:
                    break
                pending += chunk
                *lines, pending = pending.split(b"\n")
                for line in lines:
                    event = parser.feed(line.decode("utf-8").rstrip("\r"))
                    if event is None:
                        continue
                    if event[0] == "error":
                        raise _protocol.sse_error(event[1])
                    yield Event(*event)
            finished = True
        except asyncio.TimeoutError as e:
            raise self._unreachable(TimeoutError()) from e
        except _TRANSPORT as e:
            raise self._unreachable(e) from e
        finally:
            if finished:
                self._release(conn)
            else:
                conn.close()

    async def delete(self, goal: str, context: Any = None,
                     namespace: Optional[str] = None) -> bool:
        """Removes the plan of (goal, context); True if one was there."""
        return await self._run(_protocol.delete(goal, context, namespace))

    async def get_or_compute(self, goal: str, compute: Callable[[], Union[T, Awaitable[T]]],
                             context: Any = None, namespace: Optional[str] = None,
                             ttl_s: Optional[int] = None,
                             tags: Optional[Iterable[str]] = None, lease_s: float = 30.0,
                             wait_s: float = 10.0) -> T:
        """The cached plan, or `compute()`'s result (a plain or an async
        function), computed once across every caller by the server's lease;
        fail-open. See `Client.get_or_compute`."""
        _protocol.check_lease_args(lease_s, wait_s)
        ask = _protocol.lease(goal, context, namespace, lease_s, wait_s)
        while True:
            try:
                answer = await self._run(ask, timeout_s=wait_s + self.timeout_s)
            except PlancacheError as e:
                self._fail_open_or_raise("get_or_compute", e)
                return await _call(compute)
            if answer.status == "hit":
                return answer.hit.plan  # type: ignore[union-attr]
            if answer.status == "lease":
                return await self._compute_leased(goal, compute, context, namespace, ttl_s,
                                                  tags, lease_s, answer.token)  # type: ignore
            # "pending": another caller still computes it; ask again.

    async def _compute_leased(self, goal: str, compute: Callable[[], Union[T, Awaitable[T]]],
                              context: Any, namespace: Optional[str], ttl_s: Optional[int],
                              tags: Optional[Iterable[str]], lease_s: float, token: str) -> T:
        async def renew() -> None:
            call = _protocol.lease_renew(goal, context, namespace, token, lease_s)
            while True:
                await asyncio.sleep(_protocol.renew_interval_s(lease_s))
                try:
                    if not await self._run(call):
                        return  # lost: the PUT will say so
                except PlancacheError:
                    pass  # the next renewal may get through
        renewer = asyncio.ensure_future(renew())
        start = time.monotonic()
        try:
            value = await _call(compute)
        except BaseException:
            renewer.cancel()  # before the give-back: no renewal after it
            await self._give_back(goal, context, namespace, token)
            raise
        renewer.cancel()
        compute_ms = int(round((time.monotonic() - start) * 1000))
        try:
            done = await self._run(_protocol.put_leased(goal, value, context, namespace, ttl_s,
                                                        tags, compute_ms, token))
            self._note_leased_put(done, goal, compute_ms, lease_s)
        except PlancacheError as e:
            self._fail_open_or_raise("get_or_compute put", e)
        return value

    async def _give_back(self, goal: str, context: Any, namespace: Optional[str],
                         token: str) -> None:
        """As `Client._give_back`."""
        try:
            await self._run(_protocol.lease_release(goal, context, namespace, token))
        except PlancacheError as e:
            logger.warning("plancache could not give a lease back (%s); it lapses instead", e)

    # ---- invalidation and administration ----------------------------------

    async def invalidate(self, tag: Optional[str] = None, prefix: Optional[str] = None,
                         pattern: Optional[str] = None, namespace: Optional[str] = None,
                         older_than_s: Optional[int] = None) -> int:
        """Removes every entry matching all the selectors given; see `Client.invalidate`."""
        return await self._run(_protocol.invalidate(tag, prefix, pattern, namespace,
                                                    older_than_s))

    async def clear(self, namespace: Optional[str] = None) -> int:
        """Removes every entry (of `namespace`, or of all). Admin."""
        return await self._run(_protocol.clear(namespace))

    async def evict(self, fraction: Optional[float] = None) -> int:
        """Evicts a share of every memory-tier namespace. Admin."""
        return await self._run(_protocol.evict(fraction))

    async def stats(self) -> dict:
        """`GET /v1/stats` as a dict."""
        return await self._run(_protocol.stats())

    async def ready(self) -> bool:
        """True when `/readyz` answers 200."""
        return bool((await self._run(_protocol.health()) or {}).get("ready"))

    # ---- generic store: /v1/entries -----------------------------------------

    async def entry_get(self, namespace: str, key: str) -> Optional[Entry]:
        """The value stored under a user key, or None."""
        return await self._run(_protocol.entry_get(namespace, key))

    async def entry_put(self, namespace: str, key: str, value: Any,
                        ttl_s: Optional[int] = None, tags: Optional[Iterable[str]] = None,
                        compute_ms: Optional[int] = None) -> None:
        """Stores `value` (any JSON value) under a user key."""
        await self._run(_protocol.entry_put(namespace, key, value, ttl_s, tags, compute_ms))

    async def entry_delete(self, namespace: str, key: str) -> bool:
        """Removes a user key; True if it was there."""
        return await self._run(_protocol.entry_delete(namespace, key))

    async def entries(self, namespace: str, prefix: Optional[str] = None,
                      limit: Optional[int] = None) -> EntryList:
        """The live user keys of `namespace`, in byte order."""
        return await self._run(_protocol.entries(namespace, prefix, limit))

    # ---- checkpoints ---------------------------------------------------------

    async def checkpoint_save(self, checkpoint_id: str, state: Any) -> None:
        """Saves a JSON state under `checkpoint_id` (namespace `checkpoints`)."""
        await self._run(_protocol.checkpoint_save(checkpoint_id, state))

    async def checkpoint_restore(self, checkpoint_id: str) -> Any:
        """The saved state, or None."""
        return await self._run(_protocol.checkpoint_restore(checkpoint_id))

    async def checkpoints(self, limit: Optional[int] = None) -> EntryList:
        """The saved checkpoints, in id order."""
        return await self._run(_protocol.checkpoints(limit))

    async def checkpoint_cleanup(self, max_age_days: float) -> int:
        """Removes the checkpoints created more than `max_age_days` ago."""
        return await self._run(_protocol.checkpoint_cleanup(max_age_days))

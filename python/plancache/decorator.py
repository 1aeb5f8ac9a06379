"""`@plancache.cached`: a function whose results are plans, computed once.

    @plancache.cached(namespace="plans", ttl_s=3600, tags=["llm"])
    def plan_for(goal: str, env: str) -> dict:
        return call_my_llm(goal, env)          # runs once per (goal, env)

    @plancache.cached()
    async def plan_async(goal: str) -> dict:   # async functions too
        return await call_my_llm_async(goal)

Each call is `get_or_compute` on the server: the goal is the function's
qualified name, the context its arguments, so every process and machine
sharing the server (and its shared tier) computes a given call once; the
others wait for that result. Results must be JSON values.
"""

from __future__ import annotations

import functools
import inspect
import json
import os
import threading
from typing import Any, Callable, Iterable, Optional, TypeVar, Union

from ._base import DEFAULT_URL
from .aio import AsyncClient
from .client import Client

__all__ = ["cached"]

F = TypeVar("F", bound=Callable[..., Any])
URL_ENV = "PLANCACHE_URL"
"""Where the decorator's default client connects (else http://127.0.0.1:8080)."""


def cached(client: Union[Client, AsyncClient, str, None] = None, *,
           namespace: Optional[str] = None, ttl_s: Optional[int] = None,
           tags: Optional[Iterable[str]] = None,
           key: Optional[Callable[..., Any]] = None, goal: Optional[str] = None,
           lease_s: float = 30.0) -> Callable[[F], F]:
    """Caches a plain or an async function's results in plancache.

    Args:
        client: a `Client` (plain functions) or `AsyncClient` (async ones), or
            a server URL; default `$PLANCACHE_URL` or http://127.0.0.1:8080,
            a client made at the first call.
        namespace, ttl_s, tags: as `Client.put`.
        key: computes the context identifying a call from the function's
            arguments (same signature), e.g. `key=lambda goal, llm: goal`
            to ignore an argument. Default: every argument by name, with
            defaults applied (the values must be JSON).
        goal: the goal of every call; default "<module>.<qualname>".
        lease_s: the lease the computing caller holds (renewed while it runs).

    Errors: TypeError at decoration when a `Client` is given for an async
    function or an `AsyncClient` for a plain one; TypeError at a call whose
    arguments (or result) are not JSON.
    """
    def decorate(fn: F) -> F:
        is_async = inspect.iscoroutinefunction(fn)
        _check_client_kind(client, is_async, fn)
        signature = inspect.signature(fn)
        the_goal = goal or "%s.%s" % (fn.__module__, fn.__qualname__)
        clients = _LazyClient(client, is_async)

        def context_of(args: tuple, kwargs: dict) -> Any:
            if key is not None:
                context = key(*args, **kwargs)
            else:
                bound = signature.bind(*args, **kwargs)
                bound.apply_defaults()
                context = dict(bound.arguments)
            try:
                json.dumps(context, allow_nan=False)
            except (TypeError, ValueError) as e:
                raise TypeError("@plancache.cached %s: the call's context must be JSON (pass "
                                "key= to choose what identifies a call): %s" % (the_goal, e)) from e
            return context

        if is_async:
            @functools.wraps(fn)
            async def async_wrapper(*args: Any, **kwargs: Any) -> Any:
                return await clients.get().get_or_compute(
                    the_goal, lambda: fn(*args, **kwargs), context=context_of(args, kwargs),
                    namespace=namespace, ttl_s=ttl_s, tags=tags, lease_s=lease_s)
            return async_wrapper  # type: ignore[return-value]

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            return clients.get().get_or_compute(
                the_goal, lambda: fn(*args, **kwargs), context=context_of(args, kwargs),
                namespace=namespace, ttl_s=ttl_s, tags=tags, lease_s=lease_s)
        return wrapper  # type: ignore[return-value]
    return decorate


def _check_client_kind(client: Any, is_async: bool, fn: Callable[..., Any]) -> None:
    if is_async and isinstance(client, Client):
        raise TypeError("@plancache.cached on async %s needs an AsyncClient, not a Client"
                        % fn.__qualname__)
    if not is_async and isinstance(client, AsyncClient):
        raise TypeError("@plancache.cached on %s (not async) needs a Client, not an AsyncClient"
                        % fn.__qualname__)


class _LazyClient:
    """The decorator's client: the one given, or one made at the first call
    (so importing a decorated module opens nothing)."""

    def __init__(self, given: Union[Client, AsyncClient, str, None], is_async: bool) -> None:
        self._client = given if isinstance(given, (Client, AsyncClient)) else None
        self._url = given if isinstance(given, str) else None
        self._is_async = is_async
        self._lock = threading.Lock()  # guards _client

    def get(self) -> Any:
        with self._lock:
            if self._client is None:
                url = self._url or os.environ.get(URL_ENV) or DEFAULT_URL
                self._client = AsyncClient(url) if self._is_async else Client(url)
            return self._client

"""The HTTP API as data: each client method is a `Call` (method, path, body,
which token) plus a function that turns the answer into its result.

`Client` and `AsyncClient` share these, so the two stay the same API and
differ only in how they move bytes. Nothing here does I/O.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence
from urllib.parse import quote, urlencode

from .errors import error_from_reply
from .types import Entry, EntryInfo, EntryList, Hit, PlanResult, PutResult

CHECKPOINT_NAMESPACE = "checkpoints"
"""The namespace `checkpoint_*` use, as `plancache checkpoint` does."""

_DAY_S = 86400


@dataclass(frozen=True)
class Reply:
    """An HTTP answer: status, headers (names lowercased), body."""

    status: int
    headers: Dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


@dataclass(frozen=True)
class Call:
    """One request and how to read its answer.

    `parse` gets every answer whose status is 2xx or listed in `accept`;
    other statuses raise the server's error.
    """

    method: str
    path: str
    body: Optional[bytes]
    admin: bool
    parse: Callable[[Reply], Any]
    accept: Sequence[int] = ()

    def result(self, reply: Reply) -> Any:
        if 200 <= reply.status < 300 or reply.status in self.accept:
            return self.parse(reply)
        raise error_from_reply(reply.status, reply.body)


def dumps(value: Any) -> bytes:
    """Compact JSON, UTF-8 (what the server stores for plans anyway)."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


def _plan_body(goal: Any, context: Any, namespace: Optional[str], **extra: Any) -> Dict[str, Any]:
    body: Dict[str, Any] = {"goal": goal}
    if context is not None:
        body["context"] = context
    if namespace is not None:
        body["namespace"] = namespace
    body.update({k: v for k, v in extra.items() if v is not None})
    return body


def _tags(tags: Optional[Iterable[str]]) -> Optional[List[str]]:
    if tags is None:
        return None
    if isinstance(tags, str):
        return [tags]
    return list(tags)


def _entry_path(namespace: str, key: Optional[str] = None) -> str:
    path = "/v1/entries/" + quote(namespace, safe="")
    return path if key is None else path + "/" + quote(key, safe="")


def _int_header(headers: Dict[str, str], name: str) -> Optional[int]:
    value = headers.get(name)
    return int(value) if value is not None and value.strip().lstrip("-").isdigit() else None


# ---- plans ---------------------------------------------------------------

def _parse_hit(reply: Reply) -> Optional[Hit]:
    doc = reply.json()
    if reply.status == 404:
        if isinstance(doc, dict) and doc.get("hit") is False:
            return None
        raise error_from_reply(reply.status, reply.body)
    return Hit(plan=doc["plan"], key=doc["key"], namespace=doc["namespace"], tier=doc["tier"],
               created_ms=doc["created_ms"], expires_ms=doc.get("expires_ms"),
               compute_ms=doc.get("compute_ms", 0), tags=list(doc.get("tags", [])))


def lookup(goal: str, context: Any, namespace: Optional[str]) -> Call:
    return Call("POST", "/v1/plans/lookup", dumps(_plan_body(goal, context, namespace)), False,
                _parse_hit, accept=(404,))


def _parse_put(reply: Reply) -> PutResult:
    doc = reply.json()
    return PutResult(key=doc["key"], namespace=doc["namespace"],
                     stored=bool(doc.get("stored", True)), reason=doc.get("reason"))


def put(goal: str, plan: Any, context: Any, namespace: Optional[str], ttl_s: Optional[int],
        tags: Optional[Iterable[str]], compute_ms: Optional[int]) -> Call:
    body = _plan_body(goal, context, namespace, ttl_s=ttl_s, tags=_tags(tags),
                      compute_ms=compute_ms)
    body["plan"] = plan  # None is a valid plan (JSON null): always sent
    return Call("PUT", "/v1/plans", dumps(body), False, _parse_put)


def plan_result(doc: Dict[str, Any]) -> PlanResult:
    """A `PlanResult` from the read-through answer (also the SSE `plan` event)."""
    return PlanResult(plan=doc.get("plan"), cached=bool(doc.get("cached")), key=doc["key"],
                      namespace=doc.get("namespace", "default"), tier=doc.get("tier"),
                      stale=bool(doc.get("stale", False)),
                      coalesced=bool(doc.get("coalesced", False)),
                      compute_ms=doc.get("compute_ms"))


def plan(goal: str, context: Any, namespace: Optional[str]) -> Call:
    return Call("POST", "/v1/plans", dumps(_plan_body(goal, context, namespace)), False,
                lambda r: plan_result(r.json()))


# ---- leases: single-flight for callers that compute themselves ----------

@dataclass(frozen=True)
class LeaseAnswer:
    """`POST /v1/plans/lease`: `status` is "hit" (`hit` set), "lease" (`token`
    set: compute, then `put_leased`) or "pending" (ask again)."""

    status: str
    hit: Optional[Hit] = None
    token: Optional[str] = None


def _parse_lease(reply: Reply) -> LeaseAnswer:
    doc = reply.json()
    status = doc.get("status")
    if status == "hit":
        return LeaseAnswer("hit", hit=_parse_hit(reply))
    if status == "lease":
        return LeaseAnswer("lease", token=doc["token"])
    return LeaseAnswer("pending")


def lease(goal: str, context: Any, namespace: Optional[str], lease_s: float,
          wait_s: float) -> Call:
    body = _plan_body(goal, context, namespace, lease_ms=int(lease_s * 1000),
                      wait_ms=int(wait_s * 1000))
    return Call("POST", "/v1/plans/lease", dumps(body), False, _parse_lease)


def _held(reply: Reply) -> bool:
    """True for a 2xx answer, False for 409 lease_lost."""
    return reply.status < 300


def lease_renew(goal: str, context: Any, namespace: Optional[str], token: str,
                lease_s: float) -> Call:
    body = _plan_body(goal, context, namespace, token=token, lease_ms=int(lease_s * 1000))
    return Call("POST", "/v1/plans/lease", dumps(body), False, _held, accept=(409,))


def lease_release(goal: str, context: Any, namespace: Optional[str], token: str) -> Call:
    body = _plan_body(goal, context, namespace, token=token)
    return Call("DELETE", "/v1/plans/lease", dumps(body), False, _held, accept=(409,))


def _parse_leased_put(reply: Reply) -> PutResult:
    if reply.status == 409:
        doc = reply.json() or {}
        key = doc.get("key", "")
        return PutResult(key=key, namespace=doc.get("namespace", ""), stored=False,
                         reason="lease_lost")
    return _parse_put(reply)


def put_leased(goal: str, plan: Any, context: Any, namespace: Optional[str],
               ttl_s: Optional[int], tags: Optional[Iterable[str]], compute_ms: int,
               token: str) -> Call:
    """The lease holder's PUT: every waiter gets `plan`; 409 (the lease was
    lost meanwhile) is a PutResult with stored False, reason "lease_lost"."""
    body = _plan_body(goal, context, namespace, ttl_s=ttl_s, tags=_tags(tags),
                      compute_ms=compute_ms, lease_token=token)
    body["plan"] = plan
    return Call("PUT", "/v1/plans", dumps(body), False, _parse_leased_put, accept=(409,))


def renew_interval_s(lease_s: float) -> float:
    """How often a holder renews its lease: a third of it, so two renewals
    may be lost before it lapses."""
    return max(lease_s / 3.0, 0.05)


def check_lease_args(lease_s: float, wait_s: float) -> None:
    if not 0.1 <= lease_s <= 600:
        raise ValueError("lease_s must be within [0.1, 600], got %r" % (lease_s,))
    if not 0.1 <= wait_s <= 60:
        raise ValueError("wait_s must be within [0.1, 60], got %r" % (wait_s,))


def delete(goal: str, context: Any, namespace: Optional[str]) -> Call:
    return Call("DELETE", "/v1/plans", dumps(_plan_body(goal, context, namespace)), False,
                lambda r: bool(r.json()["removed"]))


# ---- invalidation and administration --------------------------------------

def invalidate(tag: Optional[str], prefix: Optional[str], pattern: Optional[str],
               namespace: Optional[str], older_than_s: Optional[int]) -> Call:
    body = {k: v for k, v in (("tag", tag), ("prefix", prefix), ("pattern", pattern),
                              ("namespace", namespace), ("older_than_s", older_than_s))
            if v is not None}
    return Call("POST", "/v1/invalidate", dumps(body), False,
                lambda r: int(r.json()["invalidated"]))


def clear(namespace: Optional[str]) -> Call:
    body = dumps({"namespace": namespace}) if namespace is not None else None
    return Call("POST", "/v1/clear", body, True, lambda r: int(r.json()["cleared"]))


def evict(fraction: Optional[float]) -> Call:
    body = dumps({"fraction": fraction}) if fraction is not None else None
    return Call("POST", "/v1/evict", body, True, lambda r: int(r.json()["evicted"]))


def stats() -> Call:
    return Call("GET", "/v1/stats", None, False, lambda r: r.json())


def health() -> Call:
    return Call("GET", "/readyz", None, False, lambda r: r.json(), accept=(503,))


# ---- generic store ---------------------------------------------------------

def _parse_entry(namespace: str, key: str) -> Callable[[Reply], Optional[Entry]]:
    def parse(reply: Reply) -> Optional[Entry]:
        if reply.status == 404:
            err = error_from_reply(reply.status, reply.body)
            if err.code == "not_found":
                return None
            raise err
        return Entry(namespace=namespace, key=key, value=reply.json(), raw=reply.body,
                     tier=reply.headers.get("x-plancache-tier"),
                     created_ms=_int_header(reply.headers, "x-plancache-created-ms"),
                     expires_ms=_int_header(reply.headers, "x-plancache-expires-ms"))
    return parse


def entry_get(namespace: str, key: str) -> Call:
    return Call("GET", _entry_path(namespace, key), None, False, _parse_entry(namespace, key),
                accept=(404,))


def entry_put(namespace: str, key: str, value: Any, ttl_s: Optional[int],
              tags: Optional[Iterable[str]], compute_ms: Optional[int]) -> Call:
    query = {}
    if ttl_s is not None:
        query["ttl_s"] = str(int(ttl_s))
    tag_list = _tags(tags)
    if tag_list:
        query["tags"] = ",".join(tag_list)
    if compute_ms is not None:
        query["compute_ms"] = str(int(compute_ms))
    path = _entry_path(namespace, key) + ("?" + urlencode(query) if query else "")
    return Call("PUT", path, dumps(value), False, lambda r: None)


def entry_delete(namespace: str, key: str) -> Call:
    return Call("DELETE", _entry_path(namespace, key), None, False,
                lambda r: bool(r.json()["removed"]))


def _parse_entry_list(reply: Reply) -> EntryList:
    doc = reply.json()
    rows = [EntryInfo(key=e["key"], created_ms=e["created_ms"], expires_ms=e.get("expires_ms"),
                      bytes=e.get("bytes", 0), tags=list(e.get("tags", [])))
            for e in doc["entries"]]
    return EntryList(namespace=doc["namespace"], entries=rows,
                     truncated=bool(doc.get("truncated")), now_ms=doc["now_ms"])


def entries(namespace: str, prefix: Optional[str], limit: Optional[int]) -> Call:
    query = {}
    if prefix is not None:
        query["prefix"] = prefix
    if limit is not None:
        query["limit"] = str(int(limit))
    path = _entry_path(namespace) + ("?" + urlencode(query) if query else "")
    return Call("GET", path, None, False, _parse_entry_list)


# ---- checkpoints (the `checkpoints` namespace, as `plancache checkpoint`) --

def checkpoint_save(checkpoint_id: str, state: Any) -> Call:
    return entry_put(CHECKPOINT_NAMESPACE, checkpoint_id, state, None, None, None)


def checkpoint_restore(checkpoint_id: str) -> Call:
    inner = entry_get(CHECKPOINT_NAMESPACE, checkpoint_id)
    def parse(reply: Reply) -> Any:
        entry = inner.parse(reply)
        return None if entry is None else entry.value
    return Call(inner.method, inner.path, None, False, parse, accept=(404,))


def checkpoints(limit: Optional[int]) -> Call:
    return entries(CHECKPOINT_NAMESPACE, None, 10000 if limit is None else limit)


def checkpoint_cleanup(max_age_days: float) -> Call:
    if max_age_days < 0:
        raise ValueError("max_age_days must not be negative")
    return invalidate(None, None, None, CHECKPOINT_NAMESPACE, int(max_age_days * _DAY_S))


# ---- Server-Sent Events ------------------------------------------------------

class SseParser:
    """Turns the lines of a text/event-stream into (event, data) pairs.

    Feed it each line without its line ending; it returns the event a blank
    line completes, or None. Comments (`: heartbeat`) are skipped.
    """

    def __init__(self) -> None:
        self._event = "message"
        self._data: List[str] = []

    def feed(self, line: str) -> Optional[tuple]:
        if line == "":
            if not self._data:
                self._event = "message"
                return None
            text = "\n".join(self._data)
            event, self._event, self._data = self._event, "message", []
            try:
                data: Any = json.loads(text)
            except ValueError:
                data = text
            return event, data
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        if value.startswith(" "):
            value = value[1:]
        if name == "event":
            self._event = value
        elif name == "data":
            self._data.append(value)
        return None


_SSE_STATUS = {"bad_gateway": 502, "unavailable": 503, "deadline_exceeded": 504}


def sse_error(data: Any) -> Exception:
    """The exception an `event: error` carries (its data is the error object);
    the status is the one the same error has as a plain answer."""
    error = data.get("error") if isinstance(data, dict) else None
    code = error.get("code", "") if isinstance(error, dict) else ""
    return error_from_reply(_SSE_STATUS.get(code, 500), dumps(data))

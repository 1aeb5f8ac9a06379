"""plancache.AsyncClient against a real `plancache serve`: the same methods as
coroutines, plan_stream as an async iterator, concurrency on one pool, fail-open."""

import asyncio
import logging
import time

import pytest

from plancache import (AsyncClient, AuthError, Event, Hit, InvalidArgumentError, PlancacheError,
                       PlanResult, UnavailableError, key_for)

pytestmark = pytest.mark.asyncio


async def test_plans_put_lookup_delete(server, unique):
    async with AsyncClient(server.url) as c:
        goal = unique("Deploy the web app")
        assert await c.lookup(goal) is None
        put = await c.put(goal, {"tasks": [1]}, context={"env": "prod"}, ttl_s=60, tags=["a"],
                          compute_ms=7)
        assert put.stored and put.key == key_for(goal, {"env": "prod"})
        hit = await c.lookup("  " + goal, context={"env": "prod"})
        assert isinstance(hit, Hit) and hit.plan == {"tasks": [1]} and hit.tier == "l1"
        assert hit.tags == ["a"] and hit.compute_ms == 7 and hit.age_s < 60
        assert hit.expires_ms - hit.created_ms == 60_000
        assert await c.delete(goal, context={"env": "prod"}) is True
        assert await c.delete(goal, context={"env": "prod"}) is False
        assert await c.lookup(goal, context={"env": "prod"}) is None


async def test_plan_read_through_and_coalescing(server, unique):
    async with AsyncClient(server.url) as c:
        goal = unique("async shared")
        before = (await c.stats())["planning"]["planner_calls"]
        results = await asyncio.gather(*[c.plan(goal, context={"n": 1}) for _ in range(8)])
        assert all(isinstance(r, PlanResult) for r in results)
        assert (await c.stats())["planning"]["planner_calls"] - before == 1
        assert sum(1 for r in results if not r.cached and not r.coalesced) == 1
        assert len({repr(r.plan) for r in results}) == 1
        assert results[0].key == key_for(goal, {"n": 1})
        again = await c.plan(goal, context={"n": 1})
        assert again.cached and again.tier == "l1"


async def test_plan_stream_async_iterator(server, unique):
    async with AsyncClient(server.url) as c:
        goal = unique("stream")
        events = [e async for e in c.plan_stream(goal)]
        assert all(isinstance(e, Event) for e in events)
        assert [e.event for e in events] == ["status", "status", "plan", "done"]
        assert events[1].data == {"step": "planning"}
        assert events[2].data["key"] == key_for(goal) and events[2].data["cached"] is False
        hits = [(event, data) async for event, data in c.plan_stream(goal)]
        assert hits[1] == ("status", {"step": "plan_from_cache"})
        assert hits[2][1]["cached"] is True and hits[3][1]["tier"] == "l1"
        with pytest.raises(PlancacheError) as err:
            async for _ in c.plan_stream(goal, namespace="broken"):
                pass
        assert err.value.code == "bad_gateway"
        with pytest.raises(InvalidArgumentError):
            async for _ in c.plan_stream(""):
                pass
        # breaking off early: the client stays usable
        async for _ in c.plan_stream(unique()):
            break
        assert await c.lookup(unique()) is None


async def test_get_or_compute_with_sync_and_async_compute(server, unique):
    async with AsyncClient(server.url) as c:
        calls = []

        async def compute():
            calls.append("async")
            await asyncio.sleep(0.03)
            return {"plan": "a"}
        goal = unique()
        assert await c.get_or_compute(goal, compute, ttl_s=50, tags=["x"]) == {"plan": "a"}
        assert await c.get_or_compute(goal, compute) == {"plan": "a"}
        assert calls == ["async"]
        hit = await c.lookup(goal)
        assert hit.compute_ms >= 30 and hit.tags == ["x"]
        goal2 = unique()
        assert await c.get_or_compute(goal2, lambda: calls.append("sync") or [2]) == [2]
        assert await c.get_or_compute(goal2, lambda: calls.append("sync") or [2]) == [2]
        assert calls == ["async", "sync"]

        async def boom():
            raise RuntimeError("llm down")
        with pytest.raises(RuntimeError):
            await c.get_or_compute(unique(), boom)


async def test_invalidate_clear_evict_stats(fresh_server):
    s = fresh_server()
    async with AsyncClient(s.url) as c:
        for i in range(6):
            await c.put("g%d" % i, i, tags=["even" if i % 2 == 0 else "odd"])
            await c.put("g%d" % i, i, namespace="docs")
        assert await c.invalidate(tag="even", namespace="default") == 3
        with pytest.raises(InvalidArgumentError) as err:
            await c.invalidate()
        assert err.value.status == 400
        assert await c.clear("docs") == 6
        assert await c.evict(1.0) == 3
        stats = await c.stats()
        assert stats["l1_size"] == 0 and "tiers" in stats
        assert await c.ready() is True
        await c.put("last", 1)
        assert await c.clear() == 1


async def test_entries_and_checkpoints(server, unique, poll):
    async with AsyncClient(server.url) as c:
        ns, key = "wf-async", unique("workflow:heavy:step/1")
        assert await c.entry_get(ns, key) is None
        await c.entry_put(ns, key, [1, {"a": None}], ttl_s=30, tags=["t"])
        entry = await c.entry_get(ns, key)
        assert entry.value == [1, {"a": None}] and entry.tier == "l1"
        assert entry.expires_ms - entry.created_ms == 30_000
        listing = await c.entries(ns, prefix=key, limit=5)
        assert listing.keys() == [key] and listing.entries[0].tags == ["t"]
        assert await c.entry_delete(ns, key) is True
        assert await c.entry_get(ns, key) is None
        with pytest.raises(InvalidArgumentError):
            await c.entries(ns, limit=100000)

        cid = unique("ckpt").replace(" ", "-")
        await c.checkpoint_save(cid, {"step": 1})
        assert await c.checkpoint_restore(cid) == {"step": 1}
        assert cid in (await c.checkpoints()).keys()
        for _ in range(1000):  # poll with a deadline, until it is older than "now"
            if await c.checkpoint_cleanup(0) >= 1:
                break
            await asyncio.sleep(0.01)
        assert await c.checkpoint_restore(cid) is None


async def test_many_concurrent_requests_on_one_client(fresh_server):
    s = fresh_server()
    async with AsyncClient(s.url, pool_size=4) as c:
        await asyncio.gather(*[c.put("c%d" % i, i) for i in range(50)])
        hits = await asyncio.gather(*[c.lookup("c%d" % i) for i in range(50)])
        assert [h.plan for h in hits] == list(range(50))
        assert len(c._idle) <= 4
        # sequential requests reuse the pooled connections
        mid = s.raw_stats()["http"]["accepted_connections"]
        for i in range(20):
            assert (await c.lookup("c%d" % i)).plan == i
        assert s.raw_stats()["http"]["accepted_connections"] - mid == 1  # the raw_stats call


async def test_errors_and_tokens(fresh_server):
    s = fresh_server("--api-token", "api", "--admin-token", "adm")
    s.token = "adm"
    async with AsyncClient(s.url) as anonymous:
        with pytest.raises(AuthError) as err:
            await anonymous.stats()
        assert (err.value.status, err.value.code) == (401, "unauthenticated")
    async with AsyncClient(s.url, api_token="api") as api:
        await api.put("g", 1)
        with pytest.raises(AuthError) as err:
            await api.clear()
        assert (err.value.status, err.value.code) == (403, "permission_denied")
        with pytest.raises(InvalidArgumentError) as err:
            await api.lookup("g", namespace="a/b")
        assert err.value.code == "invalid_argument" and "namespace" in err.value.message
    async with AsyncClient(s.url, api_token="api", admin_token="adm") as both:
        assert await both.clear() == 1


async def test_fail_open(closed_port, silent_port, caplog):
    caplog.set_level(logging.WARNING, logger="plancache")
    c = AsyncClient("http://127.0.0.1:%d" % closed_port)
    assert await c.lookup("x") is None and c.fail_open_count == 1
    assert await c.get_or_compute("x", lambda: {"computed": True}) == {"computed": True}
    assert c.fail_open_count == 2
    assert sum("failed open" in r.getMessage() for r in caplog.records) == 2
    with pytest.raises(UnavailableError) as err:
        await c.put("x", 1)
    assert err.value.status is None and err.value.code == "unavailable"
    strict = AsyncClient("http://127.0.0.1:%d" % closed_port, fail_open=False)
    with pytest.raises(UnavailableError):
        await strict.lookup("x")
    with pytest.raises(UnavailableError):
        async for _ in strict.plan_stream("x"):
            pass
    slow = AsyncClient("http://127.0.0.1:%d" % silent_port, timeout_s=0.3, fail_open=False)
    start = time.monotonic()
    with pytest.raises(UnavailableError) as err:
        await slow.lookup("x")
    assert err.value.code == "deadline_exceeded" and time.monotonic() - start < 5
    lenient = AsyncClient("http://127.0.0.1:%d" % silent_port, timeout_s=0.3)
    assert await lenient.lookup("x") is None and lenient.fail_open_count == 1


async def test_a_connection_the_server_closed_is_retried(fresh_server, poll):
    s = fresh_server("--idle-timeout-ms", "100")
    async with AsyncClient(s.url) as c:
        await c.put("g", 1)
        for _ in range(1500):  # until the server has closed the idle connection
            if s.raw_stats()["http"]["open_connections"] == 1:
                break
            await asyncio.sleep(0.01)
        assert (await c.lookup("g")).plan == 1 and c.fail_open_count == 0

"""The drop-ins of plancache.compat, each driven the way its old design was used."""

import asyncio
import time

import pytest

from plancache import Client, key_for
from plancache.compat import LaneCache, PlanCache, PlanCacheService

PLAN_CACHE_FIELDS = {"l1_size", "l1_max_size", "l1_hits", "l1_misses", "l1_hit_rate",
                     "l2_connected", "l2_hits", "l2_hit_rate"}


# ---- the agent platform's PlanCache ---------------------------------------------

def test_plan_cache_old_usage(fresh_server):
    s = fresh_server()

    async def generate_plan(goal):
        await asyncio.sleep(0.01)
        return {"goal": goal, "tasks": ["research", "write", "review"]}

    async def agent(cache, goal):
        # the agent platform's pattern: try the cache, else plan and store
        plan = await cache.get(goal)
        if plan is None:
            plan = await generate_plan(goal)
            await cache.set(goal, plan)
        return plan

    async def main():
        cache = PlanCache(l1_max_size=1000, l2_ttl_seconds=3600, enable_l2=True, url=s.url)
        first = await agent(cache, "Write a report on Q3 sales")
        second = await agent(cache, "Write  a report on Q3 sales ")  # normalised: a hit
        assert first == second
        stats = cache.get_stats()
        assert set(stats) == PLAN_CACHE_FIELDS
        assert stats["l1_size"] == 1 and stats["l1_hits"] == 1 and stats["l1_misses"] == 1
        assert stats["l1_hit_rate"] == pytest.approx(0.5)
        assert stats["l1_max_size"] == 100000  # the server's --l1-max-entries
        assert stats["l2_connected"] is False and stats["l2_hits"] == 0  # no --redis-url
        with Client(s.url) as c:
            hit = c.lookup("Write a report on Q3 sales")
            assert hit.expires_ms - hit.created_ms == 3600 * 1000  # l2_ttl_seconds
        assert await cache.invalidate("Write a report on Q3 sales") is True
        assert await cache.get("Write a report on Q3 sales") is None
        await cache.set("another goal", {"tasks": []})
        await cache.clear()
        assert await cache.get("another goal") is None
        assert cache.get_stats()["l1_size"] == 0
        await cache.close()
    asyncio.run(main())


def test_plan_cache_degrades_when_the_server_is_down(closed_port):
    async def main():
        cache = PlanCache(url="http://127.0.0.1:%d" % closed_port)
        assert await cache.get("goal") is None
        await cache.set("goal", {"tasks": []})  # no exception: not cached
        await cache.close()
    asyncio.run(main())


# ---- the chat backend's PlanCacheService --------------------------------------------

@pytest.fixture
def chat_env(monkeypatch, server):
    for name in ("PLAN_CACHE_ENABLED", "PLAN_CACHE_TTL", "PLAN_CACHE_MIN_GEN_TIME",
                 "PLANCACHE_URL", "PLANCACHE_API_TOKEN", "PLANCACHE_ADMIN_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("PLAN_CACHE_URL", server.url)
    monkeypatch.setenv("PLAN_CACHE_TTL", "120")
    monkeypatch.setenv("PLAN_CACHE_MIN_GEN_TIME", "0.2")
    return monkeypatch


def test_plan_cache_service_old_usage(chat_env, server, unique):
    service = PlanCacheService()
    goal, project = unique("Add a login page"), "project-42: a Flask app"

    def generate(goal, project_context):
        start = time.monotonic()
        time.sleep(0.25)
        return {"steps": ["form", "session", "tests"]}, time.monotonic() - start

    # the chat backend's handler: cached plan, or generate and cache it
    plan = service.get(goal, project)
    assert plan is None
    plan, took = generate(goal, project)
    assert service.set(goal, project, plan, generation_time=took) is True
    assert service.get(goal, project) == plan
    assert service.get(goal, "another project") is None
    with Client(server.url) as c:
        hit = c.lookup(goal, context=project)
        assert hit.expires_ms - hit.created_ms == 120_000  # PLAN_CACHE_TTL
        assert hit.key == service.cache_key(goal, project) == key_for(goal, project)
        assert hit.compute_ms >= 200
    # quicker than PLAN_CACHE_MIN_GEN_TIME: not worth caching
    quick = unique("quick")
    assert service.set(quick, project, {"steps": []}, generation_time=0.01) is False
    assert service.get(quick, project) is None
    stats = service.stats()
    assert stats["enabled"] is True and stats["ttl"] == 120 and stats["min_gen_time"] == 0.2
    assert (stats["hits"], stats["misses"]) == (1, 3)
    assert stats["hit_rate"] == pytest.approx(1 / 4)
    assert stats["size"] >= 1 and stats["redis_connected"] is False
    assert set(stats["server"]) == PLAN_CACHE_FIELDS


def test_plan_cache_service_disabled_and_clear(chat_env, fresh_server):
    s = fresh_server()
    chat_env.setenv("PLAN_CACHE_URL", s.url)
    chat_env.setenv("PLAN_CACHE_ENABLED", "false")
    off = PlanCacheService()
    assert off.set("g", None, {"p": 1}, generation_time=5) is False
    assert off.get("g", None) is None
    chat_env.setenv("PLAN_CACHE_ENABLED", "true")
    on = PlanCacheService()
    assert on.set("g", None, {"p": 1}, generation_time=5) is True
    assert on.get("g", None) == {"p": 1}
    assert on.clear() == 1
    assert on.get("g", None) is None
    chat_env.setenv("PLAN_CACHE_TTL", "soon")
    with pytest.raises(ValueError):
        PlanCacheService()


# ---- the workflow tool's lane-aware cache ---------------------------------------------

def test_lane_cache_old_usage(server, unique, poll):
    cache = LaneCache(lane="standard", url=server.url)
    run = unique("run").replace(" ", "-")
    computed = []

    def run_step(n):
        computed.append(n)
        return {"step": n, "output": "result of step %d" % n}

    # the workflow tool's pattern: each step's result cached under its key
    for n in (1, 2, 3, 1, 2):
        result = cache.get_or_set("workflow:%s:step_%d" % (run, n), lambda: run_step(n),
                                  ttl=600, tags=[run])
        assert result == {"step": n, "output": "result of step %d" % n}
    assert computed == [1, 2, 3]
    assert cache.keys(prefix="workflow:%s:" % run) == \
        ["workflow:%s:step_%d" % (run, n) for n in (1, 2, 3)]
    with Client(server.url) as c:
        entry = c.entry_get("standard", "workflow:%s:step_1" % run)
        assert entry.expires_ms - entry.created_ms == 600_000
    assert cache.get("workflow:%s:step_1" % run)["step"] == 1
    assert cache.invalidate("workflow:%s:step_1" % run) is True
    assert cache.get("workflow:%s:step_1" % run) is None
    assert cache.invalidate_pattern("workflow:%s:*_2" % run) == 1
    assert cache.invalidate_tag(run) == 1  # step 3 is left
    assert cache.keys(prefix="workflow:%s:" % run) == []
    cache.set("plain:%s" % run, [1, 2, 3], ttl=5)
    assert cache.get("plain:%s" % run) == [1, 2, 3]
    metrics = cache.metrics()
    assert metrics["policy"]["lane"] == "standard" and "l1" in metrics

    cache.cache_checkpoint("deploy:%s" % run, {"done": [1, 2]})
    assert cache.restore_checkpoint("deploy:%s" % run) == {"done": [1, 2]}
    assert cache.cleanup_old_checkpoints(max_age_days=7) == 0
    assert cache.restore_checkpoint("nothing:%s" % run) is None


def test_lane_cache_clear_and_outage(fresh_server, closed_port):
    s = fresh_server()
    cache = LaneCache(lane="heavy", url=s.url)
    cache.set("a", 1)
    cache.set("b", 2)
    assert cache.clear() == 2 and cache.keys() == []
    down = LaneCache(lane="heavy", url="http://127.0.0.1:%d" % closed_port)
    assert down.get_or_set("k", lambda: "computed anyway") == "computed anyway"

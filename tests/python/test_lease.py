"""Single-flight for callers that compute themselves: `get_or_compute` and
`@plancache.cached` over the server's lease (POST /v1/plans/lease), against a
real `plancache serve`.

Overlap is forced, not hoped for: a compute holds until the server counts
the other callers as waiting on its flight (`planning.coalesced`), bounded.
"""

import asyncio
import json
import subprocess
import sys
import textwrap
import threading
import urllib.error
import urllib.request

import pytest

import plancache

WORKER = textwrap.dedent("""
    import json, sys, threading, time
    import plancache

    url, goal, callers, expected_waiters = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    client = plancache.Client(url, pool_size=callers)
    computes = []
    results = [None] * callers
    start = threading.Barrier(callers)

    def compute():
        computes.append(1)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:  # until every other caller waits on this flight
            if client.stats()["planning"]["coalesced"] >= expected_waiters:
                break
            time.sleep(0.01)
        return {"steps": ["plan once"], "pid": __import__("os").getpid()}

    def call(i):
        start.wait()
        results[i] = client.get_or_compute(goal, compute, context={"env": "prod"})

    threads = [threading.Thread(target=call, args=(i,)) for i in range(callers)]
    for t in threads: t.start()
    for t in threads: t.join()
    print(json.dumps({"computes": len(computes), "results": results}))
""")


def _post(url, path, body, method="POST"):
    req = urllib.request.Request(url + path, data=json.dumps(body).encode(), method=method,
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


def test_four_processes_of_25_callers_compute_once(fresh_server, unique):
    server = fresh_server(planner=False)
    goal = unique("one missing plan")
    procs = [subprocess.Popen([sys.executable, "-c", WORKER, server.url, goal, "25", "99"],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE)
             for _ in range(4)]
    outs = []
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err.decode()
        outs.append(json.loads(out))
    assert sum(o["computes"] for o in outs) == 1
    results = [r for o in outs for r in o["results"]]
    assert len(results) == 100
    assert all(r == results[0] for r in results), "every caller got the one result"
    planning = server.raw_stats()["planning"]
    assert planning["leases_granted"] == 1
    assert planning["leases_completed"] == 1
    assert planning["coalesced"] >= 99, "the callers overlapped"


def test_a_failing_holder_passes_the_lease_to_a_waiter(fresh_server, unique, poll):
    server = fresh_server(planner=False)
    client = plancache.Client(server.url)
    goal = unique()
    outcome = {}

    def failing():
        poll(lambda: server.raw_stats()["planning"]["coalesced"] >= 1, "the second caller waiting")
        raise RuntimeError("the LLM timed out")

    def first():
        try:
            client.get_or_compute(goal, failing)
        except RuntimeError as e:
            outcome["first"] = e
    t = threading.Thread(target=first)
    t.start()
    poll(lambda: server.raw_stats()["planning"]["leases_held"] == 1, "the first caller's lease")
    second = client.get_or_compute(goal, lambda: {"by": "second"})
    t.join(timeout=30)
    assert str(outcome["first"]) == "the LLM timed out"
    assert second == {"by": "second"}
    assert client.lookup(goal).plan == {"by": "second"}
    planning = server.raw_stats()["planning"]
    assert planning["leases_released"] == 1 and planning["leases_granted"] == 2


def test_a_dead_holders_lease_lapses_and_a_waiter_computes(fresh_server, unique):
    server = fresh_server(planner=False)
    goal = unique()
    taken = _post(server.url, "/v1/plans/lease", {"goal": goal, "lease_ms": 300})
    assert taken["status"] == "lease"  # ... and this holder never comes back
    client = plancache.Client(server.url)
    assert client.get_or_compute(goal, lambda: ["recomputed"], lease_s=5) == ["recomputed"]
    assert server.raw_stats()["planning"]["leases_expired"] == 1
    # The dead holder's late PUT is refused: nothing it computed overwrites.
    with pytest.raises(urllib.error.HTTPError) as e:
        _post(server.url, "/v1/plans", {"goal": goal, "plan": "late",
                                        "lease_token": taken["token"]}, method="PUT")
    assert e.value.code == 409
    assert json.loads(e.value.read())["error"]["code"] == "lease_lost"
    assert client.lookup(goal).plan == ["recomputed"]


def test_a_long_compute_keeps_its_lease_by_renewing(fresh_server, unique, poll):
    server = fresh_server(planner=False)
    client = plancache.Client(server.url)
    goal = unique()

    def slow():  # outlives its 1 s lease three times over: renewals keep it
        threading.Event().wait(3.0)
        return "slow plan"
    assert client.get_or_compute(goal, slow, lease_s=1.0) == "slow plan"
    planning = server.raw_stats()["planning"]
    assert planning["leases_expired"] == 0
    assert planning["leases_completed"] == 1
    assert client.lookup(goal).plan == "slow plan"


@pytest.mark.asyncio
async def test_async_callers_compute_once(fresh_server, unique):
    server = fresh_server(planner=False)
    goal = unique()
    computes = []

    async def compute():
        computes.append(1)
        for _ in range(3000):  # until the other 19 wait on this flight
            if server.raw_stats()["planning"]["coalesced"] >= 19:
                break
            await asyncio.sleep(0.01)
        return {"async": True}
    async with plancache.AsyncClient(server.url, pool_size=20) as client:
        results = await asyncio.gather(*[client.get_or_compute(goal, compute) for _ in range(20)])
    assert computes == [1]
    assert results == [{"async": True}] * 20


def test_cached_decorator_on_a_plain_function(server, unique):
    client = plancache.Client(server.url)
    calls = []
    tag = unique("t").replace(" ", "-")

    @plancache.cached(client, namespace="decorated", ttl_s=60, tags=[tag])
    def plan_for(goal, env="dev"):
        calls.append((goal, env))
        return {"goal": goal, "env": env}

    goal = unique()
    assert plan_for(goal) == {"goal": goal, "env": "dev"}
    assert plan_for(goal, env="dev") == {"goal": goal, "env": "dev"}  # same call, defaults applied
    assert plan_for(goal, "prod") == {"goal": goal, "env": "prod"}
    assert calls == [(goal, "dev"), (goal, "prod")]
    assert plan_for.__name__ == "plan_for"
    assert client.invalidate(tag=tag) >= 2
    plan_for(goal)
    assert len(calls) == 3


def test_cached_decorator_key_chooses_what_identifies_a_call(server, unique):
    calls = []

    @plancache.cached(server.url, key=lambda goal, llm: {"goal": goal})
    def plan_for(goal, llm):
        calls.append(1)
        return goal.upper()

    goal = unique()
    assert plan_for(goal, object()) == goal.upper()  # llm: not JSON, not part of the key
    assert plan_for(goal, object()) == goal.upper()
    assert calls == [1]


@pytest.mark.asyncio
async def test_cached_decorator_on_an_async_function(server, unique):
    calls = []

    @plancache.cached(plancache.AsyncClient(server.url, pool_size=10))
    async def plan_for(goal):
        calls.append(goal)
        await asyncio.sleep(0.05)
        return [goal]

    goal = unique()
    results = await asyncio.gather(*[plan_for(goal) for _ in range(10)])
    assert results == [[goal]] * 10
    assert calls == [goal]


def test_cached_decorator_refuses_mismatched_clients_and_non_json(server, unique):
    with pytest.raises(TypeError, match="AsyncClient"):
        @plancache.cached(plancache.Client(server.url))
        async def a(goal):
            return goal

    with pytest.raises(TypeError, match="Client"):
        @plancache.cached(plancache.AsyncClient(server.url))
        def b(goal):
            return goal

    @plancache.cached(server.url)
    def c(thing):
        return 1
    with pytest.raises(TypeError, match="key="):
        c(object())


def test_decorator_default_client_reads_plancache_url(server, unique, monkeypatch):
    monkeypatch.setenv("PLANCACHE_URL", server.url)

    @plancache.cached()
    def f(x):
        return {"x": x}
    goal_x = unique()
    assert f(goal_x) == {"x": goal_x}
    assert plancache.Client(server.url).lookup(
        "%s.%s" % (f.__module__, f.__qualname__), context={"x": goal_x}).plan == {"x": goal_x}


def test_get_or_compute_fails_open_without_a_server(closed_port):
    client = plancache.Client("http://127.0.0.1:%d" % closed_port, timeout_s=2)
    assert client.get_or_compute("g", lambda: "computed here") == "computed here"
    assert client.fail_open_count == 1


def test_get_or_compute_checks_its_bounds(server):
    client = plancache.Client(server.url)
    with pytest.raises(ValueError, match="lease_s"):
        client.get_or_compute("g", lambda: 1, lease_s=0)
    with pytest.raises(ValueError, match="wait_s"):
        client.get_or_compute("g", lambda: 1, wait_s=100)

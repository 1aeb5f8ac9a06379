"""plancache.Client against a real `plancache serve`: every method, errors,
fail-open, keep-alive pooling, Server-Sent Events."""

import logging
import os
import pydoc
import threading
import time

import pytest

import plancache
from plancache import (AuthError, Client, Event, Hit, InvalidArgumentError, PlancacheError,
                       PlanResult, UnavailableError, key_for)


@pytest.fixture
def client(server):
    with Client(server.url) as c:
        yield c


def planner_calls(server):
    return server.raw_stats()["planning"]["planner_calls"]


# ---- the package itself -------------------------------------------------------

def test_package_is_typed_and_documented():
    root = os.path.dirname(plancache.__file__)
    assert os.path.isfile(os.path.join(root, "py.typed"))
    text = pydoc.render_doc(plancache.Client, renderer=pydoc.plaintext)
    for name in ("lookup", "put", "plan_stream", "get_or_compute", "fail_open", "entry_put",
                 "checkpoint_save"):
        assert name in text
    for obj in (plancache.Client.lookup, plancache.AsyncClient.plan_stream, plancache.key_for,
                plancache.compat.PlanCache, plancache.PlancacheError, plancache.Hit):
        assert obj.__doc__ and obj.__doc__.strip()
    assert plancache.Client.lookup.__annotations__["return"]


# ---- plans --------------------------------------------------------------------

def test_put_then_lookup_returns_a_typed_hit(client, unique):
    goal = unique("Deploy  the web app")
    put = client.put(goal, {"tasks": ["build", "ship"]}, context={"env": "prod"}, ttl_s=600,
                     tags=["webapp", "t2"], compute_ms=42)
    assert put.stored and put.namespace == "default"
    assert put.key == key_for(goal, {"env": "prod"})
    hit = client.lookup(" ".join(goal.split()), context={"env": "prod"})
    assert isinstance(hit, Hit)
    assert hit.plan == {"tasks": ["build", "ship"]}
    assert (hit.key, hit.namespace, hit.tier) == (put.key, "default", "l1")
    assert hit.compute_ms == 42 and sorted(hit.tags) == ["t2", "webapp"]
    assert hit.expires_ms - hit.created_ms == 600_000
    assert 0 <= hit.age_s < 60 and 0 < hit.ttl_remaining_s <= 600


def test_lookup_miss_is_none_and_context_matters(client, unique):
    goal = unique()
    assert client.lookup(goal) is None
    client.put(goal, [1], context={"a": 1, "b": 2.0})
    assert client.lookup(goal, context={"b": 2, "a": 1}).plan == [1]  # canonical context
    assert client.lookup(goal, context={"a": 2}) is None
    assert client.lookup(goal) is None
    assert client.lookup(goal, context={"a": 1, "b": 2}, namespace="docs") is None


def test_put_options_ttl_zero_namespace_and_min_compute(client, unique):
    goal = unique()
    client.put(goal, "forever", ttl_s=0, namespace="docs")
    hit = client.lookup(goal, namespace="docs")
    assert hit.plan == "forever" and hit.expires_ms is None and hit.ttl_remaining_s is None
    # The lane "slowlane" keeps only plans that cost >= 1000 ms.
    cheap = client.put(goal, {"p": 1}, namespace="slowlane", compute_ms=5)
    assert not cheap.stored and cheap.reason
    assert client.lookup(goal, namespace="slowlane") is None
    assert client.put(goal, {"p": 1}, namespace="slowlane", compute_ms=1500).stored
    assert client.lookup(goal, namespace="slowlane").compute_ms == 1500


def test_delete(client, unique):
    goal = unique()
    client.put(goal, {"x": 1}, context=[1, 2])
    assert client.delete(goal, context=[1, 2]) is True
    assert client.lookup(goal, context=[1, 2]) is None
    assert client.delete(goal, context=[1, 2]) is False


def test_plan_read_through_then_hit(client, server, unique):
    goal = unique("Migrate the billing database")
    first = client.plan(goal, context={"env": "staging"})
    assert isinstance(first, PlanResult)
    assert first.cached is False and first.tier is None and first.stale is False
    assert first.plan["goal"] == goal and first.plan["planner"] == "example"
    assert first.compute_ms >= 50
    assert first.key == key_for(goal, {"env": "staging"})
    second = client.plan(goal + "  ", context={"env": "staging"})
    assert (second.cached, second.tier, second.plan) == (True, "l1", first.plan)
    assert client.lookup(goal, context={"env": "staging"}).plan == first.plan


def test_plan_concurrent_callers_share_one_planner_run(client, server, unique):
    goal = unique("shared")
    before = planner_calls(server)
    barrier = threading.Barrier(6)
    results = []

    def ask():
        barrier.wait()
        results.append(client.plan(goal))
    threads = [threading.Thread(target=ask) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(results) == 6
    assert planner_calls(server) - before == 1
    assert len({repr(r.plan) for r in results}) == 1
    assert sum(1 for r in results if not r.cached and not r.coalesced) == 1


def test_plan_stream_miss_then_hit(client, unique):
    goal = unique("Rotate the TLS certificates")
    events = list(client.plan_stream(goal))
    assert all(isinstance(e, Event) for e in events)
    assert [e.event for e in events] == ["status", "status", "plan", "done"]
    assert [e.data for e in events[:2]] == [{"step": "lookup"}, {"step": "planning"}]
    assert events[2].data["cached"] is False and events[2].data["key"] == key_for(goal)
    assert events[3].data["cached"] is False
    again = [(event, data) for event, data in client.plan_stream(goal)]  # unpacks as pairs
    assert again[1] == ("status", {"step": "plan_from_cache"})
    assert again[2][1]["plan"] == events[2].data["plan"] and again[2][1]["tier"] == "l1"
    assert again[3][1]["cached"] is True


def test_plan_stream_planner_failure_raises_server_error(client, unique):
    goal = unique()
    with pytest.raises(PlancacheError) as err:
        for _ in client.plan_stream(goal, namespace="broken"):
            pass
    assert err.value.code == "bad_gateway"
    with pytest.raises(PlancacheError) as err:
        client.plan(goal, namespace="broken")
    assert (err.value.status, err.value.code) == (502, "bad_gateway")
    assert "fail" in err.value.message
    assert client.lookup(goal, namespace="broken") is None  # nothing cached


def test_plan_stream_breaking_off_early_keeps_client_usable(client, unique):
    for event in client.plan_stream(unique()):
        assert event.event == "status"
        break
    assert client.lookup(unique()) is None


def test_plan_without_planner_is_unavailable(fresh_server, unique):
    s = fresh_server(planner=False)
    with Client(s.url) as c:
        with pytest.raises(UnavailableError) as err:
            c.plan(unique())
        assert (err.value.status, err.value.code) == (503, "unavailable")
        with pytest.raises(UnavailableError):
            list(c.plan_stream(unique()))


# ---- get_or_compute -----------------------------------------------------------

def test_get_or_compute_computes_once_and_stores_compute_time(client, unique):
    goal = unique()
    calls = []

    def compute():
        calls.append(1)
        time.sleep(0.03)
        return {"tasks": ["a"]}
    assert client.get_or_compute(goal, compute, context={"c": 1}, ttl_s=100, tags=["g"]) == \
        {"tasks": ["a"]}
    assert client.get_or_compute(goal, compute, context={"c": 1}) == {"tasks": ["a"]}
    assert len(calls) == 1
    hit = client.lookup(goal, context={"c": 1})
    assert hit.compute_ms >= 30 and hit.tags == ["g"]
    assert hit.expires_ms - hit.created_ms == 100_000
    assert client.fail_open_count == 0


def test_get_or_compute_exception_propagates_and_nothing_is_stored(client, unique):
    goal = unique()

    def boom():
        raise KeyError("planner crashed")
    with pytest.raises(KeyError):
        client.get_or_compute(goal, boom)
    assert client.lookup(goal) is None


# ---- invalidation and administration --------------------------------------------

def test_invalidate_by_tag_prefix_pattern_namespace_age(client, unique, poll):
    tag = unique("tag").replace(" ", "-")
    g1, g2, g3 = unique(), unique(), unique()
    client.put(g1, 1, tags=[tag])
    client.put(g2, 2, tags=[tag], namespace="docs")
    client.put(g3, 3, tags=["other"])
    assert client.invalidate(tag=tag, namespace="docs") == 1
    assert client.lookup(g2, namespace="docs") is None and client.lookup(g1) is not None
    assert client.invalidate(tag=tag) == 1
    assert client.lookup(g1) is None and client.lookup(g3).plan == 3

    ns = "inv" + unique("").strip().replace(" ", "")
    for key in ("workflow:a", "workflow:b", "deploy:c", "deploy:d", "other"):
        client.entry_put(ns, key, {"k": key})
    assert client.invalidate(prefix="workflow:", namespace=ns) == 2
    assert client.invalidate(pattern="dep*:[c]", namespace=ns) == 1
    assert client.entries(ns).keys() == ["deploy:d", "other"]
    assert poll(lambda: client.invalidate(older_than_s=0, prefix="deploy:", namespace=ns),
                "deploy:d to be older than now") == 1
    assert client.invalidate(namespace=ns) == 1
    assert client.entries(ns).entries == []


def test_invalidate_bad_selectors_raise_server_code(client):
    with pytest.raises(InvalidArgumentError) as err:
        client.invalidate()
    assert (err.value.status, err.value.code) == (400, "invalid_argument")
    assert "at least one" in err.value.message
    with pytest.raises(InvalidArgumentError):
        client.invalidate(pattern="[a", namespace="docs")


def test_clear_and_evict(fresh_server):
    s = fresh_server()
    with Client(s.url) as c:
        for i in range(10):
            c.put("goal %d" % i, i, namespace="docs")
            c.put("goal %d" % i, i)
        assert c.clear("docs") == 10
        assert c.lookup("goal 1", namespace="docs") is None and c.lookup("goal 1").plan == 1
        evicted = c.evict(fraction=1.0)
        assert evicted == 10
        assert c.lookup("goal 1") is None
        c.put("again", 1)
        assert c.evict() >= 0  # default fraction (0.1 of 1 entry)
        c.put("again 2", 1, namespace="heavy")
        assert c.clear() >= 1
        assert c.lookup("again 2", namespace="heavy") is None


def test_stats(client, unique):
    client.lookup(unique())
    stats = client.stats()
    for field in ("l1_size", "l1_max_size", "l1_hits", "l1_misses", "l1_hit_rate",
                  "l2_connected", "shared_connected", "tiers", "namespaces", "cache", "http"):
        assert field in stats
    assert stats["l2_connected"] is False  # --data-dir ''
    assert stats["http"]["requests"]["plans_lookup"]["404"] >= 1
    assert client.ready() is True


# ---- generic store -------------------------------------------------------------

def test_entries_put_get_list_delete(client, unique):
    ns = "wf"
    key = unique("workflow:standard:step_5/ü ?&=")
    assert client.entry_get(ns, key) is None
    client.entry_put(ns, key, {"state": [1, 2]}, ttl_s=120, tags=["run-1"])
    entry = client.entry_get(ns, key)
    assert entry.value == {"state": [1, 2]} and entry.raw == b'{"state":[1,2]}'
    assert (entry.namespace, entry.key, entry.tier) == (ns, key, "l1")
    assert entry.expires_ms - entry.created_ms == 120_000 and 0 <= entry.age_s < 60
    client.entry_put(ns, key + "/2", "forever", ttl_s=0)
    assert client.entry_get(ns, key + "/2").expires_ms is None
    listing = client.entries(ns, prefix=key)
    assert listing.keys() == [key, key + "/2"] and not listing.truncated
    assert listing.entries[0].tags == ["run-1"] and listing.entries[0].bytes == 15
    assert listing.now_ms >= listing.entries[0].created_ms
    short = client.entries(ns, prefix=key, limit=1)
    assert short.keys() == [key] and short.truncated
    assert client.entry_delete(ns, key) is True
    assert client.entry_delete(ns, key) is False
    assert client.entries(ns, prefix=key).keys() == [key + "/2"]


def test_entries_bad_input_raises_server_code(client):
    with pytest.raises(InvalidArgumentError) as err:
        client.entry_put("wf", "k" * 513, 1)
    assert err.value.code == "invalid_argument" and err.value.status == 400
    with pytest.raises(InvalidArgumentError):
        client.entries("wf", limit=0)
    with pytest.raises(InvalidArgumentError):
        client.entry_get("../x", "k")


# ---- checkpoints --------------------------------------------------------------

def test_checkpoints(client, unique, poll):
    cid = unique("deploy:step").replace(" ", "_")
    assert client.checkpoint_restore(cid) is None
    client.checkpoint_save(cid, {"step": 5, "done": ["a", "b"]})
    assert client.checkpoint_restore(cid) == {"step": 5, "done": ["a", "b"]}
    listing = client.checkpoints()
    assert cid in listing.keys()
    row = [e for e in listing.entries if e.key == cid][0]
    assert row.expires_ms is None  # the checkpoints preset never expires
    assert client.checkpoint_cleanup(1) == 0  # nothing is a day old
    assert client.checkpoint_restore(cid) is not None
    poll(lambda: client.checkpoint_cleanup(0) >= 1, "checkpoint_cleanup(0) to remove it")
    assert client.checkpoint_restore(cid) is None
    with pytest.raises(ValueError):
        client.checkpoint_cleanup(-1)


# ---- errors --------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, needle", [
    ({"goal": ""}, "goal"),
    ({"goal": "   "}, "goal"),
    ({"goal": "x", "namespace": "../x"}, "namespace"),
    ({"goal": "x", "namespace": "a" * 65}, "namespace"),
    ({"goal": 5}, "goal"),
])
def test_bad_input_raises_the_servers_error(client, kwargs, needle):
    for call in (client.lookup, client.plan, client.delete):
        with pytest.raises(InvalidArgumentError) as err:
            call(**kwargs)
        assert (err.value.status, err.value.code) == (400, "invalid_argument")
        assert needle in err.value.message
        assert needle in str(err.value) and "HTTP 400" in str(err.value)


def test_put_bad_ttl_and_tags(client, unique):
    with pytest.raises(InvalidArgumentError):
        client.put(unique(), 1, ttl_s=-1)
    with pytest.raises(InvalidArgumentError):
        client.put(unique(), 1, tags=[""])


def test_tokens(fresh_server, unique):
    s = fresh_server("--api-token", "api-secret", "--admin-token", "admin-secret")
    s.token = "admin-secret"
    with Client(s.url) as anonymous:
        with pytest.raises(AuthError) as err:
            anonymous.stats()
        assert (err.value.status, err.value.code) == (401, "unauthenticated")
        # fail-open never hides a 4xx
        with pytest.raises(AuthError):
            anonymous.lookup(unique())
    with Client(s.url, api_token="wrong") as wrong:
        with pytest.raises(AuthError) as err:
            wrong.stats()
        assert (err.value.status, err.value.code) == (403, "permission_denied")
    with Client(s.url, api_token="api-secret") as api:
        api.put("g", 1)
        assert api.lookup("g").plan == 1
        with pytest.raises(AuthError) as err:
            api.clear()
        assert err.value.status == 403
    with Client(s.url, api_token="api-secret", admin_token="admin-secret") as both:
        assert both.clear() == 1
    with Client(s.url, admin_token="admin-secret") as admin_only:
        assert admin_only.stats()["l1_size"] == 0 and admin_only.evict() == 0


# ---- fail-open ------------------------------------------------------------------

def test_fail_open_with_the_server_down(closed_port, caplog):
    c = Client("http://127.0.0.1:%d" % closed_port, timeout_s=2)
    caplog.set_level(logging.WARNING, logger="plancache")
    assert c.lookup("anything") is None
    assert c.fail_open_count == 1
    assert any(r.name == "plancache" and "failed open" in r.getMessage() for r in caplog.records)
    calls = []
    assert c.get_or_compute("anything", lambda: calls.append(1) or {"plan": 1}) == {"plan": 1}
    assert calls == [1] and c.fail_open_count == 2
    with pytest.raises(UnavailableError) as err:
        c.put("anything", 1)
    assert err.value.status is None and err.value.code == "unavailable"
    assert "cannot reach" in err.value.message
    with pytest.raises(UnavailableError):
        c.stats()
    assert c.fail_open_count == 2


def test_fail_open_false_raises(closed_port):
    c = Client("http://127.0.0.1:%d" % closed_port, fail_open=False)
    with pytest.raises(UnavailableError):
        c.lookup("x")
    with pytest.raises(UnavailableError):
        c.get_or_compute("x", lambda: 1)
    assert c.fail_open_count == 0


def test_timeout_on_a_silent_server(silent_port):
    c = Client("http://127.0.0.1:%d" % silent_port, timeout_s=0.3)
    start = time.monotonic()
    assert c.lookup("x") is None and c.fail_open_count == 1
    strict = Client("http://127.0.0.1:%d" % silent_port, timeout_s=0.3, fail_open=False)
    with pytest.raises(UnavailableError) as err:
        strict.lookup("x")
    assert err.value.code == "deadline_exceeded"
    assert time.monotonic() - start < 5


def test_fail_open_recovers_when_the_server_is_back(fresh_server):
    s = fresh_server()
    c = Client(s.url)
    c.put("g", 1)
    s.stop()
    assert c.lookup("g") is None and c.fail_open_count == 1
    s2 = fresh_server()
    c2 = Client(s2.url)
    c2.put("g", 2)
    assert c2.lookup("g").plan == 2


# ---- connections ----------------------------------------------------------------

def test_keep_alive_reuses_one_connection(fresh_server):
    s = fresh_server()
    before = s.raw_stats()["http"]["accepted_connections"]
    with Client(s.url) as c:
        for i in range(30):
            c.put("g%d" % i, i)
            assert c.lookup("g%d" % i).plan == i
        # the raw_stats() calls each open one connection of their own
        assert s.raw_stats()["http"]["accepted_connections"] - before == 2


def test_pool_is_thread_safe_and_bounded(fresh_server):
    s = fresh_server()
    before = s.raw_stats()["http"]["accepted_connections"]
    errors = []
    with Client(s.url, pool_size=4) as c:
        def worker(n):
            try:
                for i in range(40):
                    c.put("t%d-%d" % (n, i), [n, i])
                    assert c.lookup("t%d-%d" % (n, i)).plan == [n, i]
            except Exception as e:  # noqa: BLE001 - reported below
                errors.append(e)
        threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert errors == []
        assert len(c._idle) <= 4
    assert s.raw_stats()["http"]["accepted_connections"] - before <= 4 + 1


def test_a_connection_the_server_closed_is_retried(fresh_server, poll):
    s = fresh_server("--idle-timeout-ms", "100")
    with Client(s.url) as c:
        c.put("g", 1)
        # Wait until the server has closed the client's idle connection.
        poll(lambda: s.raw_stats()["http"]["open_connections"] == 1,
             "the server to close the idle connection")
        assert c.lookup("g").plan == 1
        assert c.fail_open_count == 0


def test_bad_url_is_refused():
    with pytest.raises(ValueError):
        Client("ftp://example.com")
    with pytest.raises(ValueError):
        Client("http://127.0.0.1:1", timeout_s=0)

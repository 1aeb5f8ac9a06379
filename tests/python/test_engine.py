"""plancache.Engine: the C++ library in-process (pybind11 extension plancache._engine).

Orderings between threads are forced, never slept for: a compute blocks on an
Event until the engine's own stats say every other caller is waiting on it
(`waiting`), polled against a deadline.
"""

import gc
import importlib.util
import json
import os
import threading
import traceback
import weakref

import pytest

import plancache
from plancache import Engine, EngineError
from plancache.keys import key_for as python_key_for

HERE = os.path.dirname(os.path.abspath(__file__))
THREADS = 8
TIMEOUT_S = 15.0


def _key_vectors():
    """test_key_for.py: the golden vectors of the C++ tests and the server cases."""
    spec = importlib.util.spec_from_file_location("plancache_key_vectors",
                                                  os.path.join(HERE, "test_key_for.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def engine():
    e = Engine()
    yield e
    e.close()


class Flight:
    """N threads calling get_or_compute for one key; the compute blocks until released."""

    def __init__(self, engine, goal, threads=THREADS, result=None, error=None):
        self.engine, self.goal, self.threads = engine, goal, threads
        self.result, self.error = result, error
        self.entered, self.release = threading.Event(), threading.Event()
        self.runs = 0
        self.outcomes = [None] * threads
        self._threads = [threading.Thread(target=self._call, args=(i,)) for i in range(threads)]

    def compute(self):
        self.runs += 1
        self.entered.set()
        assert self.release.wait(TIMEOUT_S), "never released"
        if self.error is not None:
            raise self.error
        return self.result

    def _call(self, i):
        try:
            self.outcomes[i] = ("value", self.engine.get_or_compute(self.goal, self.compute))
        except BaseException as e:  # noqa: BLE001 - compared by the test
            self.outcomes[i] = ("raised", e)

    def run(self, poll):
        for t in self._threads:
            t.start()
        assert self.entered.wait(TIMEOUT_S), "no compute started"
        # Every other caller is waiting on the running compute (not yet answered).
        poll(lambda: self.engine.stats()["waiting"] == self.threads - 1,
             "%d callers waiting on the compute" % (self.threads - 1))
        assert self.runs == 1
        self.release.set()
        for t in self._threads:
            t.join(TIMEOUT_S)
            assert not t.is_alive()
        return self.outcomes


# -- values -------------------------------------------------------------------

@pytest.mark.parametrize("value", [
    {"plan": ["a", "b"], "n": 1.5, "nested": {"é": None}},
    ["a", 1, True],
    "a plain string",
    "",
    0,
    False,
    b"raw bytes",
    b"",
    b"\x00starts with the marker byte",
    b'{"looks": "like json"}',
])
def test_a_get_returns_what_was_put(engine, value):
    assert engine.put("roundtrip", value, {"case": repr(value)})
    got = engine.get("roundtrip", {"case": repr(value)})
    assert got == value
    assert type(got) is type(value)


def test_bytes_like_values_come_back_as_bytes_and_tuples_as_lists(engine):
    engine.put("bytearray", bytearray(b"ab\x00c"))
    engine.put("memoryview", memoryview(b"xyz"))
    engine.put("tuple", (1, "two"))
    assert engine.get("bytearray") == b"ab\x00c" and type(engine.get("bytearray")) is bytes
    assert engine.get("memoryview") == b"xyz"
    assert engine.get("tuple") == [1, "two"]


def test_json_null_is_told_from_a_miss_by_lookup(engine):
    engine.put("null plan", None)
    assert engine.get("null plan") is None
    hit = engine.lookup("null plan")
    assert hit is not None and hit.value is None and hit.tier == "l1"
    assert engine.lookup("never stored") is None


def test_values_json_cannot_hold_raise_and_store_nothing(engine):
    with pytest.raises(TypeError):
        engine.put("bad", object())
    with pytest.raises(ValueError):
        engine.put("bad", float("nan"))
    assert engine.lookup("bad") is None


def test_lookup_metadata_ttl_and_tags(engine):
    engine.put("meta", {"x": 1}, ttl_s=90, tags=["t1", "t2"], compute_ms=12)
    hit = engine.lookup("meta")
    assert hit.expires_ms - hit.created_ms == 90_000
    assert hit.tags == ["t1", "t2"] and hit.compute_ms == 12
    engine.put("forever", 1, ttl_s=0)
    assert engine.lookup("forever").expires_ms is None
    engine.put("default ttl", 1)
    hit = engine.lookup("default ttl")
    assert hit.expires_ms - hit.created_ms == 3_600_000


def test_goal_normalisation_and_namespaces(engine):
    engine.put("  Deploy   the\tapp ", "v", {"env": "prod"})
    assert engine.get("Deploy the app", {"env": "prod"}) == "v"
    assert engine.get("Deploy the app".encode(), {"env": "prod"}) == "v"  # a bytes goal
    assert engine.get("Deploy the app", {"env": "dev"}) is None
    assert engine.get("Deploy the app", {"env": "prod"}, namespace="docs") is None
    assert engine.delete("Deploy the app", {"env": "prod"}) is True
    assert engine.delete("Deploy the app", {"env": "prod"}) is False


# -- the key builder ----------------------------------------------------------

def test_key_for_equals_the_python_key_builder_on_the_golden_vectors(engine):
    vectors = _key_vectors()
    rows = vectors.cpp_golden_vectors(os.path.dirname(os.path.dirname(HERE)))
    assert len(rows) >= 3
    fast = Engine(hash="xxh3-128")
    try:
        for v in rows:
            context = json.loads(v["context"]) if v["context"] else None
            ns, goal = v["ns"].decode(), v["goal"].decode("utf-8")
            assert engine.key_for(goal, context, ns) == v["sha256"].decode()
            assert engine.key_for(goal, context, ns) == python_key_for(goal, context, ns)
            assert engine.key_for(v["goal"], context, ns) == v["sha256"].decode()
            assert fast.key_for(goal, context, ns) == v["xxh3_128"].decode()
    finally:
        fast.close()


def test_key_for_equals_the_python_key_builder_on_the_server_cases(engine):
    for goal, context, namespace in _key_vectors().CASES:
        assert engine.key_for(goal, context, namespace) == python_key_for(goal, context, namespace)


def test_bad_keys_raise_value_error(engine):
    for goal in ("", "   \t", "a\x00b", "lone \ud800 surrogate", b"\xff bad"):
        with pytest.raises(ValueError):
            engine.key_for(goal)
        with pytest.raises(ValueError):
            engine.get(goal)
    for ns in ("", "../x", "a/b", ".hidden", "a" * 65):
        with pytest.raises(ValueError):
            engine.put("x", 1, namespace=ns)
    with pytest.raises(ValueError):
        engine.key_for("x", float("inf"))
    with pytest.raises(TypeError):
        engine.get(42)


def test_ignored_fields_drop_context_members():
    with Engine(ignored_fields=["request_id"]) as e:
        e.put("goal", "v", {"a": 1, "request_id": "r1"})
        assert e.get("goal", {"a": 1, "request_id": "r2"}) == "v"
        assert e.key_for("goal", {"a": 1, "request_id": "r3"}) == python_key_for("goal", {"a": 1})


# -- read-through: single-flight across threads -------------------------------

def test_threads_asking_for_one_missing_key_share_one_compute(engine, poll):
    plan = {"tasks": ["plan", "build", "ship"]}
    outcomes = Flight(engine, "one key, many threads", result=plan).run(poll)
    assert outcomes == [("value", plan)] * THREADS
    stats = engine.stats()
    assert stats["computes"] == 1
    assert stats["coalesced"] == THREADS - 1
    assert stats["waiting"] == 0 and stats["inflight"] == 0
    assert engine.get("one key, many threads") == plan  # stored once, for everyone


def test_get_or_compute_hit_does_not_compute(engine):
    engine.put("cached", [1])
    assert engine.get_or_compute("cached", lambda: pytest.fail("computed")) == [1]


def test_get_or_compute_options_reach_the_entry(engine):
    engine.get_or_compute("opts", lambda: b"bin", {"c": 1}, ttl_s=5, tags=["rt"],
                          namespace="heavy")
    hit = engine.lookup("opts", {"c": 1}, namespace="heavy")
    assert hit.value == b"bin" and hit.tags == ["rt"]
    assert hit.expires_ms - hit.created_ms == 5_000
    assert engine.invalidate(tag="rt") == 1


# -- read-through: exceptions --------------------------------------------------

class PlannerFailed(Exception):
    pass


def failing_planner():
    raise PlannerFailed("the planner is down (code 7)")


def test_the_compute_exception_reaches_the_caller_and_nothing_is_cached(engine):
    with pytest.raises(PlannerFailed) as raised:
        engine.get_or_compute("flaky", failing_planner)
    assert type(raised.value) is PlannerFailed
    assert str(raised.value) == "the planner is down (code 7)"
    frames = [f.name for f in traceback.extract_tb(raised.value.__traceback__)]
    assert "failing_planner" in frames  # the compute's own traceback
    assert engine.lookup("flaky") is None
    stats = engine.stats()
    assert stats["computes"] == 1 and stats["compute_errors"] == 1
    # The next call computes again, and this time it is stored.
    runs = []
    assert engine.get_or_compute("flaky", lambda: runs.append(1) or "ok") == "ok"
    assert runs == [1] and engine.get("flaky") == "ok"
    assert engine.stats()["computes"] == 2


def test_threads_waiting_on_a_failing_compute_get_the_same_exception(engine, poll):
    error = PlannerFailed("failed for everyone")
    outcomes = Flight(engine, "fails for all", error=error).run(poll)
    for kind, got in outcomes:
        assert kind == "raised"
        assert got is error  # the very object the compute raised
    assert engine.lookup("fails for all") is None
    assert engine.stats()["computes"] == 1
    runs = []
    assert engine.get_or_compute("fails for all", lambda: runs.append(1) or 5) == 5
    assert runs == [1]


def test_the_engine_keeps_no_exception_once_its_callers_have_raised_it(engine):
    class Gone(Exception):
        pass
    refs = []

    def compute():
        error = Gone("gone")
        refs.append(weakref.ref(error))
        raise error
    for _ in range(3):
        with pytest.raises(Gone):
            engine.get_or_compute("gone", compute)
    gc.collect()
    assert len(refs) == 3 and all(ref() is None for ref in refs)


def interrupted():
    raise KeyboardInterrupt


def test_base_exceptions_and_unstorable_results_fail_the_flight(engine):
    with pytest.raises(KeyboardInterrupt):
        engine.get_or_compute("interrupted", interrupted)
    with pytest.raises(TypeError):
        engine.get_or_compute("not json", lambda: {"x": object()})
    assert engine.lookup("interrupted") is None and engine.lookup("not json") is None
    assert engine.get_or_compute("not json", lambda: {"x": 1}) == {"x": 1}


def test_a_compute_may_use_its_engine_for_other_keys(engine):
    engine.put("inner", 41)
    assert engine.get_or_compute("outer", lambda: engine.get("inner") + 1) == 42


# -- the disk tier --------------------------------------------------------------

def test_the_disk_tier_serves_after_the_engine_is_closed_and_reopened(tmp_path):
    path = str(tmp_path / "store")
    with Engine(disk_dir=path) as first:
        first.put("persisted plan", {"tasks": [1, 2, 3]}, {"v": 1}, ttl_s=0, tags=["keep"])
        first.entry_put("workflow", "workflow:step_5", b"\x00\x01 raw")
    second = Engine(disk_dir=path)
    hit = second.lookup("persisted plan", {"v": 1})
    assert hit is not None and hit.tier == "l2"
    assert hit.value == {"tasks": [1, 2, 3]} and hit.tags == ["keep"]
    assert second.lookup("persisted plan", {"v": 1}).tier == "l1"  # promoted on the hit
    assert second.entry_get("workflow", "workflow:step_5") == b"\x00\x01 raw"
    # Dropping the last reference closes it too.
    del second
    gc.collect()
    with Engine(disk_dir=path) as third:
        assert third.get("persisted plan", {"v": 1}) == {"tasks": [1, 2, 3]}
        assert third.stats()["tiers"][1]["name"] == "l2"


def test_one_engine_at_a_time_on_a_directory(tmp_path):
    with Engine(disk_dir=str(tmp_path)):
        with pytest.raises(EngineError) as err:
            Engine(disk_dir=str(tmp_path))
        assert err.value.code == "failed_precondition"
        assert str(tmp_path) in err.value.message


# -- lanes ------------------------------------------------------------------------

def test_lanes_have_their_own_memory_bounds_and_tiers(tmp_path):
    lanes = {
        "tiny": {"max_entries": 64, "eviction": "lru"},
        "diskonly": {"tiers": ["l2"], "default_ttl_s": 60},
        "slow": {"min_compute_ms": 60_000},
        "docs": {"default_ttl_s": 10},
    }
    with Engine(disk_dir=str(tmp_path), lanes=lanes) as e:
        for i in range(200):
            e.put("goal %d" % i, i, namespace="tiny")
        row = [t for t in e.stats()["tiers"] if t["name"] == "l1"][0]["namespaces"]["tiny"]
        assert 0 < row["entries"] <= 64
        e.put("d", "v", namespace="diskonly")
        hit = e.lookup("d", namespace="diskonly")
        assert hit.tier == "l2" and e.lookup("d", namespace="diskonly").tier == "l2"
        assert hit.expires_ms - hit.created_ms == 60_000
        e.put("p", "v", namespace="docs")
        hit = e.lookup("p", namespace="docs")
        assert hit.expires_ms - hit.created_ms == 10_000
        # min_compute_ms: a quick plan is answered but not kept.
        assert e.put("s", "v", namespace="slow", compute_ms=5) is False
        assert e.get("s", namespace="slow") is None
        assert e.get_or_compute("s", lambda: "quick", namespace="slow") == "quick"
        assert e.get("s", namespace="slow") is None


@pytest.mark.parametrize("lanes, error", [
    ({"x": {"max_entries": -1}}, ValueError),
    ({"x": {"max_entries": "10"}}, TypeError),
    ({"x": {"tiers": ["shared"]}}, ValueError),
    ({"x": {"tiers": []}}, TypeError),
    ({"x": {"eviction": "fifo"}}, ValueError),
    ({"x": {"persistent": False}}, ValueError),
    ({"../bad": {"max_entries": 1}}, ValueError),
])
def test_bad_lane_tables_name_the_problem(lanes, error):
    with pytest.raises(error) as raised:
        Engine(lanes=lanes)
    assert next(iter(lanes)) in str(raised.value)


# -- invalidation, the generic store, stats ----------------------------------------

def test_invalidate_by_tag_namespace_prefix_and_pattern(engine):
    engine.put("a", 1, tags=["red"])
    engine.put("b", 2, tags=["blue"])
    engine.put("c", 3, namespace="docs")
    for key in ("workflow:standard:step_1", "workflow:standard:step_2", "report:1"):
        engine.entry_put("standard", key, key)
    assert engine.invalidate(tag="red") == 1
    assert engine.get("a") is None and engine.get("b") == 2
    assert engine.invalidate(namespace="docs") == 1 and engine.get("c", namespace="docs") is None
    assert engine.invalidate(prefix="workflow:standard:step_1") == 1
    assert engine.invalidate(pattern="workflow:*") == 1
    assert engine.entry_get("standard", "report:1") == "report:1"
    assert engine.invalidate(older_than_s=3600) == 0  # nothing is that old
    with pytest.raises(ValueError):
        engine.invalidate()
    assert engine.clear() == 2  # "b" and "report:1"
    assert engine.get("b") is None


def test_the_generic_store(engine):
    assert engine.entry_get("standard", "k") is None
    assert engine.entry_get_or_compute("standard", "k", lambda: {"v": 1}) == {"v": 1}
    assert engine.entry_lookup("standard", "k").value == {"v": 1}
    assert engine.entry_delete("standard", "k") is True
    for bad in ("", "a\nb", "x" * 513):
        with pytest.raises(ValueError):
            engine.entry_put("standard", bad, 1)


def test_stats_and_limits():
    with Engine(max_value_bytes=100, memory_max_entries=1000) as e:
        e.put("small", "x" * 10)
        with pytest.raises(EngineError) as err:
            e.put("big", "x" * 200)
        assert err.value.code == "resource_exhausted"
        e.get("small")
        e.get("missing")
        s = e.stats()
        assert s["gets"] == 2 and s["hits"] == 1 and s["misses"] == 1 and s["hit_rate"] == 0.5
        assert [t["name"] for t in s["tiers"]] == ["l1"]
        assert s["tiers"][0]["namespaces"]["default"]["entries"] == 1
        assert s["get_latency"]["count"] == 2


# -- closing ------------------------------------------------------------------------

def test_a_closed_engine_refuses_calls(engine):
    engine.close()
    engine.close()  # idempotent
    assert engine.closed
    with pytest.raises(EngineError) as err:
        engine.get("x")
    assert err.value.code == "failed_precondition"


def test_close_waits_for_a_running_compute(engine, poll):
    entered, release = threading.Event(), threading.Event()
    got = []

    def compute():
        entered.set()
        assert release.wait(TIMEOUT_S)
        return "done"

    caller = threading.Thread(target=lambda: got.append(engine.get_or_compute("slow", compute)))
    caller.start()
    assert entered.wait(TIMEOUT_S)
    closer = threading.Thread(target=engine.close)
    closer.start()
    poll(lambda: engine.closed, "close() to start")
    with pytest.raises(EngineError):
        engine.get("other")  # no new call once closing
    assert closer.is_alive()  # still waiting for the compute's call
    release.set()
    caller.join(TIMEOUT_S)
    closer.join(TIMEOUT_S)
    assert got == ["done"] and not closer.is_alive()


def test_close_from_inside_a_compute_is_refused(engine):
    with pytest.raises(EngineError) as err:
        engine.get_or_compute("self-close", engine.close)
    assert "inside" in err.value.message
    assert not engine.closed


def test_the_engine_is_exported_and_documented():
    assert plancache.Engine is Engine and "Engine" in plancache.__all__
    assert "single-flight" in Engine.get_or_compute.__doc__.lower()
    assert "disk_dir" in Engine.__doc__

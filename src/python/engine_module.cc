// plancache._engine: the pybind11 module behind plancache.Engine
// (python/plancache/engine.py, which is the documented API; this module is
// private to it).
//
// Every method converts its arguments with the GIL held (views of the str
// and bytes objects, which stay alive and unchanged while the call runs),
// releases the GIL for the engine's work (the key builder, the tiers,
// waiting on another caller's compute), and takes it back to build the
// result or raise. A compute function is called with the GIL re-acquired on
// the leader's own thread; the exception it raises is kept (FlightErrors)
// and raised again, the same object, in each caller of that flight, and the
// flight fails, so nothing is cached.
//
// Keys: (ns, text, context) is a plan key when `context` is JSON text (the
// goal in `text`), a user key of the generic store when `context` is None.
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <utility>

#include "python/engine_core.h"
#include "python/flight_errors.h"
#include "python/py_values.h"

namespace plancache::internal {
namespace {

KeySource key_source(py::handle ns, py::handle text, py::handle context) {
  KeySource source;
  source.ns = text_arg(ns, "namespace");
  source.context = optional_text_arg(context, "context");
  source.text = text_arg(text, source.context ? "goal" : "key", /*bytes_ok=*/true);
  return source;
}

// The library's ComputeFn over a Python callable returning JSON text (str)
// or bytes. Runs on the leader's thread, which released the GIL.
ComputeFn python_compute(py::handle compute, const PutOptions& options, FlightErrors& errors,
                         const std::string& key) {
  return [compute, &options, &errors, &key]() -> Result<Computed> {
    py::gil_scoped_acquire gil;
    try {
      py::object made = py::reinterpret_borrow<py::object>(compute)();
      Computed computed;
      computed.value = encode_value(made);
      computed.options = options;
      return computed;
    } catch (py::error_already_set& e) {
      return errors.keep(key, std::move(e));
    }
  };
}

// Runs fn(call) -> Result<T> inside a call of `core`, with the GIL
// released; returns the Result (the call's own error when closed).
template <typename Fn>
auto try_released(EngineCore& core, Fn&& fn) -> decltype(fn(std::declval<EngineCore::Call&>())) {
  py::gil_scoped_release nogil;
  auto call = core.enter();
  if (!call.is_ok()) return call.status();
  return fn(*call);
}

// try_released(), raising the error; returns the T.
template <typename Fn>
auto released(EngineCore& core, Fn&& fn) {
  auto result = try_released(core, std::forward<Fn>(fn));
  if (!result.is_ok()) raise_status(result.status());
  return std::move(result).value();
}

// Whether the interpreter is shutting down (objects freed then must not
// release the GIL).
bool finalizing() {
#if PY_VERSION_HEX >= 0x030D0000
  return Py_IsFinalizing() != 0;
#else
  return _Py_IsFinalizing() != 0;
#endif
}

class NativeEngine {
 public:
  explicit NativeEngine(const EngineOptions& options) {
    auto core = [&] {
      py::gil_scoped_release nogil;
      return EngineCore::open(options);
    }();
    if (!core.is_ok()) raise_status(core.status());
    core_ = std::move(core).value();
  }

  ~NativeEngine() {
    if (finalizing()) {
      core_.reset();
      return;
    }
    py::gil_scoped_release nogil;  // RocksDB may flush while it closes
    core_.reset();
  }

  NativeEngine(const NativeEngine&) = delete;
  NativeEngine& operator=(const NativeEngine&) = delete;

  py::str key_for(py::handle ns, py::handle goal, py::handle context) {
    const KeySource source = key_source(ns, goal, context);
    const CacheKey key =
        released(*core_, [&](EngineCore::Call& call) { return EngineCore::key_of(call, source); });
    return py::str(key.id().data(), key.id().size());
  }

  py::object get(py::handle ns, py::handle text, py::handle context) {
    const EntryPtr entry = found(ns, text, context).entry;
    if (entry == nullptr) return py::none();
    return decode_value(*entry->value);
  }

  // (value, tier, created_ms, expires_ms, compute_ms, tags), or None.
  py::object lookup(py::handle ns, py::handle text, py::handle context) {
    const Lookup hit = found(ns, text, context);
    if (!hit.hit()) return py::none();
    const EntryMeta& meta = hit.entry->meta;
    py::list tags;
    for (const std::string& tag : meta.tags) tags.append(py::str(tag));
    return py::make_tuple(decode_value(*hit.entry->value), py::str(std::string(hit.tier)),
                          meta.created_ms, meta.expires_ms, meta.compute_ms, tags);
  }

  // False when the lane's min_compute_ms says the plan is not worth storing.
  bool put(py::handle ns, py::handle text, py::handle context, py::handle value, py::handle ttl_ms,
           py::handle tags, py::handle compute_ms) {
    const KeySource source = key_source(ns, text, context);
    BytesPtr bytes = encode_value(value);
    PutOptions options = put_options(ttl_ms, tags);
    const std::optional<int64_t> took = millis_arg(compute_ms, "compute_ms");
    options.compute_ms = static_cast<uint32_t>(std::min<int64_t>(took.value_or(0), UINT32_MAX));
    return released(*core_, [&](EngineCore::Call& call) -> Result<bool> {
      auto key = EngineCore::key_of(call, source);
      if (!key.is_ok()) return key.status();
      if (took && !call.parts().policies->get(key->ns()).worth_storing(*took)) return false;
      PLANCACHE_RETURN_IF_ERROR(call.cache().put(*key, std::move(bytes), options));
      return true;
    });
  }

  // (value, cached, coalesced).
  py::tuple get_or_compute(py::handle ns, py::handle text, py::handle context, py::handle compute,
                           py::handle ttl_ms, py::handle tags) {
    const KeySource source = key_source(ns, text, context);
    if (!PyCallable_Check(compute.ptr())) {
      throw py::type_error("compute must be callable");
    }
    const PutOptions options = put_options(ttl_ms, tags);
    std::optional<FlightErrors::Seat> seat;
    Result<ReadThrough> done =
        try_released(*core_, [&](EngineCore::Call& call) -> Result<ReadThrough> {
          auto key = EngineCore::key_of(call, source);
          if (!key.is_ok()) return key.status();
          seat.emplace(errors_, key->encoded());
          return call.cache().get_or_compute(
              *key, python_compute(compute, options, errors_, seat->key()));
        });
    if (!done.is_ok()) {
      std::optional<py::error_already_set> raised;
      if (seat) raised = seat->exception(done.status());
      seat.reset();
      if (raised) raise_again(*raised);  // the compute's own exception
      raise_status(done.status());
    }
    seat.reset();
    return py::make_tuple(decode_value(*done->entry->value), done->cached, done->coalesced);
  }

  bool erase(py::handle ns, py::handle text, py::handle context) {
    const KeySource source = key_source(ns, text, context);
    return released(*core_, [&](EngineCore::Call& call) -> Result<bool> {
      auto key = EngineCore::key_of(call, source);
      if (!key.is_ok()) return key.status();
      return call.cache().erase(*key);
    });
  }

  uint64_t invalidate(py::handle ns, py::handle tag, py::handle prefix, py::handle pattern,
                      py::handle older_than_ms) {
    Selector selector;
    if (auto v = optional_text_arg(ns, "namespace")) selector.ns.emplace(*v);
    if (auto v = optional_text_arg(tag, "tag")) selector.tag.emplace(*v);
    if (auto v = optional_text_arg(prefix, "prefix")) selector.prefix.emplace(*v);
    if (auto v = optional_text_arg(pattern, "pattern")) selector.pattern.emplace(*v);
    const std::optional<int64_t> older = millis_arg(older_than_ms, "older_than");
    if (selector.empty() && !older) {
      raise_status(Status::invalid_argument(
          "give tag, prefix, pattern, namespace or older_than_s (clear() removes everything)"));
    }
    return released(*core_, [&](EngineCore::Call& call) {
      if (older) selector.created_before_ms = call.cache().clock().now_ms() - *older;
      return call.cache().invalidate(selector);
    });
  }

  uint64_t clear(py::handle ns) {
    std::optional<std::string_view> name = optional_text_arg(ns, "namespace");
    return released(*core_, [&](EngineCore::Call& call) {
      if (!name) return call.cache().clear();
      Selector lane;
      lane.ns.emplace(*name);
      return call.cache().invalidate(lane);
    });
  }

  uint64_t evict(double fraction) {
    return released(*core_,
                    [&](EngineCore::Call& call) { return call.cache().evict_fraction(fraction); });
  }

  uint64_t purge_expired() {
    return released(*core_, [&](EngineCore::Call& call) -> Result<uint64_t> {
      return call.cache().purge_expired();
    });
  }

  py::dict stats() {
    const CacheStats stats = released(
        *core_, [&](EngineCore::Call& call) -> Result<CacheStats> { return call.cache().stats(); });
    return stats_dict(stats);
  }

  void close() {
    const Status closed = [&] {
      py::gil_scoped_release nogil;
      return core_->close();
    }();
    if (!closed.is_ok()) raise_status(closed);
  }

  bool closed() const { return core_->closed(); }

 private:
  static PutOptions put_options(py::handle ttl_ms, py::handle tags) {
    PutOptions options;
    options.ttl_ms = millis_arg(ttl_ms, "ttl");
    options.tags = tags_arg(tags);
    return options;
  }

  Lookup found(py::handle ns, py::handle text, py::handle context) {
    const KeySource source = key_source(ns, text, context);
    return released(*core_, [&](EngineCore::Call& call) -> Result<Lookup> {
      auto key = EngineCore::key_of(call, source);
      if (!key.is_ok()) return key.status();
      return call.cache().get(*key);
    });
  }

  std::unique_ptr<EngineCore> core_;  // never null
  FlightErrors errors_;
};

void bind_options(py::module_& m) {
  py::class_<LaneOptions>(m, "LaneOptions", "One lane table (engine.py builds it).")
      .def(py::init<>())
      .def_readwrite("max_entries", &LaneOptions::max_entries)
      .def_readwrite("max_bytes", &LaneOptions::max_bytes)
      .def_readwrite("eviction", &LaneOptions::eviction)
      .def_readwrite("default_ttl_ms", &LaneOptions::default_ttl_ms)
      .def_readwrite("min_compute_ms", &LaneOptions::min_compute_ms)
      .def_readwrite("tiers", &LaneOptions::tiers)
      .def_readwrite("compress", &LaneOptions::compress)
      .def_readwrite("key_ignored_fields", &LaneOptions::key_ignored_fields)
      .def_readwrite("key_set_arrays", &LaneOptions::key_set_arrays);
  py::class_<EngineOptions>(m, "EngineOptions", "Engine settings (engine.py builds them).")
      .def(py::init<>())
      .def_readwrite("memory_max_entries", &EngineOptions::memory_max_entries)
      .def_readwrite("memory_max_bytes", &EngineOptions::memory_max_bytes)
      .def_readwrite("eviction", &EngineOptions::eviction)
      .def_readwrite("disk_dir", &EngineOptions::disk_dir)
      .def_readwrite("disk_max_bytes", &EngineOptions::disk_max_bytes)
      .def_readwrite("disk_sync_writes", &EngineOptions::disk_sync_writes)
      .def_readwrite("default_ttl_ms", &EngineOptions::default_ttl_ms)
      .def_readwrite("max_value_bytes", &EngineOptions::max_value_bytes)
      .def_readwrite("hash", &EngineOptions::hash)
      .def_readwrite("ignored_fields", &EngineOptions::ignored_fields)
      .def_readwrite("lanes", &EngineOptions::lanes);
}

void bind_engine(py::module_& m) {
  py::class_<NativeEngine>(m, "Engine", "The native engine (use plancache.Engine).")
      .def(py::init<const EngineOptions&>())
      .def("key_for", &NativeEngine::key_for)
      .def("get", &NativeEngine::get)
      .def("lookup", &NativeEngine::lookup)
      .def("put", &NativeEngine::put)
      .def("get_or_compute", &NativeEngine::get_or_compute)
      .def("erase", &NativeEngine::erase)
      .def("invalidate", &NativeEngine::invalidate)
      .def("clear", &NativeEngine::clear)
      .def("evict", &NativeEngine::evict)
      .def("purge_expired", &NativeEngine::purge_expired)
      .def("stats", &NativeEngine::stats)
      .def("close", &NativeEngine::close)
      .def_property_readonly("closed", &NativeEngine::closed);
}

}  // namespace
}  // namespace plancache::internal

PYBIND11_MODULE(_engine, m) {
  namespace pc = plancache::internal;
  m.doc() = "The native half of plancache.Engine (private: use plancache.Engine).";
  pc::set_engine_error_class(pybind11::module_::import("plancache.engine").attr("EngineError"));
  pc::bind_options(m);
  pc::bind_engine(m);
  m.attr("RAW_VALUE_MARKER") = pybind11::bytes(std::string(1, pc::kRawValueMarker));
}

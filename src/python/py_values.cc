// Conversions between Python objects and the engine's bytes, keys, options
// and errors (py_values.h). CPython's API is used where pybind11's casters
// would copy (str → UTF-8 view) or say less in an error.
#include "python/py_values.h"

#include <memory>

namespace plancache::internal {
namespace {

// The engine error class (plancache.engine.EngineError); a strong reference
// kept for the life of the process (never released: module teardown order
// is not ours to know).
PyObject* g_engine_error = nullptr;

[[noreturn]] void raise_type_error(const char* what, const char* expected, py::handle got) {
  PyErr_Format(PyExc_TypeError, "%s must be %s, not %.100s", what, expected,
               Py_TYPE(got.ptr())->tp_name);
  throw py::error_already_set();
}

py::dict tier_dict(const TierStats& t) {
  py::dict d;
  d["name"] = t.name;
  d["kind"] = std::string(tier_kind_name(t.kind));
  d["connected"] = t.connected;
  d["degraded"] = t.degraded;
  d["entries"] = t.entries;
  d["bytes"] = t.bytes;
  d["max_entries"] = t.max_entries;
  d["max_bytes"] = t.max_bytes;
  d["hits"] = t.hits;
  d["misses"] = t.misses;
  d["hit_rate"] = t.hit_rate();
  d["puts"] = t.puts;
  d["evictions"] = t.evictions;
  d["expirations"] = t.expirations;
  d["invalidations"] = t.invalidations;
  d["errors"] = t.errors;
  d["corrupt_entries"] = t.corrupt_entries;
  d["recovery_dropped_entries"] = t.recovery_dropped_entries;
  py::dict namespaces;
  for (const auto& [ns, c] : t.namespaces) {
    py::dict row;
    row["entries"] = c.entries;
    row["bytes"] = c.bytes;
    row["hits"] = c.hits;
    row["misses"] = c.misses;
    namespaces[py::str(ns)] = row;
  }
  d["namespaces"] = namespaces;
  return d;
}

}  // namespace

void set_engine_error_class(py::handle cls) {
  Py_XINCREF(cls.ptr());
  g_engine_error = cls.ptr();
}

void raise_status(const Status& status) {
  if (status.code() == StatusCode::kInvalidArgument || g_engine_error == nullptr) {
    PyErr_SetString(PyExc_ValueError, status.message().c_str());
    throw py::error_already_set();
  }
  py::object error = py::reinterpret_borrow<py::object>(g_engine_error)(
      std::string(status_code_name(status.code())), status.message());
  PyErr_SetObject(g_engine_error, error.ptr());
  throw py::error_already_set();
}

void raise_again(const py::error_already_set& error) {
  // PyErr_Restore steals the three references.
  PyErr_Restore(error.type().inc_ref().ptr(), error.value().inc_ref().ptr(),
                error.trace().inc_ref().ptr());
  throw py::error_already_set();
}

std::string_view text_arg(py::handle value, const char* what, bool bytes_ok) {
  PyObject* o = value.ptr();
  if (PyUnicode_Check(o)) {
    Py_ssize_t size = 0;
    const char* data = PyUnicode_AsUTF8AndSize(o, &size);  // cached in the str
    if (data == nullptr) throw py::error_already_set();    // lone surrogates
    return {data, static_cast<size_t>(size)};
  }
  if (bytes_ok && PyBytes_Check(o)) {
    return {PyBytes_AS_STRING(o), static_cast<size_t>(PyBytes_GET_SIZE(o))};
  }
  raise_type_error(what, bytes_ok ? "str or bytes" : "str", value);
}

std::optional<std::string_view> optional_text_arg(py::handle value, const char* what) {
  if (value.is_none()) return std::nullopt;
  return text_arg(value, what);
}

std::vector<std::string> tags_arg(py::handle value) {
  std::vector<std::string> tags;
  if (value.is_none()) return tags;
  if (!PyList_Check(value.ptr()) && !PyTuple_Check(value.ptr())) {
    raise_type_error("tags", "a list of str", value);
  }
  for (py::handle tag : value) tags.emplace_back(text_arg(tag, "each tag"));
  return tags;
}

std::optional<int64_t> millis_arg(py::handle value, const char* what) {
  if (value.is_none()) return std::nullopt;
  if (!PyLong_Check(value.ptr())) raise_type_error(what, "an int", value);
  const long long ms = PyLong_AsLongLong(value.ptr());
  if (ms == -1 && PyErr_Occurred() != nullptr) throw py::error_already_set();
  if (ms < 0) {
    PyErr_Format(PyExc_ValueError, "%s must not be negative", what);
    throw py::error_already_set();
  }
  return static_cast<int64_t>(ms);
}

BytesPtr encode_value(py::handle value) {
  PyObject* o = value.ptr();
  if (PyUnicode_Check(o)) {
    const std::string_view json = text_arg(value, "value");
    return std::make_shared<const Bytes>(json);
  }
  if (!PyObject_CheckBuffer(o)) raise_type_error("value", "JSON text (str) or bytes-like", value);
  Py_buffer view;
  if (PyObject_GetBuffer(o, &view, PyBUF_C_CONTIGUOUS) != 0) throw py::error_already_set();
  auto raw = std::make_shared<Bytes>();
  raw->reserve(static_cast<size_t>(view.len) + 1);
  raw->push_back(kRawValueMarker);
  raw->append(static_cast<const char*>(view.buf), static_cast<size_t>(view.len));
  PyBuffer_Release(&view);
  return raw;
}

py::object decode_value(const Bytes& value) {
  PyObject* out =
      !value.empty() && value[0] == kRawValueMarker
          ? PyBytes_FromStringAndSize(value.data() + 1, static_cast<Py_ssize_t>(value.size() - 1))
          : PyUnicode_DecodeUTF8(value.data(), static_cast<Py_ssize_t>(value.size()), "strict");
  if (out == nullptr) throw py::error_already_set();
  return py::reinterpret_steal<py::object>(out);
}

py::dict stats_dict(const CacheStats& s) {
  py::dict d;
  d["gets"] = s.gets;
  d["hits"] = s.hits;
  d["misses"] = s.misses;
  d["hit_rate"] = s.hit_rate();
  d["promotions"] = s.promotions;
  d["computes"] = s.computes;
  d["compute_errors"] = s.compute_errors;
  d["coalesced"] = s.coalesced;
  d["inflight"] = s.inflight;
  d["waiting"] = s.waiting;
  py::dict latency;
  latency["count"] = s.get_latency.count;
  latency["sum_us"] = s.get_latency.sum_us;
  latency["p50_us"] = s.get_latency.p50_us;
  latency["p99_us"] = s.get_latency.p99_us;
  latency["max_us"] = s.get_latency.max_us;
  d["get_latency"] = latency;
  py::list tiers;
  for (const TierStats& t : s.tiers) tiers.append(tier_dict(t));
  d["tiers"] = tiers;
  return d;
}

}  // namespace plancache::internal

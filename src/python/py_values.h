// The Python boundary of plancache.Engine: arguments in, values and errors
// out. Every function here needs the GIL.
//
// Values (docs/python.md, "Engine"): a value is stored as the bytes of its
// entry. JSON values (what python/plancache/engine.py made with json.dumps,
// handed over as str) are stored verbatim, so the entries are those
// `plancache serve` stores; raw values (bytes-like) are stored behind one
// marker byte 0x00, which no JSON text starts with. A hit is turned back
// into a str (JSON text, for json.loads) or bytes with one copy out of the
// shared entry, and nothing else.
#pragma once

#include <pybind11/pybind11.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "plancache/cache.h"
#include "plancache/entry.h"
#include "plancache/status.h"

namespace plancache::internal {

namespace py = pybind11;

// The first byte of a raw (bytes) value in its entry.
inline constexpr char kRawValueMarker = '\0';

// Sets the class raised for errors other than invalid_argument (kept for
// the life of the process). REQUIRES: called once, at module init.
void set_engine_error_class(py::handle cls);

// Raises the Python error for `status`: ValueError for invalid_argument,
// the engine error class (code, message) otherwise. REQUIRES: !status.is_ok().
[[noreturn]] void raise_status(const Status& status);

// Raises the exception `error` holds again, as the same exception object
// with the traceback it had when it was caught (to which the frames it goes
// through now are added). Unlike rethrowing `error`, this may be done any
// number of times, from any thread, for one caught exception.
[[noreturn]] void raise_again(const py::error_already_set& error);

// A view of a str (its UTF-8 form) or, when `bytes_ok`, of a bytes object;
// TypeError naming `what` otherwise. The view lives as long as `value`.
std::string_view text_arg(py::handle value, const char* what, bool bytes_ok = false);
// None → nullopt; otherwise text_arg(value, what).
std::optional<std::string_view> optional_text_arg(py::handle value, const char* what);
// None → {}; a list or tuple of str otherwise.
std::vector<std::string> tags_arg(py::handle value);
// None → nullopt; an int >= 0 otherwise (`what` is named in the error).
std::optional<int64_t> millis_arg(py::handle value, const char* what);

// The bytes stored for a value: str = JSON text, as is; a bytes-like object
// = the marker byte then its bytes. TypeError for anything else.
BytesPtr encode_value(py::handle value);
// A stored value as Python: bytes for a raw value, str (JSON text) otherwise.
py::object decode_value(const Bytes& value);

// CacheStats as a dict (fields as in CacheStats and TierStats).
py::dict stats_dict(const CacheStats& stats);

}  // namespace plancache::internal

// FlightErrors: the Python exception of a failed get_or_compute flight, for
// every caller of that flight.
//
// The library runs one compute per missing key however many threads ask
// (single-flight) and hands each of them the same outcome; when the compute
// fails that is a Status, which cannot carry a Python exception. So the
// leader's compute (engine_module.cc) keeps the exception it caught here
// under a fresh id and fails the flight with a Status naming that id; each
// caller, leader and followers, then finds the exception by the id in the
// Status it got and raises that same exception object (as the waiters of a
// concurrent.futures.Future all raise the exception the future holds).
//
// A caller takes a Seat for its key before get_or_compute and drops it
// after: the exceptions of a key are kept while any caller of the key sits,
// and dropped with the last seat, so nothing outlives the calls that could
// raise it.
//
// Thread-safety: fully thread-safe. The GIL is never needed to take or leave
// a seat or to keep an exception (py::error_already_set copies share one
// reference-counted holder); the exceptions a last seat drops are released
// after mu_ (their holder takes the GIL itself), so a __del__ they run may
// call the engine again.
#pragma once

#include <pybind11/pybind11.h>

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "plancache/status.h"

namespace plancache::internal {

namespace py = pybind11;

class FlightErrors {
 public:
  // One caller's interest in a key, from before its get_or_compute until it
  // has raised what it got.
  class Seat {
   public:
    Seat(FlightErrors& errors, std::string key);
    ~Seat();
    Seat(const Seat&) = delete;
    Seat& operator=(const Seat&) = delete;
    const std::string& key() const { return key_; }
    // The exception kept for the flight that failed with `failure`, if
    // `failure` is a status keep() made for this key.
    std::optional<py::error_already_set> exception(const Status& failure) const;

   private:
    FlightErrors& errors_;
    const std::string key_;
  };

  // Keeps `error`, raised by the compute of `key`'s flight; returns the
  // Status to fail the flight with. REQUIRES: a Seat for `key` exists (the
  // leader's), and the GIL is held (to name the exception's type).
  Status keep(const std::string& key, py::error_already_set error);

 private:
  struct Slot {
    uint64_t seats = 0;
    std::vector<std::pair<uint64_t, py::error_already_set>> raised;  // by id
  };

  std::mutex mu_;                                // guards slots_ and last_id_
  std::unordered_map<std::string, Slot> slots_;  // by CacheKey::encoded()
  uint64_t last_id_ = 0;
};

}  // namespace plancache::internal

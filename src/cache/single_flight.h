// SingleFlight: runs a function once per key among concurrent callers.
//
// The first caller for a key becomes the leader and runs the function with no
// lock held; callers that arrive while it runs wait and receive a copy of the
// leader's result (value or error). When the leader finishes, the key is
// forgotten, so a later call runs the function again. An exception thrown by
// the function is caught and handed to every caller as an internal error.
//
// Thread-safety: fully thread-safe.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "plancache/entry.h"
#include "plancache/status.h"

namespace plancache::internal {

// What the leader's function produced.
struct FlightOutcome {
  EntryPtr entry;          // the value computed (or found) by the leader
  bool from_cache = false; // the leader found it cached on its re-check
  std::string_view tier;   // tier name when from_cache
};

class SingleFlight {
 public:
  using Fn = std::function<Result<FlightOutcome>()>;

  // Returns the function's outcome; `*coalesced` is set to true when this
  // caller waited for another caller's run instead of running `fn`.
  Result<FlightOutcome> run(const std::string& key, const Fn& fn, bool* coalesced);

  uint64_t inflight() const;  // leaders running now
  uint64_t waiting() const;   // followers waiting now

 private:
  struct Call {
    // Guards done and result; cv signals done.
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    std::optional<Result<FlightOutcome>> result;
  };

  static Result<FlightOutcome> invoke(const Fn& fn);

  // Guards calls_ and waiting_.
  mutable std::mutex mu_;
  std::unordered_map<std::string, std::shared_ptr<Call>> calls_;
  uint64_t waiting_ = 0;
};

}  // namespace plancache::internal

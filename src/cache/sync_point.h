// SyncPoint: named points in concurrent code that a test can order, after
// RocksDB's test_util/sync_point.h.
//
// Code marks a point with PLANCACHE_SYNC_POINT("Component::Point") (or
// PLANCACHE_SYNC_POINT_CALLBACK(name, arg) to hand a pointer to the test).
// A test loads dependencies -- "point A happens before point B": a thread
// reaching B waits until some thread has passed A -- and callbacks run when a
// point is passed, then enables processing. Disabled (the default), a point
// costs one relaxed atomic load; the points are compiled into every build so
// the same forced-ordering tests run in release and debug builds.
//
// This is the one process-wide object of the library, and only tests turn
// it on; production code never calls anything but the macros.
//
// Thread-safety: fully thread-safe. Callbacks run on the thread that passes
// the point, with no SyncPoint lock held; they may block (that is the use).
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace plancache::internal {

class SyncPoint {
 public:
  struct Dependency {
    std::string predecessor;  // must be passed first ...
    std::string successor;    // ... before a thread gets past this one
  };

  static SyncPoint& instance();

  // Replaces the dependencies and forgets which points were passed.
  void load_dependencies(std::vector<Dependency> dependencies);
  // Runs `fn(arg)` whenever `point` is passed (after its predecessors).
  void set_callback(const std::string& point, std::function<void(void*)> fn);
  // Enable / disable processing; disable() also clears dependencies,
  // callbacks and the record of passed points.
  void enable();
  void disable();

  // True while enabled: the macros' one relaxed load.
  static bool enabled() { return enabled_.load(std::memory_order_relaxed); }
  // Waits for the point's predecessors, runs its callback, records it passed.
  void process(std::string_view point, void* arg);

 private:
  SyncPoint() = default;
  bool predecessors_passed(const std::string& point) const;

  static std::atomic<bool> enabled_;
  // Guards predecessors_ (by successor), callbacks_ and passed_; cv_ signals
  // a newly passed point.
  std::mutex mu_;
  std::condition_variable cv_;
  std::unordered_map<std::string, std::vector<std::string>> predecessors_;
  std::unordered_map<std::string, std::function<void(void*)>> callbacks_;
  std::set<std::string, std::less<>> passed_;
};

}  // namespace plancache::internal

#define PLANCACHE_SYNC_POINT_CALLBACK(name, arg)                        \
  do {                                                                  \
    if (::plancache::internal::SyncPoint::enabled()) {                  \
      ::plancache::internal::SyncPoint::instance().process(name, arg);  \
    }                                                                   \
  } while (0)

#define PLANCACHE_SYNC_POINT(name) PLANCACHE_SYNC_POINT_CALLBACK(name, nullptr)

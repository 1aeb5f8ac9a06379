// MemoryWatchdog: the memory-pressure coordinator of `plancache serve`.
//
// Every check interval it reads a MemorySource (the process's cgroup, or
// its RSS against MemAvailable / --memory-budget; memory_source.h) and acts
// on PressureController's decision (memory_pressure.h):
//   evict  every L1 lane gives up a share of its entries through
//          Tier::evict_fraction -- the path POST /v1/evict takes, least
//          valuable first by the lane's policy -- and its byte limit drops
//          to what it then holds (Tier::limit_bytes), so the lane's own
//          eviction keeps it there on every later put; freed memory is
//          handed back to the OS and the source read again, round after
//          round, until the episode ends or nothing is left to evict;
//   grow   shrunken lanes get part of the free headroom back, step by step,
//          up to their configured bounds (auto-sizing);
// counting what it did and logging each trigger.
//
// Ownership: owns its source and its thread; the lanes' tiers are borrowed
// and must outlive the watchdog (the Runtime declares it after the cache).
// Thread-safety: stats() may be called from any thread. check_once() is
// the thread's body; call it from one thread at a time, and not while the
// thread runs (tests call it without start()).
#pragma once

#include <spdlog/logger.h>

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "plancache/tier.h"
#include "server/memory_pressure.h"
#include "server/memory_source.h"

namespace plancache::internal {

// One L1 lane: its namespace and its memory tier (borrowed).
struct PressureLane {
  std::string name;
  Tier* tier = nullptr;
};

struct MemoryWatchdogOptions {
  PressureOptions pressure;
  // Time between two checks. Default: 500 ms.
  std::chrono::milliseconds interval{500};
  // Eviction rounds in one check at most. Default: 8.
  int max_rounds = 8;
  // Called after each eviction round, to give freed memory back to the OS
  // (the server passes malloc_trim). Default: none.
  std::function<void()> release_memory;
  // Where triggers are logged. Default: none.
  std::shared_ptr<spdlog::logger> logger;
};

// What the watchdog saw and did, for GET /v1/stats and /metrics.
struct MemoryPressureStats {
  std::string source;  // memory_source.h names
  std::string source_path;
  MemoryReading reading;  // the last one
  double high_watermark = 0;
  double evict_fraction = 0;
  bool under_pressure = false;  // in an episode
  uint64_t checks = 0;
  uint64_t read_errors = 0;
  uint64_t triggered = 0;  // checks that evicted
  uint64_t rounds = 0;     // eviction rounds
  uint64_t bytes_freed = 0;
  uint64_t entries_freed = 0;
  struct Lane {
    std::string name;
    uint64_t bound = 0;  // configured bytes (the source's limit if unbounded)
    uint64_t limit = 0;  // in force; 0 = none
  };
  std::vector<Lane> lanes;
  // Sum of the lanes' limits in force over the sum of their bounds (1 =
  // no lane shrunk).
  double shrink_factor() const;
};

class MemoryWatchdog {
 public:
  // REQUIRES: source != nullptr; every lane's tier != nullptr.
  MemoryWatchdog(std::unique_ptr<MemorySource> source, std::vector<PressureLane> lanes,
                 MemoryWatchdogOptions options);
  // Stops and joins the thread.
  ~MemoryWatchdog();
  MemoryWatchdog(const MemoryWatchdog&) = delete;
  MemoryWatchdog& operator=(const MemoryWatchdog&) = delete;

  // Logs the source and its first reading, then checks every interval on a
  // thread of its own. REQUIRES: called once.
  void start();

  // One check: read, decide, evict or grow.
  void check_once();

  MemoryPressureStats stats() const;

 private:
  struct LaneState {
    PressureLane lane;
    uint64_t bound = 0;  // configured max_bytes; 0 = unbounded
    uint64_t limit = 0;  // in force; 0 = none
  };
  struct Freed {
    uint64_t entries = 0;
    uint64_t bytes = 0;
  };
  Freed evict_round(const MemoryReading& reading);
  void relieve(const MemoryReading& first);
  void grow(const MemoryReading& reading);
  void publish(const MemoryReading& reading, const Freed& freed, int rounds);
  // REQUIRES: publish() has run for `after` (the log reads the snapshot).
  void log_trigger(const MemoryReading& before, const MemoryReading& after, const Freed& freed,
                   int rounds) const;
  void note_read_error(const Status& status);
  uint64_t bound_of(const LaneState& lane, const MemoryReading& reading) const;
  void run();

  const std::unique_ptr<MemorySource> source_;
  const MemoryWatchdogOptions options_;
  // Touched by check_once() only (one thread at a time).
  std::vector<LaneState> lanes_;
  PressureController controller_;
  bool reading_failed_ = false;

  // Guards snapshot_ (what stats() returns) and stop_.
  mutable std::mutex mu_;
  std::condition_variable cv_;
  MemoryPressureStats snapshot_;
  bool stop_ = false;
  std::thread thread_;
};

// The "memory" object of GET /v1/stats; `stats` null = the watchdog is off
// ({"source":"off"}).
nlohmann::json memory_stats_json(const MemoryPressureStats* stats);
// The plancache_memory_* and plancache_pressure_* families of GET /metrics
// (the counters are 0 when the watchdog is off).
std::string memory_stats_prometheus(const MemoryPressureStats* stats);

}  // namespace plancache::internal

// Clock: where plancache reads the time. Passed in (never a global) so tests
// drive expiry with a FakeClock instead of sleeping, as Caffeine's Ticker.
//
// Thread-safety: implementations must be safe to call from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>

namespace plancache {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time, milliseconds since the Unix epoch. Used for entry
  // created/expires stamps, which are stored and shared between machines.
  virtual int64_t now_ms() const = 0;
  // Monotonic time in nanoseconds, for latencies and timeouts only.
  virtual int64_t monotonic_ns() const = 0;
};

// The real clock. The returned pointer is shared and lives forever.
std::shared_ptr<Clock> system_clock();

// A clock that moves only when told to. Starts at `start_ms` (default: a fixed
// date in 2026 so test vectors are stable).
class FakeClock final : public Clock {
 public:
  explicit FakeClock(int64_t start_ms = 1'790'000'000'000) : ms_(start_ms) {}
  int64_t now_ms() const override { return ms_.load(std::memory_order_relaxed); }
  int64_t monotonic_ns() const override { return now_ms() * 1'000'000; }
  void advance_ms(int64_t delta) { ms_.fetch_add(delta, std::memory_order_relaxed); }
  void set_ms(int64_t ms) { ms_.store(ms, std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> ms_;
};

}  // namespace plancache

#include "plancache/clock.h"

#include <chrono>

namespace plancache {
namespace {

class SystemClock final : public Clock {
 public:
  int64_t now_ms() const override {
    using namespace std::chrono;
    return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
  }
  int64_t monotonic_ns() const override {
    using namespace std::chrono;
    return duration_cast<nanoseconds>(steady_clock::now().time_since_epoch()).count();
  }
};

}  // namespace

std::shared_ptr<Clock> system_clock() {
  // One immutable, stateless instance; never destroyed (intentional leak so it
  // outlives every static that may read the time during shutdown).
  static const std::shared_ptr<Clock>* const kClock =
      new std::shared_ptr<Clock>(std::make_shared<SystemClock>());
  return *kClock;
}

}  // namespace plancache

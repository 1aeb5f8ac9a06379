// DrainFlag: raised once when the server begins its graceful stop
// (Server::request_stop). The listener stops accepting, sessions stop
// keeping connections alive and /readyz answers 503 once it is up.
//
// Ownership: owned by the Server; the listener, sessions and Service hold
// references and must not outlive it.
// Thread-safety: lock-free; set() and is_set() from any thread (relaxed: a
// flag only, no ordering with other memory).
#pragma once

#include <atomic>

namespace plancache::internal {

class DrainFlag {
 public:
  void set() { up_.store(true, std::memory_order_relaxed); }
  bool is_set() const { return up_.load(std::memory_order_relaxed); }

 private:
  std::atomic<bool> up_{false};
};

}  // namespace plancache::internal

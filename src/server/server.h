// Server: `plancache serve` embedded in a process. Owns the cache (through
// Service), the listening socket, the I/O threads and a maintenance thread
// that sweeps expired entries.
//
// Usage:
//   auto server = plancache::server::Server::start(config);   // listening now
//   if (!server.is_ok()) ...;
//   (*server)->port();            // the bound port (config.port 0 = ephemeral)
//   (*server)->request_stop();    // from any thread, e.g. a signal handler's
//   (*server)->wait();            // returns once every thread has finished
//
// Thread-safety: port(), request_stop() and wait() may be called from any
// thread; request_stop() is idempotent; the destructor stops and waits.
#pragma once

#include <cstdint>
#include <memory>

#include "plancache/status.h"
#include "server/config.h"

namespace plancache::server {

class Server {
 public:
  // Validates the start-up rules (no --redis-url / --planner-* yet; a
  // non-loopback host needs an admin token), builds the cache, binds and
  // starts the I/O threads (io_threads, 0 = one per core).
  // Errors: invalid_argument for a configuration this build refuses;
  // unavailable when the address cannot be bound.
  static Result<std::unique_ptr<Server>> start(ServerConfig config);

  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  uint16_t port() const;

  // Graceful stop: stop accepting, close idle connections, let requests in
  // progress finish (their answers say "Connection: close"), then let the
  // threads end. Does not block.
  void request_stop();

  // Blocks until every I/O thread has ended (after request_stop()).
  void wait();

 private:
  struct Impl;
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// `plancache serve`: starts a Server, stops it gracefully on SIGTERM or
// SIGINT, logs to stderr. Returns the process exit code: 0 after a signal,
// 2 for a configuration this build refuses, 1 when the address cannot be
// bound (the message says why).
int run_server(const ServerConfig& config);

}  // namespace plancache::server

// Listener: accepts connections and hands each to an I/O worker, round
// robin. Each worker is one io_context run by one thread, so a session
// never needs a strand; the acceptor itself runs on the first worker.
// Connections over max_connections still get a session, which answers 503
// and closes. When the process is out of file descriptors all the same
// (EMFILE), the listener frees a spare descriptor it keeps for this, accepts
// the waiting connections one by one and answers each a canned 503 itself,
// so that no client hangs in the listen backlog. It knows the server only
// through the SessionEnv it hands to each session (the counters and drain
// flag it reads too) and the effective max_connections it is given.
//
// Lifetime: owned by shared_ptrs held by Server and by its pending accept.
// Thread-safety: start() / stop() may be called from any thread; the rest
// runs on the acceptor's io_context.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <memory>
#include <vector>

#include "plancache/status.h"
#include "server/http_session.h"

namespace spdlog {
class logger;
}  // namespace spdlog

namespace plancache::internal {

// One I/O thread's io_context and its sessions. One io_context per thread
// rather than one shared by all: it measured no worse on the hit path
// (bench/http.sh, 2 cores) and needs no strands, since all of a session's
// handlers run on its one thread.
struct IoWorker {
  // Declared first so that it outlives the sessions the io_context's
  // destructor may still destroy (they unlist themselves).
  SessionList sessions;            // touched only on the thread of ioc
  boost::asio::io_context ioc{1};  // run by exactly one thread
};

class Listener : public std::enable_shared_from_this<Listener> {
 public:
  // Binds and listens on `endpoint` using workers[0]'s io_context.
  // `max_connections`: connections over it get a 503 (the effective cap,
  // after the fd budget). Errors: unavailable naming the address and the
  // system error.
  // REQUIRES: workers non-empty; workers, env and logger outlive it.
  static Result<std::shared_ptr<Listener>> open(const boost::asio::ip::tcp::endpoint& endpoint,
                                                std::vector<IoWorker*> workers,
                                                const SessionEnv& env, uint32_t max_connections,
                                                spdlog::logger& logger);

  uint16_t port() const { return port_; }
  void start();
  // Closes the acceptor; no new connection is accepted afterwards.
  void stop();

  Listener(boost::asio::io_context& ioc, std::vector<IoWorker*> workers, const SessionEnv& env,
           uint32_t max_connections, spdlog::logger& logger);
  ~Listener();
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

 private:
  void accept();
  void on_accept(IoWorker* worker, boost::beast::error_code ec, Socket socket);
  // Out of descriptors: answers the waiting connections 503 with the spare
  // descriptor's room. Returns how many.
  uint64_t shed_waiting_connections();
  // At most one warning per kWarnInterval about failing accepts.
  void warn_accept_failed(const boost::beast::error_code& ec, uint64_t shed);

  boost::asio::ip::tcp::acceptor acceptor_;
  boost::asio::steady_timer retry_timer_;
  std::vector<IoWorker*> workers_;
  size_t next_worker_ = 0;
  const SessionEnv& env_;
  const uint32_t max_connections_;
  spdlog::logger& logger_;
  uint16_t port_ = 0;
  int spare_fd_ = -1;  // /dev/null, closed to make room for a 503 under EMFILE
  std::chrono::steady_clock::time_point last_warning_{};
  uint64_t unwarned_failures_ = 0;  // accept failures since the last warning
  uint64_t unwarned_shed_ = 0;      // connections shed since the last warning
};

}  // namespace plancache::internal

// Server start-up, threads and graceful stop.
//
// Threads: N I/O workers (one io_context each, see listener.h) plus one
// maintenance thread calling Cache::purge_expired() every
// purge_interval_ms, so a sweep never stalls a connection.
// Wiring: compose() (composition.h) builds the cache side; this file only
// adds the networking around it — the Service over the Runtime, the
// SessionEnv every session shares (limits, counters, drain flag), the
// listener with the effective max_connections — and the threads.
// Stop: the latch `stop_requested_` makes request_stop() run once; it raises
// the drain flag (new accepts are dropped, idle keep-alive connections
// close, busy ones close after their answer, /readyz answers 503), gives
// read-through planner runs --stop-grace-ms, closes the acceptor and drops
// the work guards, so each io_context's run() returns as soon as its last
// connection is gone. wait() joins.
#include "server/server.h"

#include <malloc.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/signal_set.hpp>
#include <condition_variable>
#include <csignal>
#include <mutex>
#include <optional>
#include <thread>

#include "plancache/disk_tier.h"
#include "plancache/redis_tier.h"
#include "server/composition.h"
#include "server/drain.h"
#include "server/fd_budget.h"
#include "server/listener.h"
#include "server/metrics.h"
#include "server/service.h"

namespace plancache::server {
namespace {

namespace beast = boost::beast;
namespace net = boost::asio;
using net::ip::tcp;
using WorkGuard = net::executor_work_guard<net::io_context::executor_type>;

std::shared_ptr<spdlog::logger> make_logger(const std::string& level) {
  auto logger = std::make_shared<spdlog::logger>(
      "plancache", std::make_shared<spdlog::sinks::stderr_color_sink_mt>());
  logger->set_level(spdlog::level::from_str(level));
  return logger;
}

Result<tcp::endpoint> resolve_endpoint(const std::string& host, uint16_t port) {
  beast::error_code ec;
  const net::ip::address address = net::ip::make_address(host, ec);
  if (!ec) return tcp::endpoint(address, port);
  net::io_context ioc;
  tcp::resolver resolver(ioc);
  const auto results = resolver.resolve(host, std::to_string(port), ec);
  if (ec || results.empty()) {
    return Status::invalid_argument("cannot resolve --host '" + host + "': " + ec.message());
  }
  return results.begin()->endpoint();
}

// What this build refuses, with the flag to blame.
Status check_startup(const ServerConfig& config, const tcp::endpoint& endpoint) {
  if (!endpoint.address().is_loopback() && config.admin_token.empty()) {
    return Status::invalid_argument(
        "refusing to listen on non-loopback address " + endpoint.address().to_string() +
        " without an admin token: set --admin-token (or PLANCACHE_ADMIN_TOKEN)");
  }
  return Status::ok();
}

// Planner calls that may hold a socket or pipes at once, over every planner.
uint64_t planner_slots(const ServerConfig& config) {
  uint64_t planners = config.planner_url.empty() && config.planner_cmd.empty() ? 0 : 1;
  planners += config.namespace_planners.size();
  return planners * (uint64_t{config.planner_max_concurrent} + config.max_background_refreshes);
}

// The connection cap sized to the open-file limit (fd_budget.h), said in
// the log; config.max_connections is only the wish.
Result<uint32_t> effective_max_connections(const ServerConfig& config, spdlog::logger& logger) {
  const uint64_t disk_files = config.data_dir.empty() ? 0 : DiskTierOptions{}.max_open_files;
  // The shared tier: a pool, a listener and a probe per node; counted as
  // held "disk" files for up to 16 nodes (a larger cluster takes more).
  const uint64_t redis_files =
      config.redis_url.empty() ? 0 : 16 * (RedisTierOptions{}.pool_size + 2);
  auto budget = internal::plan_fd_budget(
      config.max_connections, internal::fd_reserve(disk_files + redis_files, planner_slots(config)));
  if (!budget.is_ok()) return budget.status();
  if (budget->lowered) {
    logger.warn("{}", budget->describe(config.max_connections));
  } else {
    logger.info("{}", budget->describe(config.max_connections));
  }
  return budget->max_connections;
}

// The start line: where, how many threads, and the default lane.
void log_listening(spdlog::logger& logger, const tcp::endpoint& endpoint, uint16_t port,
                   unsigned threads, const NamespacePolicy& lane) {
  logger.info(
      "plancache listening on http://{}:{} ({} I/O threads, L1 {} entries / {} "
      "bytes, default TTL {} s)",
      endpoint.address().to_string(), port, threads, lane.memory.max_entries, lane.memory.max_bytes,
      lane.default_ttl_ms / 1000);
}

}  // namespace

struct Server::Impl {
  ServerConfig config;
  std::shared_ptr<spdlog::logger> logger;
  // Declared in dependency order: each outlives what is declared after it.
  internal::HttpCounters http;
  internal::DrainFlag draining;
  internal::Runtime runtime;  // the cache side (composition.h)
  std::unique_ptr<internal::Service> service;
  std::optional<internal::SessionEnv> session_env;  // shared by every session
  std::vector<std::unique_ptr<internal::IoWorker>> workers;
  std::vector<WorkGuard> guards;
  std::shared_ptr<internal::Listener> listener;
  std::vector<std::thread> io_threads;
  std::thread maintenance;

  // Guards stop_requested; maintenance waits on cv for it.
  std::mutex mu;
  std::condition_variable cv;
  bool stop_requested = false;
  // Serialises wait() so that the threads are joined once.
  std::mutex join_mu;

  void run_worker(internal::IoWorker& worker) {
    for (;;) {
      try {
        worker.ioc.run();
        return;
      } catch (const std::exception& e) {
        logger->error("I/O thread: unexpected exception: {}", e.what());
      }
    }
  }

  void run_maintenance() {
    const auto interval = std::chrono::milliseconds(config.purge_interval_ms);
    std::unique_lock lock(mu);
    while (!cv.wait_for(lock, interval, [this] { return stop_requested; })) {
      lock.unlock();
      const uint64_t purged = runtime.cache->purge_expired();
      if (purged != 0) logger->debug("purged {} expired entries", purged);
      lock.lock();
    }
  }
};

Server::Server(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Result<std::unique_ptr<Server>> Server::start(ServerConfig config) {
  auto impl = std::make_unique<Impl>();
  impl->logger = config.logger ? config.logger : make_logger(config.log_level);
  config.logger = impl->logger;
  auto endpoint = resolve_endpoint(config.host, config.port);
  if (!endpoint.is_ok()) return endpoint.status();
  PLANCACHE_RETURN_IF_ERROR(check_startup(config, *endpoint));
  if (!config.data_dir.empty()) {
    impl->logger->info("disk tier (l2) in '{}', up to {} bytes{}{}", config.data_dir,
                       config.l2_max_bytes, config.sync_writes ? ", synchronous writes" : "",
                       config.write_behind_queue > 0 ? ", write-behind" : "");
  }
  auto runtime = internal::compose(config);
  if (!runtime.is_ok()) return runtime.status();
  impl->runtime = std::move(runtime).value();
  impl->service =
      std::make_unique<internal::Service>(impl->runtime, config, impl->http, impl->draining);
  impl->session_env.emplace(internal::SessionEnv{
      *impl->service, internal::SessionLimits::of(config), impl->http, impl->draining});
  auto max_connections = effective_max_connections(config, *impl->logger);
  if (!max_connections.is_ok()) return max_connections.status();

  const unsigned threads = config.io_threads != 0
                               ? config.io_threads
                               : std::max(1u, std::thread::hardware_concurrency());
  std::vector<internal::IoWorker*> workers;
  for (unsigned i = 0; i < threads; ++i) {
    impl->workers.push_back(std::make_unique<internal::IoWorker>());
    impl->guards.push_back(net::make_work_guard(impl->workers.back()->ioc));
    workers.push_back(impl->workers.back().get());
  }
  auto listener = internal::Listener::open(*endpoint, workers, *impl->session_env, *max_connections,
                                           *impl->logger);
  if (!listener.is_ok()) return listener.status();
  impl->listener = std::move(listener).value();
  impl->config = std::move(config);

  Impl* raw = impl.get();
  for (auto& worker : impl->workers) {
    impl->io_threads.emplace_back([raw, w = worker.get()] { raw->run_worker(*w); });
  }
  impl->maintenance = std::thread([raw] { raw->run_maintenance(); });
  impl->listener->start();
  log_listening(*impl->logger, *endpoint, impl->listener->port(), threads,
                impl->runtime.policies->get(kDefaultNamespace));
  return std::unique_ptr<Server>(new Server(std::move(impl)));
}

Server::~Server() {
  request_stop();
  wait();
}

uint16_t Server::port() const { return impl_->listener->port(); }

void Server::request_stop() {
  {
    std::lock_guard lock(impl_->mu);
    if (impl_->stop_requested) return;
    impl_->stop_requested = true;
  }
  impl_->cv.notify_all();
  impl_->draining.set();
  // Event streams never end by themselves: end them, or the I/O threads
  // would wait for them.
  if (impl_->runtime.events) impl_->runtime.events->close_all();
  if (impl_->runtime.planning) {
    impl_->runtime.planning->stop(std::chrono::milliseconds(impl_->config.stop_grace_ms));
  }
  impl_->listener->stop();
  for (auto& worker : impl_->workers) {
    net::post(worker->ioc, [w = worker.get()] {
      const std::vector<internal::HttpSession*> sessions(w->sessions.begin(), w->sessions.end());
      for (internal::HttpSession* s : sessions) s->stop();
    });
  }
  for (WorkGuard& guard : impl_->guards) guard.reset();
}

void Server::wait() {
  std::lock_guard lock(impl_->join_mu);
  for (std::thread& t : impl_->io_threads) {
    if (t.joinable()) t.join();
  }
  if (impl_->maintenance.joinable()) impl_->maintenance.join();
}

int run_server(const ServerConfig& config) {
  // Allocations of 16 KiB and more (large plans) get mappings of their own,
  // so the memory of a replaced or evicted plan goes back to the OS at once
  // instead of leaving holes in the heap that request temporaries refill:
  // RSS stays at ~1.2x the payload under turnover, not ~1.5x
  // (docs/decisions.md, bench/rss.py). Process-wide, so only here, in the
  // `plancache serve` process, never in the library.
  mallopt(M_MMAP_THRESHOLD, 16 * 1024);
  ServerConfig c = config;
  if (!c.logger) c.logger = make_logger(c.log_level);
  std::shared_ptr<spdlog::logger> logger = c.logger;
  // Installed before the threads start, so no signal finds the default action.
  net::io_context signal_ioc;
  net::signal_set signals(signal_ioc, SIGINT, SIGTERM);
  auto server = Server::start(std::move(c));
  if (!server.is_ok()) {
    logger->error("plancache serve: {}", server.status().message());
    return server.status().code() == StatusCode::kUnavailable ? 1 : 2;
  }
  signals.async_wait([&](const beast::error_code& ec, int signo) {
    if (ec) return;
    logger->info("received signal {}; finishing requests in progress", signo);
    (*server)->request_stop();
  });
  signal_ioc.run();
  (*server)->wait();
  logger->info("plancache stopped");
  return 0;
}

}  // namespace plancache::server

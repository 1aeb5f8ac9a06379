// Invalidation listeners: one thread and one connection per master.
//
// A worker connects, authenticates, asks CLIENT ID, turns on BCAST tracking
// redirected to itself, subscribes to __redis__:invalidate and then only
// reads: invalidation messages, and the pongs of its own heartbeat PINGs
// (in subscribe mode a PING answers ["pong", ""]). No pong within
// heartbeat_timeout, or any error, is a loss: the worker reports it, drops
// the connection and reconnects with jittered exponential backoff.
//
// A supervisor thread follows client.masters() whenever topology_version()
// moves, starting and stopping workers. Every wait polls a self-pipe, so
// stop() returns as soon as the threads see it (no blocking reads anywhere).
#include "redis/invalidation_listener.h"

#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <random>
#include <thread>

#include "redis/listener_connection.h"

namespace plancache::internal {
namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kChannel = "__redis__:invalidate";

// A pipe that becomes readable (for good) when signalled.
class StopPipe {
 public:
  StopPipe() {
    if (::pipe2(fds_, O_CLOEXEC | O_NONBLOCK) != 0) fds_[0] = fds_[1] = -1;
  }
  ~StopPipe() {
    for (int fd : fds_) {
      if (fd >= 0) ::close(fd);
    }
  }
  StopPipe(const StopPipe&) = delete;
  StopPipe& operator=(const StopPipe&) = delete;
  void signal() {
    const char byte = 1;
    (void)!::write(fds_[1], &byte, 1);
  }
  int fd() const { return fds_[0]; }
  // Sleeps up to `d`; false when signalled.
  bool sleep(std::chrono::milliseconds d) const {
    pollfd p{fds_[0], POLLIN, 0};
    return ::poll(&p, 1, static_cast<int>(d.count())) == 0;
  }

 private:
  int fds_[2];
};

struct Counters {
  std::atomic<uint64_t> messages{0}, keys{0}, flushes{0}, losses{0}, resubscribes{0};
};

struct Worker {
  explicit Worker(RedisEndpoint n) : node(std::move(n)) {}
  RedisEndpoint node;
  StopPipe stop;
  std::atomic<bool> up{false};
  std::atomic<bool> removed{false};  // by the topology: report the loss
  bool ever_up = false;  // its thread only: the first subscribe is no resubscribe
  std::thread thread;
};

bool is_pong(const RedisReply& r) {
  return r.type == RedisReply::Type::kArray && !r.elements.empty() && r.elements[0].is_string() &&
         r.elements[0].str == "pong";
}

class ListenersImpl final : public InvalidationListeners {
 public:
  ListenersImpl(RedisClient& client, ListenerOptions options, ListenerCallbacks callbacks)
      : client_(client), options_(std::move(options)), callbacks_(std::move(callbacks)) {
    supervisor_ = std::thread([this] { supervise(); });
  }
  ~ListenersImpl() override { stop(); }

  bool all_up() const override;
  ListenerStats stats() const override;
  void stop() override;

 private:
  void supervise();
  void sync_workers(const std::vector<RedisEndpoint>& masters);
  void run_worker(Worker& w);
  Status session(Worker& w);
  Result<std::unique_ptr<ListenerConnection>> subscribe(Worker& w);
  Status read_loop(Worker& w, ListenerConnection& conn);
  void handle(Worker& w, const RedisReply& reply, bool* pong);
  void set_up(Worker& w, bool up);
  std::chrono::milliseconds jittered(std::chrono::milliseconds base);

  RedisClient& client_;
  const ListenerOptions options_;
  const ListenerCallbacks callbacks_;
  Counters counters_;
  StopPipe stop_;
  std::thread supervisor_;
  std::once_flag stopped_;

  // Guards workers_ and rng_.
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<Worker>> workers_;
  std::minstd_rand rng_{std::random_device{}()};
};

std::chrono::milliseconds ListenersImpl::jittered(std::chrono::milliseconds base) {
  std::lock_guard lock(mu_);
  std::uniform_int_distribution<int64_t> extra(0, std::max<int64_t>(base.count() / 4, 0));
  return base + std::chrono::milliseconds(extra(rng_));
}

void ListenersImpl::supervise() {
  uint64_t seen = 0;
  bool synced = false;
  do {
    const uint64_t version = client_.topology_version();
    if (!synced || version != seen) {
      const auto masters = client_.masters();
      if (!masters.empty()) {
        sync_workers(masters);
        seen = version;
        synced = true;
      }
    }
  } while (stop_.sleep(options_.heartbeat_interval));
}

void ListenersImpl::sync_workers(const std::vector<RedisEndpoint>& masters) {
  std::vector<std::unique_ptr<Worker>> gone;
  {
    std::lock_guard lock(mu_);
    for (auto it = workers_.begin(); it != workers_.end();) {
      const bool keep = std::any_of(masters.begin(), masters.end(),
                                    [&](const RedisEndpoint& m) { return m.text() == it->first; });
      if (keep) {
        ++it;
      } else {
        gone.push_back(std::move(it->second));
        it = workers_.erase(it);
      }
    }
    for (const RedisEndpoint& m : masters) {
      auto& slot = workers_[m.text()];
      if (slot != nullptr) continue;
      slot = std::make_unique<Worker>(m);
      Worker* w = slot.get();
      w->thread = std::thread([this, w] { run_worker(*w); });
    }
  }
  for (auto& w : gone) {
    w->removed = true;
    w->stop.signal();
    w->thread.join();
  }
}

void ListenersImpl::set_up(Worker& w, bool up) {
  if (w.up.exchange(up) == up) return;
  if (!up) {
    ++counters_.losses;
  } else if (w.ever_up) {
    ++counters_.resubscribes;
  }
  w.ever_up = true;
  if (callbacks_.on_state) callbacks_.on_state(w.node, up);
}

void ListenersImpl::run_worker(Worker& w) {
  auto backoff = options_.reconnect_backoff_min;
  while (true) {
    const Status lost = session(w);  // returns once the connection is gone
    const bool stopping = !w.stop.sleep(std::chrono::milliseconds(0));
    const bool was_up = w.up.load();
    // A plain stop() reports nothing: the owner is going away.
    if (was_up && (!stopping || w.removed)) set_up(w, false);
    if (stopping) break;
    const auto& log = client_.options().log;
    if (log && was_up) log("warn", "invalidation listener lost: " + lost.message());
    if (was_up) backoff = options_.reconnect_backoff_min;
    if (!w.stop.sleep(jittered(backoff))) break;
    backoff = std::min(backoff * 2, options_.reconnect_backoff_max);
  }
}

Result<std::unique_ptr<ListenerConnection>> ListenersImpl::subscribe(Worker& w) {
  const RedisClientOptions& o = client_.options();
  auto conn = ListenerConnection::open(w.node, o.connect_timeout, w.stop.fd());
  if (!conn.is_ok()) return conn.status();
  const auto setup = [&](const RedisArgs& args) -> Result<RedisReply> {
    auto reply = (*conn)->call(args, o.command_timeout);
    if (reply.is_ok() && reply->is_error()) {
      return Status::unavailable("redis listener " + w.node.text() + ": " + args.front() +
                                 " failed: " + reply->str);
    }
    return reply;
  };
  if (!o.url.password.empty()) {
    RedisArgs auth{"AUTH"};
    if (!o.url.user.empty()) auth.push_back(o.url.user);
    auth.push_back(o.url.password);
    auto r = setup(auth);
    if (!r.is_ok()) return r.status();
  }
  if (o.url.db != 0) {
    auto r = setup({"SELECT", std::to_string(o.url.db)});
    if (!r.is_ok()) return r.status();
  }
  auto id = setup({"CLIENT", "ID"});
  if (!id.is_ok()) return id.status();
  RedisArgs tracking{"CLIENT", "TRACKING", "on", "REDIRECT", std::to_string(id->integer), "BCAST"};
  for (const std::string& p : options_.prefixes) {
    tracking.push_back("PREFIX");
    tracking.push_back(p);
  }
  auto on = setup(tracking);
  if (!on.is_ok()) return on.status();
  auto sub = setup({"SUBSCRIBE", kChannel});
  if (!sub.is_ok()) return sub.status();
  return conn;
}

Status ListenersImpl::session(Worker& w) {
  auto conn = subscribe(w);
  if (!conn.is_ok()) return conn.status();
  set_up(w, true);
  return read_loop(w, **conn);
}

Status ListenersImpl::read_loop(Worker& w, ListenerConnection& conn) {
  auto next_ping = Clock::now() + options_.heartbeat_interval;
  std::optional<Clock::time_point> pong_due;
  while (true) {
    const auto now = Clock::now();
    if (pong_due && now >= *pong_due) {
      return Status::unavailable("redis listener " + w.node.text() + ": no pong within " +
                                 std::to_string(options_.heartbeat_timeout.count()) + " ms");
    }
    if (!pong_due && now >= next_ping) {
      PLANCACHE_RETURN_IF_ERROR(conn.send({"PING"}, now + options_.heartbeat_timeout));
      pong_due = now + options_.heartbeat_timeout;
    }
    auto reply = conn.next_reply(pong_due ? *pong_due : next_ping);
    if (!reply.is_ok()) return reply.status();
    if (!reply->has_value()) continue;
    bool pong = false;
    handle(w, **reply, &pong);
    if (pong) {
      pong_due.reset();
      next_ping = Clock::now() + options_.heartbeat_interval;
    }
  }
}

void ListenersImpl::handle(Worker& w, const RedisReply& reply, bool* pong) {
  if (is_pong(reply)) {
    *pong = true;
    return;
  }
  if (reply.type != RedisReply::Type::kArray || reply.elements.size() < 3 ||
      reply.elements[0].str != "message" || reply.elements[1].str != kChannel) {
    return;
  }
  const RedisReply& body = reply.elements[2];
  ++counters_.messages;
  if (body.is_nil()) {
    ++counters_.flushes;
    if (callbacks_.on_flush) callbacks_.on_flush(w.node);
    return;
  }
  std::vector<std::string> keys;
  if (body.type == RedisReply::Type::kArray) {
    for (const RedisReply& k : body.elements) keys.push_back(k.str);
  } else {
    keys.push_back(body.str);
  }
  counters_.keys += keys.size();
  if (callbacks_.on_keys) callbacks_.on_keys(w.node, keys);
}

bool ListenersImpl::all_up() const {
  const auto masters = client_.masters();
  if (masters.empty()) return false;
  std::lock_guard lock(mu_);
  return std::all_of(masters.begin(), masters.end(), [&](const RedisEndpoint& m) {
    auto it = workers_.find(m.text());
    return it != workers_.end() && it->second->up.load();
  });
}

ListenerStats ListenersImpl::stats() const {
  ListenerStats s;
  {
    std::lock_guard lock(mu_);
    s.listeners = workers_.size();
    for (const auto& [name, w] : workers_) s.up += w->up.load() ? 1 : 0;
  }
  s.messages = counters_.messages;
  s.keys = counters_.keys;
  s.flushes = counters_.flushes;
  s.losses = counters_.losses;
  s.resubscribes = counters_.resubscribes;
  return s;
}

void ListenersImpl::stop() {
  std::call_once(stopped_, [this] {
    stop_.signal();
    supervisor_.join();
    std::map<std::string, std::unique_ptr<Worker>> workers;
    {
      std::lock_guard lock(mu_);
      workers.swap(workers_);
    }
    for (auto& [name, w] : workers) w->stop.signal();
    for (auto& [name, w] : workers) w->thread.join();
  });
}

}  // namespace

Result<std::unique_ptr<InvalidationListeners>> start_invalidation_listeners(
    RedisClient& client, ListenerOptions options, ListenerCallbacks callbacks) {
  if (options.prefixes.empty()) {
    return Status::invalid_argument("redis listener: at least one key prefix is required");
  }
  if (options.heartbeat_interval.count() <= 0 || options.heartbeat_timeout.count() <= 0) {
    return Status::invalid_argument(
        "redis listener: heartbeat interval and timeout must be positive");
  }
  return std::unique_ptr<InvalidationListeners>(
      std::make_unique<ListenersImpl>(client, std::move(options), std::move(callbacks)));
}

}  // namespace plancache::internal

// Pool and breaker of one node. The breaker counts transport failures in a
// sliding window; while open nothing is sent, so a frozen node costs its
// callers nothing but the first few timeouts. Only the background probe
// (connect + PING, jittered exponential backoff) closes it again.
#include "redis/redis_node.h"

#include <algorithm>

namespace plancache::internal {

RedisNode::RedisNode(RedisEndpoint endpoint, const RedisClientOptions& options, EventSink events)
    : endpoint_(std::move(endpoint)),
      options_(options),
      auth_{options.url.user, options.url.password, options.url.db},
      events_(std::move(events)),
      rng_(static_cast<unsigned>(std::random_device{}())) {}

RedisNode::~RedisNode() = default;

Status RedisNode::open_error() const {
  return Status::unavailable("redis node " + endpoint_.text() + " unavailable: breaker open" +
                             (last_error_.empty() ? "" : " (last error: " + last_error_ + ")"));
}

Result<std::unique_ptr<RedisConnection>> RedisNode::connect() {
  auto conn =
      RedisConnection::open(endpoint_, auth_, options_.connect_timeout, options_.command_timeout);
  std::lock_guard lock(mu_);
  if (conn.is_ok()) {
    ++opened_;
  } else {
    --total_;
    freed_.notify_one();
  }
  return conn;
}

Result<std::unique_ptr<RedisConnection>> RedisNode::acquire(SteadyTime deadline,
                                                            bool* connect_failed) {
  std::unique_lock lock(mu_);
  while (true) {
    if (state_ == BreakerState::kOpen) return open_error();
    if (!idle_.empty()) {
      auto conn = std::move(idle_.back());
      idle_.pop_back();
      return conn;
    }
    if (total_ < options_.pool_size) {
      ++total_;
      lock.unlock();
      auto conn = connect();
      *connect_failed = !conn.is_ok();
      return conn;
    }
    if (freed_.wait_until(lock, deadline) == std::cv_status::timeout && idle_.empty() &&
        total_ >= options_.pool_size && state_ == BreakerState::kClosed) {
      return Status::unavailable("redis " + endpoint_.text() + ": no free connection within " +
                                 std::to_string(options_.command_timeout.count()) +
                                 " ms (pool_size " + std::to_string(options_.pool_size) + ")");
    }
  }
}

void RedisNode::release(std::unique_ptr<RedisConnection> conn) {
  std::lock_guard lock(mu_);
  if (conn->broken() || state_ == BreakerState::kOpen) {
    --total_;
  } else {
    idle_.push_back(std::move(conn));
  }
  freed_.notify_one();
}

std::chrono::milliseconds RedisNode::jittered(std::chrono::milliseconds base) {
  std::uniform_int_distribution<int64_t> extra(0, std::max<int64_t>(base.count() / 4, 0));
  return base + std::chrono::milliseconds(extra(rng_));
}

void RedisNode::record_failure(const Status& status) {
  std::optional<NodeEvent> event;
  {
    std::lock_guard lock(mu_);
    ++errors_;
    last_error_ = status.message();
    const SteadyTime now = std::chrono::steady_clock::now();
    failures_.push_back(now);
    while (!failures_.empty() && failures_.front() < now - options_.failure_window) {
      failures_.pop_front();
    }
    if (state_ == BreakerState::kClosed && failures_.size() >= options_.failures_to_open) {
      state_ = BreakerState::kOpen;
      ++breaker_opens_;
      failures_.clear();
      backoff_ = options_.probe_backoff_min;
      next_probe_ = now + jittered(backoff_);
      total_ -= idle_.size();
      idle_.clear();
      freed_.notify_all();
      event = NodeEvent{endpoint_, BreakerState::kOpen, last_error_};
    }
  }
  if (event) events_(std::move(*event));
}

Result<std::vector<RedisReply>> RedisNode::run(const std::vector<const RedisArgs*>& commands,
                                               SteadyTime deadline) {
  bool connect_failed = false;
  auto conn = acquire(deadline, &connect_failed);
  if (!conn.is_ok()) {
    // An open breaker or a full pool is not a new failure of the node.
    if (connect_failed) record_failure(conn.status());
    return conn.status();
  }
  auto replies = (*conn)->run(commands);
  if (!replies.is_ok()) record_failure(replies.status());
  release(std::move(conn.value()));
  return replies;
}

void RedisNode::probe() {
  auto conn =
      RedisConnection::open(endpoint_, auth_, options_.connect_timeout, options_.command_timeout);
  Status failed;
  if (conn.is_ok()) {
    auto pong = (*conn)->run_one({"PING"});
    if (!pong.is_ok()) failed = pong.status();
  } else {
    failed = conn.status();
  }
  std::optional<NodeEvent> event;
  {
    std::lock_guard lock(mu_);
    if (state_ != BreakerState::kOpen) return;
    if (!failed.is_ok()) {
      last_error_ = failed.message();
      backoff_ = std::min(backoff_ * 2, options_.probe_backoff_max);
      next_probe_ = std::chrono::steady_clock::now() + jittered(backoff_);
      return;
    }
    state_ = BreakerState::kClosed;
    next_probe_ = SteadyTime::max();
    ++opened_;
    if (total_ < options_.pool_size) {
      ++total_;
      idle_.push_back(std::move(conn.value()));
    }
    event = NodeEvent{endpoint_, BreakerState::kClosed, "probe succeeded"};
  }
  events_(std::move(*event));
}

bool RedisNode::open() const {
  std::lock_guard lock(mu_);
  return state_ == BreakerState::kOpen;
}

SteadyTime RedisNode::next_probe() const {
  std::lock_guard lock(mu_);
  return next_probe_;
}

void RedisNode::set_master(bool master) {
  std::lock_guard lock(mu_);
  master_ = master;
}

RedisNodeStats RedisNode::stats() const {
  std::lock_guard lock(mu_);
  RedisNodeStats s;
  s.node = endpoint_;
  s.master = master_;
  s.breaker = state_;
  s.errors = errors_;
  s.reconnects = opened_ > 0 ? opened_ - 1 : 0;
  s.breaker_opens = breaker_opens_;
  s.idle_connections = idle_.size();
  return s;
}

}  // namespace plancache::internal

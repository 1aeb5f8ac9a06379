// HTTP planner: POST the request document to a URL; the answer body is the
// plan.
//
// Design
// - Built on BlockingHttpConnection (src/net): one deadline, fixed when the
//   call starts, bounds the whole call — resolve, connect, write, read — and
//   backoff never sleeps past it.
// - Connection reuse: a LIFO pool of idle keep-alive connections (at most
//   max_idle_connections) under one mutex. A call takes a connection out and
//   owns it exclusively; it goes back only after a complete answer that
//   allows keep-alive and left no stray bytes. A pooled connection that is
//   no longer reusable (the planner closed it, or sent bytes nobody asked
//   for) is dropped unused.
// - Retries: only for a connection failure before any byte of an answer
//   arrived (refused, reset, closed, broken pipe). A failure on a pooled
//   connection is the planner closing an idle keep-alive connection as we
//   reused it: the call moves to a fresh connection at once and it does not
//   count. A failure on a fresh connection counts and is retried after
//   initial_backoff_ms * 2^(n-1) while attempts and the deadline remain.
//   Anything else — a timeout, a partial or malformed answer, any status —
//   is final: the planner may have done the work, so it is never asked twice.
// - cancel_all() (server stopping): a flag every call checks before each
//   attempt, and a cancel() of the connection of every call in progress
//   (a connection registered after it is cancelled as it registers); a
//   cancelled connection fails the step under way and every later one at
//   once. A backoff sleep waits on a condition variable it notifies.
// - No exception leaves plan(): the connection reports through HttpFailure,
//   anything else (bad_alloc) is caught and becomes bad_gateway.
#include <algorithm>
#include <atomic>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>
#include <chrono>
#include <condition_variable>
#include <exception>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "net/blocking_http_connection.h"
#include "planner/planner.h"
#include "planner/planner_json.h"
#include "planner/planner_url.h"

namespace plancache::internal {
namespace {

namespace http = boost::beast::http;
using Clock = std::chrono::steady_clock;
using Connection = BlockingHttpConnection;
using Kind = HttpFailure::Kind;

class HttpPlanner final : public Planner {
 public:
  HttpPlanner(HttpPlannerOptions options, PlannerUrl url)
      : options_(std::move(options)), url_(std::move(url)), described_(url_.to_string()) {}

  Result<std::string> plan(const PlanRequest& request) override {
    Result<PlannerAnswer> answered = plan_with_hints(request);
    if (!answered.is_ok()) return answered.status();
    return std::move(answered->plan);
  }

  Result<PlannerAnswer> plan_with_hints(const PlanRequest& request) override {
    try {
      return call(build_request(planner_request_body(request)));
    } catch (const std::exception& e) {
      return error(std::string("unexpected failure: ") + e.what());
    }
  }

  std::string describe() const override { return described_; }
  bool accepts_incremental() const override { return options_.incremental; }

  void cancel_all() override {
    std::lock_guard<std::mutex> lock(mu_);
    cancelled_.store(true, std::memory_order_release);
    for (Connection* conn : active_) conn->cancel();
    cancel_cv_.notify_all();
  }

 private:
  bool cancelled() const { return cancelled_.load(std::memory_order_acquire); }

  // Registers a connection as in use by a call, for cancel_all(); one
  // registered after cancel_all() is cancelled here, under the same lock.
  class Active {
   public:
    Active(HttpPlanner& planner, Connection* conn) : planner_(planner), conn_(conn) {
      std::lock_guard<std::mutex> lock(planner_.mu_);
      planner_.active_.insert(conn_);
      if (planner_.cancelled()) conn_->cancel();
    }
    ~Active() {
      std::lock_guard<std::mutex> lock(planner_.mu_);
      planner_.active_.erase(conn_);
    }
    Active(const Active&) = delete;
    Active& operator=(const Active&) = delete;

   private:
    HttpPlanner& planner_;
    Connection* conn_;
  };

  Status error(const std::string& cause) const {
    return Status::bad_gateway(described_ + ": " + cause);
  }

  HttpRequestMessage build_request(std::string body) const {
    HttpRequestMessage req{http::verb::post, url_.target, 11};
    req.set(http::field::host, url_.host_header());
    req.set(http::field::user_agent, "plancache");
    req.set(http::field::content_type, "application/json");
    req.set(http::field::accept, "application/json");
    req.keep_alive(true);
    req.body() = std::move(body);
    req.prepare_payload();
    return req;
  }

  Result<PlannerAnswer> call(const HttpRequestMessage& req);
  HttpExchangeResult attempt(Connection& conn, bool fresh, const HttpRequestMessage& req,
                             Clock::time_point deadline);
  Result<PlannerAnswer> answer(const HttpResponseMessage& res) const;
  std::unique_ptr<Connection> take_idle();
  void give_back(std::unique_ptr<Connection> conn);

  const HttpPlannerOptions options_;
  const PlannerUrl url_;
  const std::string described_;
  // Guards idle_, the connections waiting for reuse (most recent last), and
  // active_, those in use by a call.
  std::mutex mu_;
  std::vector<std::unique_ptr<Connection>> idle_;
  std::set<Connection*> active_;
  std::condition_variable cancel_cv_;  // wakes backoff sleeps on cancel_all()
  std::atomic<bool> cancelled_{false};
};

// The retry loop. Bounded: every pass returns, or counts a failure (at most
// max_retries + 1), or is the single "stale pooled connection" pass after
// which only fresh connections are used.
Result<PlannerAnswer> HttpPlanner::call(const HttpRequestMessage& req) {
  const Clock::time_point deadline = Clock::now() + std::chrono::milliseconds(options_.timeout_ms);
  const std::string timed_out = "timed out after " + std::to_string(options_.timeout_ms) + " ms";
  uint32_t failures = 0;
  bool fresh_only = false;
  for (;;) {
    if (cancelled()) return planner_cancelled(described_);
    std::unique_ptr<Connection> conn = fresh_only ? nullptr : take_idle();
    const bool fresh = conn == nullptr;
    if (fresh) conn = std::make_unique<Connection>();
    HttpExchangeResult out = HttpFailure{};
    {
      Active active(*this, conn.get());
      out = attempt(*conn, fresh, req, deadline);
    }
    if (const auto* res = std::get_if<HttpResponseMessage>(&out)) {
      if (!cancelled() && conn->reusable()) give_back(std::move(conn));
      return answer(*res);
    }
    const HttpFailure& failure = std::get<HttpFailure>(out);
    if (cancelled() || failure.kind == Kind::kCancelled) return planner_cancelled(described_);
    if (failure.kind == Kind::kTimedOut) return error(timed_out + " (" + failure.what + ")");
    if (failure.kind != Kind::kConnectionLost) return error(failure.what);
    if (!fresh) {  // a keep-alive connection the planner had closed: not a failure
      fresh_only = true;
      continue;
    }
    ++failures;
    if (failures > options_.max_retries) {
      return error("connection failed after " + std::to_string(failures) +
                   (failures == 1 ? " attempt: " : " attempts: ") + failure.what);
    }
    const uint64_t shift = std::min<uint64_t>(failures - 1, 32);
    const auto backoff = std::chrono::milliseconds(
        std::min<uint64_t>(uint64_t{options_.initial_backoff_ms} << shift, options_.timeout_ms));
    if (Clock::now() + backoff >= deadline) {
      return error(timed_out + " while retrying (last error: " + failure.what + ")");
    }
    std::unique_lock<std::mutex> lock(mu_);
    cancel_cv_.wait_for(lock, backoff, [this] { return cancelled(); });
  }
}

HttpExchangeResult HttpPlanner::attempt(Connection& conn, bool fresh, const HttpRequestMessage& req,
                                        Clock::time_point deadline) {
  if (fresh) {
    if (std::optional<HttpFailure> failed = conn.connect(url_.host, url_.port, deadline)) {
      return std::move(*failed);
    }
  }
  return conn.exchange(req, options_.max_answer_bytes, deadline);
}

Result<PlannerAnswer> HttpPlanner::answer(const HttpResponseMessage& res) const {
  const unsigned status = res.result_int();
  if (status < 200 || status > 299) {
    return error("planner answered HTTP " + std::to_string(status) + ": " + excerpt(res.body()));
  }
  PlannerAnswer out;
  const boost::beast::string_view header(kPriorityHeader.data(), kPriorityHeader.size());
  if (const auto hint = res.find(header); hint != res.end()) {
    const std::string_view value(hint->value().data(), hint->value().size());
    Result<EntryPriority> priority = parse_entry_priority(value);
    if (!priority.is_ok()) {
      return error("planner answered header " + std::string(kPriorityHeader) + ": '" +
                   excerpt(value, 40) + R"(' (expected "important" or "temporary"))");
    }
    out.priority = *priority;
  }
  Result<std::string> plan = normalize_planner_answer(res.body(), described_);
  if (!plan.is_ok()) return plan.status();
  out.plan = std::move(plan).value();
  return out;
}

std::unique_ptr<Connection> HttpPlanner::take_idle() {
  for (;;) {  // bounded by the pool size: every pass removes one connection
    std::unique_ptr<Connection> conn;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (idle_.empty()) return nullptr;
      conn = std::move(idle_.back());
      idle_.pop_back();
    }
    if (conn->reusable()) return conn;
  }  // a closed connection is destroyed here, outside the lock
}

void HttpPlanner::give_back(std::unique_ptr<Connection> conn) {
  std::lock_guard<std::mutex> lock(mu_);
  if (idle_.size() < options_.max_idle_connections) idle_.push_back(std::move(conn));
}  // `conn`, when not kept, is closed once this returns, after the lock is released

}  // namespace

Result<std::unique_ptr<Planner>> new_http_planner(HttpPlannerOptions options) {
  Result<PlannerUrl> url = parse_planner_url(options.url);
  if (!url.is_ok()) return url.status();
  if (options.timeout_ms == 0) {
    return Status::invalid_argument("planner timeout must be at least 1 ms");
  }
  return std::unique_ptr<Planner>(
      std::make_unique<HttpPlanner>(std::move(options), std::move(url).value()));
}

}  // namespace plancache::internal

// HTTP planner: POST the request document to a URL; the answer body is the
// plan.
//
// Design
// - Blocking calls built from Beast's asynchronous operations (Beast's
//   synchronous calls cannot time out). Each connection owns a private
//   io_context, and plan() runs it on the calling thread until the step
//   completes. One deadline, fixed when the call starts, bounds the whole
//   call: beast::tcp_stream::expires_at carries it into connect, write and
//   read, and backoff never sleeps past it.
// - Connection reuse: a LIFO pool of idle keep-alive connections (at most
//   max_idle_connections) under one mutex. A call takes a connection out and
//   owns it exclusively; it goes back only after a complete answer that
//   allows keep-alive and left no stray bytes. A pooled connection that is
//   readable before we send anything (the planner closed it, or sent bytes
//   nobody asked for) is dropped unused.
// - Retries: only for a connection failure before any byte of an answer
//   arrived (refused, reset, closed, broken pipe). A failure on a pooled
//   connection is the planner closing an idle keep-alive connection as we
//   reused it: the call moves to a fresh connection at once and it does not
//   count. A failure on a fresh connection counts and is retried after
//   initial_backoff_ms * 2^(n-1) while attempts and the deadline remain.
//   Anything else — a timeout, a partial or malformed answer, any status —
//   is final: the planner may have done the work, so it is never asked twice.
// - Sockets are opened here with SOCK_CLOEXEC (Asio's own open does not set
//   it), so commands started by the same process inherit none of them.
// - cancel_all() (server stopping): a flag every call checks before each
//   step, and a close of the socket of every call in progress, posted to
//   its io_context so it runs on the calling thread (Asio objects are not
//   thread-safe); a closed socket fails the step under way and every later
//   one at once. A backoff sleep waits on a condition variable it notifies.
// - No exception leaves plan(): Beast reports through error_code, anything
//   else (bad_alloc, system_error) is caught and becomes bad_gateway.
// Limitation: a host name is resolved on Asio's resolver thread and
// getaddrinfo cannot be cancelled, so a hung DNS server can hold a call past
// its deadline (IP literals skip resolution entirely).
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <cerrno>
#include <chrono>
#include <exception>
#include <condition_variable>
#include <mutex>
#include <set>
#include <system_error>
#include <utility>
#include <vector>

#include "planner/planner.h"
#include "planner/planner_json.h"
#include "planner/planner_url.h"

namespace plancache::internal {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;
using Request = http::request<http::string_body>;
using Response = http::response<http::string_body>;

// One keep-alive connection and the io_context its operations run on.
struct Connection {
  asio::io_context ioc{1};
  beast::tcp_stream stream{ioc};  // declared after ioc: destroyed first
  beast::flat_buffer buffer;
};

// Runs `ioc` until every started operation has completed.
void drain(asio::io_context& ioc) {
  ioc.run();
  ioc.restart();
}

// How one attempt on one connection ended.
struct Outcome {
  enum class Kind {
    kAnswer,            // a complete response (any status)
    kConnectionFailed,  // no answer byte arrived: may be retried
    kTimedOut,          // the call's deadline passed
    kFailed,            // anything else: final
  };
  Kind kind = Kind::kAnswer;
  std::string cause;  // for every kind but kAnswer
  Response response;  // for kAnswer
};

Outcome failed(Outcome::Kind kind, std::string cause) {
  Outcome out;
  out.kind = kind;
  out.cause = std::move(cause);
  return out;
}

// The errors that mean "the connection is gone", not "the planner answered
// something we did not like".
bool is_connection_error(const beast::error_code& ec) {
  return ec == asio::error::connection_refused || ec == asio::error::connection_reset ||
         ec == asio::error::connection_aborted || ec == asio::error::broken_pipe ||
         ec == asio::error::not_connected || ec == asio::error::eof ||
         ec == asio::error::network_unreachable || ec == asio::error::host_unreachable ||
         ec == http::error::end_of_stream;
}

// True when a pooled connection has nothing to read, i.e. the planner has
// neither closed it nor sent anything unasked.
bool is_quiet(Connection& conn) {
  pollfd pfd{};
  pfd.fd = conn.stream.socket().native_handle();
  pfd.events = POLLIN | POLLRDHUP;
  return ::poll(&pfd, 1, 0) == 0;
}

class HttpPlanner final : public Planner {
 public:
  HttpPlanner(HttpPlannerOptions options, PlannerUrl url)
      : options_(std::move(options)), url_(std::move(url)), described_(url_.to_string()) {}

  Result<std::string> plan(const PlanRequest& request) override {
    try {
      return call(build_request(planner_request_body(request)));
    } catch (const std::exception& e) {
      return error(std::string("unexpected failure: ") + e.what());
    }
  }

  std::string describe() const override { return described_; }

  void cancel_all() override {
    std::lock_guard<std::mutex> lock(mu_);
    cancelled_.store(true, std::memory_order_release);
    for (Connection* conn : active_) {
      asio::post(conn->ioc, [conn] {
        beast::error_code ignored;
        conn->stream.socket().close(ignored);
      });
    }
    cancel_cv_.notify_all();
  }

 private:
  bool cancelled() const { return cancelled_.load(std::memory_order_acquire); }

  // Registers a connection as in use by a call, for cancel_all().
  class Active {
   public:
    Active(HttpPlanner& planner, Connection* conn) : planner_(planner), conn_(conn) {
      std::lock_guard<std::mutex> lock(planner_.mu_);
      planner_.active_.insert(conn_);
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

  Request build_request(std::string body) const {
    Request req{http::verb::post, url_.target, 11};
    req.set(http::field::host, url_.host_header());
    req.set(http::field::user_agent, "plancache");
    req.set(http::field::content_type, "application/json");
    req.set(http::field::accept, "application/json");
    req.keep_alive(true);
    req.body() = std::move(body);
    req.prepare_payload();
    return req;
  }

  Result<std::string> call(const Request& req);
  Outcome attempt(Connection& conn, bool fresh, const Request& req, Clock::time_point deadline);
  Outcome connect(Connection& conn, Clock::time_point deadline);
  Outcome resolve(Connection& conn, Clock::time_point deadline, std::vector<tcp::endpoint>* out);
  Outcome exchange(Connection& conn, const Request& req, Clock::time_point deadline);
  beast::error_code read_answer(Connection& conn, http::response_parser<http::string_body>& parser);
  Result<std::string> answer(const Response& res) const;
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
Result<std::string> HttpPlanner::call(const Request& req) {
  const Clock::time_point deadline = Clock::now() + std::chrono::milliseconds(options_.timeout_ms);
  const std::string timed_out = "timed out after " + std::to_string(options_.timeout_ms) + " ms";
  uint32_t failures = 0;
  bool fresh_only = false;
  for (;;) {
    if (cancelled()) return planner_cancelled(described_);
    std::unique_ptr<Connection> conn = fresh_only ? nullptr : take_idle();
    const bool fresh = conn == nullptr;
    if (fresh) conn = std::make_unique<Connection>();
    Outcome out;
    {
      Active active(*this, conn.get());
      out = attempt(*conn, fresh, req, deadline);
    }
    if (cancelled() && out.kind != Outcome::Kind::kAnswer) return planner_cancelled(described_);
    switch (out.kind) {
      case Outcome::Kind::kAnswer: {
        const bool reusable =
            out.response.keep_alive() && conn->buffer.size() == 0 && !cancelled();
        if (reusable) give_back(std::move(conn));
        return answer(out.response);
      }
      case Outcome::Kind::kTimedOut:
        return error(timed_out + " (" + out.cause + ")");
      case Outcome::Kind::kFailed:
        return error(out.cause);
      case Outcome::Kind::kConnectionFailed:
        break;
    }
    if (!fresh) {  // a keep-alive connection the planner had closed: not a failure
      fresh_only = true;
      continue;
    }
    ++failures;
    if (failures > options_.max_retries) {
      return error("connection failed after " + std::to_string(failures) +
                   (failures == 1 ? " attempt: " : " attempts: ") + out.cause);
    }
    const uint64_t shift = std::min<uint64_t>(failures - 1, 32);
    const auto backoff = std::chrono::milliseconds(
        std::min<uint64_t>(uint64_t{options_.initial_backoff_ms} << shift, options_.timeout_ms));
    if (Clock::now() + backoff >= deadline) {
      return error(timed_out + " while retrying (last error: " + out.cause + ")");
    }
    std::unique_lock<std::mutex> lock(mu_);
    cancel_cv_.wait_for(lock, backoff, [this] { return cancelled(); });
  }
}

Outcome HttpPlanner::attempt(Connection& conn, bool fresh, const Request& req,
                             Clock::time_point deadline) {
  if (fresh) {
    Outcome connected = connect(conn, deadline);
    if (connected.kind != Outcome::Kind::kAnswer) return connected;
  }
  return exchange(conn, req, deadline);
}

// The endpoints for the URL's host. kAnswer here means "resolved".
Outcome HttpPlanner::resolve(Connection& conn, Clock::time_point deadline,
                             std::vector<tcp::endpoint>* out) {
  beast::error_code ec;
  const asio::ip::address literal = asio::ip::make_address(url_.host, ec);
  if (!ec) {
    out->emplace_back(literal, url_.port);
    return {};
  }
  tcp::resolver resolver(conn.ioc);
  asio::steady_timer timer(conn.ioc);
  bool timed_out = false;
  timer.expires_at(deadline);
  timer.async_wait([&](beast::error_code e) {
    if (!e) {
      timed_out = true;
      resolver.cancel();
    }
  });
  resolver.async_resolve(url_.host, std::to_string(url_.port),
                         [&](beast::error_code e, const tcp::resolver::results_type& found) {
                           ec = e;
                           for (const auto& entry : found) out->push_back(entry.endpoint());
                           timer.cancel();
                         });
  drain(conn.ioc);
  if (timed_out) return failed(Outcome::Kind::kTimedOut, "resolving " + url_.host);
  if (ec || out->empty()) {
    return failed(Outcome::Kind::kFailed, "cannot resolve '" + url_.host + "': " + ec.message());
  }
  return {};
}

// Connects to the first endpoint that accepts. kAnswer here means "connected".
Outcome HttpPlanner::connect(Connection& conn, Clock::time_point deadline) {
  std::vector<tcp::endpoint> endpoints;
  Outcome resolved = resolve(conn, deadline, &endpoints);
  if (resolved.kind != Outcome::Kind::kAnswer) return resolved;
  beast::error_code ec;
  for (const tcp::endpoint& endpoint : endpoints) {
    if (cancelled()) return failed(Outcome::Kind::kFailed, "cancelled");
    const int fd = ::socket(endpoint.protocol().family(), SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP);
    if (fd < 0) {
      return failed(Outcome::Kind::kFailed,
                    "cannot open a socket: " + std::system_category().message(errno));
    }
    beast::error_code assigned;
    conn.stream.socket().assign(endpoint.protocol(), fd, assigned);
    if (assigned) {
      ::close(fd);
      return failed(Outcome::Kind::kFailed, "cannot use a socket: " + assigned.message());
    }
    conn.stream.expires_at(deadline);
    conn.stream.async_connect(endpoint, [&](beast::error_code e) { ec = e; });
    drain(conn.ioc);
    if (!ec) {
      beast::error_code ignored;
      conn.stream.socket().set_option(tcp::no_delay(true), ignored);
      return {};
    }
    if (ec == beast::error::timeout) return failed(Outcome::Kind::kTimedOut, "connecting");
    beast::error_code ignored;
    conn.stream.socket().close(ignored);
  }
  return failed(Outcome::Kind::kConnectionFailed, "cannot connect: " + ec.message());
}

// Reads one response into `parser`, bounded by max_answer_bytes. Boost 1.74
// does not enforce body_limit against a Content-Length when reading a whole
// response (finish_header's error is overwritten when the eager parse goes
// on into the body), so the header is read alone and its length checked
// here; chunked and read-to-EOF bodies are bounded by the parser itself.
beast::error_code HttpPlanner::read_answer(Connection& conn,
                                           http::response_parser<http::string_body>& parser) {
  beast::error_code ec;
  parser.body_limit(options_.max_answer_bytes);
  http::async_read_header(conn.stream, conn.buffer, parser,
                          [&](beast::error_code e, size_t) { ec = e; });
  drain(conn.ioc);
  if (ec) return ec;
  const boost::optional<std::uint64_t> length = parser.content_length();
  if (length && *length > options_.max_answer_bytes) return http::error::body_limit;
  if (parser.is_done()) return ec;
  http::async_read(conn.stream, conn.buffer, parser, [&](beast::error_code e, size_t) { ec = e; });
  drain(conn.ioc);
  return ec;
}

Outcome HttpPlanner::exchange(Connection& conn, const Request& req, Clock::time_point deadline) {
  beast::error_code ec;
  if (cancelled()) return failed(Outcome::Kind::kFailed, "cancelled");
  conn.stream.expires_at(deadline);
  http::async_write(conn.stream, req, [&](beast::error_code e, size_t) { ec = e; });
  drain(conn.ioc);
  if (ec == beast::error::timeout) return failed(Outcome::Kind::kTimedOut, "sending the request");
  if (ec) {
    const auto kind = is_connection_error(ec) ? Outcome::Kind::kConnectionFailed
                                              : Outcome::Kind::kFailed;
    return failed(kind, "connection lost while sending the request: " + ec.message());
  }
  if (cancelled()) return failed(Outcome::Kind::kFailed, "cancelled");
  http::response_parser<http::string_body> parser;
  ec = read_answer(conn, parser);
  conn.stream.expires_never();
  if (ec == beast::error::timeout) return failed(Outcome::Kind::kTimedOut, "waiting for the answer");
  if (ec == http::error::body_limit) {
    return failed(Outcome::Kind::kFailed, "answer larger than " +
                                              std::to_string(options_.max_answer_bytes) + " bytes");
  }
  if (ec && is_connection_error(ec) && !parser.got_some() && conn.buffer.size() == 0) {
    return failed(Outcome::Kind::kConnectionFailed,
                  "connection closed before any answer: " + ec.message());
  }
  if (ec) return failed(Outcome::Kind::kFailed, "cannot read the answer: " + ec.message());
  Outcome out;
  out.response = parser.release();
  return out;
}

Result<std::string> HttpPlanner::answer(const Response& res) const {
  const unsigned status = res.result_int();
  if (status < 200 || status > 299) {
    return error("planner answered HTTP " + std::to_string(status) + ": " + excerpt(res.body()));
  }
  return normalize_planner_answer(res.body(), described_);
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
    if (is_quiet(*conn)) return conn;
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

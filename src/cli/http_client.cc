// Blocking exchange with a deadline, built from Beast's asynchronous calls.
//
// Beast's synchronous calls cannot time out, so each step starts the async
// operation and runs a private io_context until it completes. beast::tcp_stream
// carries the deadline for connect/write/read (it closes the socket and
// completes the operation with error::timeout when it passes); name
// resolution, which tcp_stream does not cover, races a steady_timer that
// cancels the resolver. No exception escapes: Beast reports through
// error_code here, and anything unexpected is caught in send().
//
// HttpClient::send() and HttpConnection::send() share one Exchange: the
// former over a fresh HttpConnectionState with "Connection: close", the
// latter over its own state, which keeps the stream open between exchanges
// while the server agrees (an answer without keep-alive, or any failure,
// closes it). A reused stream that fails before any answer byte arrived was
// closed by the server while idle: it is reopened and the request sent once
// more (kUnavailable only; a timeout is not retried).
#include "cli/http_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <exception>
#include <optional>
#include <sstream>
#include <utility>

#include "cli/version.h"

namespace plancache::cli {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

http::verb to_verb(HttpMethod method) {
  switch (method) {
    case HttpMethod::kGet: return http::verb::get;
    case HttpMethod::kPut: return http::verb::put;
    case HttpMethod::kPost: return http::verb::post;
    case HttpMethod::kDelete: return http::verb::delete_;
  }
  return http::verb::get;
}

}  // namespace

// One connection's io_context and, while a connection is open, its stream
// and read buffer. HttpClient::send() uses a fresh one per exchange.
struct HttpConnectionState {
  boost::asio::io_context ioc;
  std::optional<boost::beast::tcp_stream> stream;
  boost::beast::flat_buffer buffer;
};

namespace {

// Runs `ioc` until every started operation has completed.
void drain(asio::io_context& ioc) {
  ioc.run();
  ioc.restart();
}

class Exchange {
 public:
  Exchange(const ServerUrl& url, std::chrono::milliseconds timeout, HttpConnectionState& conn)
      : url_(url), timeout_(timeout), deadline_(Clock::now() + timeout), conn_(conn) {}

  // keep_alive: ask the server to keep the connection open, and leave it
  // open in conn_ for the next exchange when the server agrees.
  Result<HttpResponse> run(const HttpRequest& request, bool keep_alive) {
    const bool reused = conn_.stream.has_value();
    if (!reused) PLANCACHE_RETURN_IF_ERROR(connect());
    bool got_some = false;
    Result<HttpResponse> response = exchange(request, keep_alive, &got_some);
    if (!response.is_ok() && reused && !got_some &&
        response.status().code() == StatusCode::kUnavailable) {
      // The server closed the idle keep-alive connection: open a new one and
      // send again, within the same deadline.
      close();
      PLANCACHE_RETURN_IF_ERROR(connect());
      response = exchange(request, keep_alive, &got_some);
    }
    if (!response.is_ok()) close();
    return response;
  }

 private:
  Status connect() {
    tcp::resolver::results_type endpoints;
    PLANCACHE_RETURN_IF_ERROR(resolve(&endpoints));
    beast::tcp_stream& stream = conn_.stream.emplace(conn_.ioc);
    conn_.buffer.clear();
    stream.expires_at(deadline_);
    beast::error_code ec;
    stream.async_connect(endpoints, [&](beast::error_code e, const tcp::endpoint&) { ec = e; });
    drain(conn_.ioc);
    if (ec) {
      close();
      return transport_error("connect", ec);
    }
    return Status::ok();
  }

  // One request and its answer on the open stream. *got_some: whether any
  // byte of an answer arrived.
  Result<HttpResponse> exchange(const HttpRequest& request, bool keep_alive, bool* got_some) {
    beast::tcp_stream& stream = *conn_.stream;
    stream.expires_at(deadline_);
    beast::error_code ec;
    http::request<http::string_body> req = build(request, keep_alive);
    http::async_write(stream, req, [&](beast::error_code e, size_t) { ec = e; });
    drain(conn_.ioc);
    if (ec) return transport_error("send", ec);

    http::response_parser<http::string_body> parser;
    parser.body_limit(HttpClient::kMaxResponseBytes);
    http::async_read(stream, conn_.buffer, parser, [&](beast::error_code e, size_t) { ec = e; });
    drain(conn_.ioc);
    *got_some = parser.got_some();
    if (ec) return transport_error("read the answer", ec);

    auto& res = parser.get();
    HttpResponse out;
    out.status = static_cast<int>(res.result_int());
    out.content_type = std::string(res[http::field::content_type]);
    out.body = std::move(res.body());
    if (keep_alive && res.keep_alive()) {
      stream.expires_never();
    } else {
      close();
    }
    return out;
  }

  void close() {
    if (!conn_.stream) return;
    beast::error_code ignored;
    conn_.stream->socket().shutdown(tcp::socket::shutdown_both, ignored);
    conn_.stream.reset();
  }

  Status resolve(tcp::resolver::results_type* endpoints) {
    tcp::resolver resolver(conn_.ioc);
    asio::steady_timer timer(conn_.ioc);
    beast::error_code ec;
    bool timed_out = false;
    timer.expires_at(deadline_);
    timer.async_wait([&](beast::error_code e) {
      if (!e) {
        timed_out = true;
        resolver.cancel();
      }
    });
    resolver.async_resolve(url_.host, std::to_string(url_.port),
                           [&](beast::error_code e, tcp::resolver::results_type r) {
                             ec = e;
                             *endpoints = std::move(r);
                             timer.cancel();
                           });
    drain(conn_.ioc);
    if (timed_out) return transport_error("resolve the host", beast::error::timeout);
    if (ec) return transport_error("resolve the host", ec);
    return Status::ok();
  }

  http::request<http::string_body> build(const HttpRequest& request, bool keep_alive) const {
    http::request<http::string_body> req{to_verb(request.method), url_.base_path + request.path,
                                         11};
    req.set(http::field::host, url_.host_header());
    req.set(http::field::user_agent, "plancache-cli/" + std::string(kVersionString));
    req.set(http::field::accept, "application/json");
    if (!request.bearer_token.empty()) {
      req.set(http::field::authorization, "Bearer " + request.bearer_token);
    }
    if (!request.body.empty()) {
      req.set(http::field::content_type, "application/json");
      req.body() = request.body;
    }
    req.keep_alive(keep_alive);
    req.prepare_payload();
    return req;
  }

  Status transport_error(std::string_view step, beast::error_code ec) const {
    if (ec == beast::error::timeout || ec == asio::error::operation_aborted) {
      std::ostringstream message;
      message << "timed out after " << static_cast<double>(timeout_.count()) / 1000.0
              << " s (while trying to " << step << ")";
      return Status::deadline_exceeded(message.str());
    }
    return Status::unavailable("could not " + std::string(step) + ": " + ec.message());
  }

  const ServerUrl& url_;
  std::chrono::milliseconds timeout_;
  Clock::time_point deadline_;
  HttpConnectionState& conn_;
};

}  // namespace

HttpClient::HttpClient(ServerUrl url, std::chrono::milliseconds timeout)
    : url_(std::move(url)), timeout_(timeout) {}

Result<HttpResponse> HttpClient::send(const HttpRequest& request) const {
  try {
    HttpConnectionState conn;
    Exchange exchange(url_, timeout_, conn);
    return exchange.run(request, /*keep_alive=*/false);
  } catch (const std::exception& e) {
    return Status::internal(std::string("HTTP client failed: ") + e.what());
  }
}

HttpConnection::HttpConnection(const HttpClient& client)
    : url_(client.url()),
      timeout_(client.timeout()),
      state_(std::make_unique<HttpConnectionState>()) {}

HttpConnection::~HttpConnection() = default;
HttpConnection::HttpConnection(HttpConnection&&) noexcept = default;
HttpConnection& HttpConnection::operator=(HttpConnection&&) noexcept = default;

Result<HttpResponse> HttpConnection::send(const HttpRequest& request) {
  try {
    Exchange exchange(url_, timeout_, *state_);
    return exchange.run(request, /*keep_alive=*/true);
  } catch (const std::exception& e) {
    state_ = std::make_unique<HttpConnectionState>();  // drop whatever was open
    return Status::internal(std::string("HTTP client failed: ") + e.what());
  }
}

}  // namespace plancache::cli

// Blocking exchange with a deadline, built from Beast's asynchronous calls.
//
// Beast's synchronous calls cannot time out, so each step starts the async
// operation and runs a private io_context until it completes. beast::tcp_stream
// carries the deadline for connect/write/read (it closes the socket and
// completes the operation with error::timeout when it passes); name
// resolution, which tcp_stream does not cover, races a steady_timer that
// cancels the resolver. No exception escapes: Beast reports through
// error_code here, and anything unexpected is caught in send().
#include "cli/http_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <exception>
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

// Runs `ioc` until every started operation has completed.
void drain(asio::io_context& ioc) {
  ioc.run();
  ioc.restart();
}

class Exchange {
 public:
  Exchange(const ServerUrl& url, std::chrono::milliseconds timeout)
      : url_(url), timeout_(timeout), deadline_(Clock::now() + timeout) {}

  Result<HttpResponse> run(const HttpRequest& request) {
    tcp::resolver::results_type endpoints;
    PLANCACHE_RETURN_IF_ERROR(resolve(&endpoints));
    beast::tcp_stream stream(ioc_);
    stream.expires_at(deadline_);
    beast::error_code ec;
    stream.async_connect(endpoints, [&](beast::error_code e, const tcp::endpoint&) { ec = e; });
    drain(ioc_);
    if (ec) return transport_error("connect", ec);

    http::request<http::string_body> req = build(request);
    http::async_write(stream, req, [&](beast::error_code e, size_t) { ec = e; });
    drain(ioc_);
    if (ec) return transport_error("send", ec);

    beast::flat_buffer buffer;
    http::response_parser<http::string_body> parser;
    parser.body_limit(HttpClient::kMaxResponseBytes);
    http::async_read(stream, buffer, parser, [&](beast::error_code e, size_t) { ec = e; });
    drain(ioc_);
    if (ec) return transport_error("read the answer", ec);

    beast::error_code ignored;
    stream.socket().shutdown(tcp::socket::shutdown_both, ignored);
    const auto& res = parser.get();
    HttpResponse out;
    out.status = static_cast<int>(res.result_int());
    out.content_type = std::string(res[http::field::content_type]);
    out.body = res.body();
    return out;
  }

 private:
  Status resolve(tcp::resolver::results_type* endpoints) {
    tcp::resolver resolver(ioc_);
    asio::steady_timer timer(ioc_);
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
    drain(ioc_);
    if (timed_out) return transport_error("resolve the host", beast::error::timeout);
    if (ec) return transport_error("resolve the host", ec);
    return Status::ok();
  }

  http::request<http::string_body> build(const HttpRequest& request) const {
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
    req.keep_alive(false);
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

  asio::io_context ioc_;
  const ServerUrl& url_;
  std::chrono::milliseconds timeout_;
  Clock::time_point deadline_;
};

}  // namespace

HttpClient::HttpClient(ServerUrl url, std::chrono::milliseconds timeout)
    : url_(std::move(url)), timeout_(timeout) {}

Result<HttpResponse> HttpClient::send(const HttpRequest& request) const {
  try {
    Exchange exchange(url_, timeout_);
    return exchange.run(request);
  } catch (const std::exception& e) {
    return Status::internal(std::string("HTTP client failed: ") + e.what());
  }
}

}  // namespace plancache::cli

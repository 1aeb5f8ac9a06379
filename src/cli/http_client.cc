// One exchange over a BlockingHttpConnection (src/net), which owns the
// deadline mechanics, the answer bound and the reuse check. This file owns
// what is the CLI's own: the request it builds, the reconnect rule of a
// keep-alive connection and the wording of its errors.
//
// HttpClient::send() and HttpConnection::send() share one Exchange: the
// former over a fresh connection with "Connection: close", the latter over
// its own, which stays open between exchanges while the server agrees (an
// answer without keep-alive, or any failure, closes it). A connection that
// is no longer reusable is reopened before sending; a reused one that still
// fails before any answer byte arrived was closed by the server as we sent:
// it is reopened and the request sent once more (a timeout is not retried).
#include "cli/http_client.h"

#include <boost/beast/http/field.hpp>
#include <boost/beast/http/verb.hpp>
#include <exception>
#include <optional>
#include <sstream>
#include <utility>
#include <variant>

#include "cli/version.h"
#include "net/blocking_http_connection.h"

namespace plancache::cli {
namespace {

namespace http = boost::beast::http;
using internal::BlockingHttpConnection;
using internal::HttpExchangeResult;
using internal::HttpFailure;
using internal::HttpRequestMessage;
using internal::HttpResponseMessage;

http::verb to_verb(HttpMethod method) {
  switch (method) {
    case HttpMethod::kGet: return http::verb::get;
    case HttpMethod::kPut: return http::verb::put;
    case HttpMethod::kPost: return http::verb::post;
    case HttpMethod::kDelete: return http::verb::delete_;
  }
  return http::verb::get;
}

bool lost_before_answer(const HttpExchangeResult& result) {
  const auto* failure = std::get_if<HttpFailure>(&result);
  return failure != nullptr && failure->kind == HttpFailure::Kind::kConnectionLost;
}

class Exchange {
 public:
  Exchange(const ServerUrl& url, std::chrono::milliseconds timeout, BlockingHttpConnection& conn)
      : url_(url),
        timeout_(timeout),
        deadline_(BlockingHttpConnection::Clock::now() + timeout),
        conn_(conn) {}

  // keep_alive: ask the server to keep the connection open, and leave it
  // open in conn_ for the next exchange when the server agrees.
  Result<HttpResponse> run(const HttpRequest& request, bool keep_alive) {
    const HttpRequestMessage req = build(request, keep_alive);
    const bool reused = conn_.reusable();
    if (!reused) PLANCACHE_RETURN_IF_ERROR(connect());
    HttpExchangeResult result = conn_.exchange(req, HttpClient::kMaxResponseBytes, deadline_);
    if (reused && lost_before_answer(result)) {
      // The server closed the idle keep-alive connection as we reused it:
      // open a new one and send again, within the same deadline.
      PLANCACHE_RETURN_IF_ERROR(connect());
      result = conn_.exchange(req, HttpClient::kMaxResponseBytes, deadline_);
    }
    if (const auto* failure = std::get_if<HttpFailure>(&result)) return transport_error(*failure);
    HttpResponseMessage& res = std::get<HttpResponseMessage>(result);
    HttpResponse out;
    out.status = static_cast<int>(res.result_int());
    out.content_type = std::string(res[http::field::content_type]);
    out.body = std::move(res.body());
    if (!keep_alive || !conn_.reusable()) conn_.close();
    return out;
  }

 private:
  Status connect() {
    if (std::optional<HttpFailure> failure = conn_.connect(url_.host, url_.port, deadline_)) {
      return transport_error(*failure);
    }
    return Status::ok();
  }

  HttpRequestMessage build(const HttpRequest& request, bool keep_alive) const {
    HttpRequestMessage req{to_verb(request.method), url_.base_path + request.path, 11};
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

  Status transport_error(const HttpFailure& failure) const {
    if (failure.kind == HttpFailure::Kind::kTimedOut) {
      std::ostringstream message;
      message << "timed out after " << static_cast<double>(timeout_.count()) / 1000.0
              << " s (while " << failure.what << ")";
      return Status::deadline_exceeded(message.str());
    }
    return Status::unavailable(failure.what);
  }

  const ServerUrl& url_;
  std::chrono::milliseconds timeout_;
  BlockingHttpConnection::Clock::time_point deadline_;
  BlockingHttpConnection& conn_;
};

}  // namespace

HttpClient::HttpClient(ServerUrl url, std::chrono::milliseconds timeout)
    : url_(std::move(url)), timeout_(timeout) {}

Result<HttpResponse> HttpClient::send(const HttpRequest& request) const {
  try {
    BlockingHttpConnection conn;
    Exchange exchange(url_, timeout_, conn);
    return exchange.run(request, /*keep_alive=*/false);
  } catch (const std::exception& e) {
    return Status::internal(std::string("HTTP client failed: ") + e.what());
  }
}

HttpConnection::HttpConnection(const HttpClient& client)
    : url_(client.url()),
      timeout_(client.timeout()),
      connection_(std::make_unique<BlockingHttpConnection>()) {}

HttpConnection::~HttpConnection() = default;
HttpConnection::HttpConnection(HttpConnection&&) noexcept = default;
HttpConnection& HttpConnection::operator=(HttpConnection&&) noexcept = default;

Result<HttpResponse> HttpConnection::send(const HttpRequest& request) {
  try {
    Exchange exchange(url_, timeout_, *connection_);
    return exchange.run(request, /*keep_alive=*/true);
  } catch (const std::exception& e) {
    connection_->close();  // drop whatever was open
    return Status::internal(std::string("HTTP client failed: ") + e.what());
  }
}

}  // namespace plancache::cli

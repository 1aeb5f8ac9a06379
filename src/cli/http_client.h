// HttpClient: one blocking HTTP/1.1 exchange with a plancache server.
//
// Each send() opens a TCP connection, writes one request, reads one response
// and closes (the CLI makes one or two calls per run, so there is nothing to
// pool). The whole exchange — resolve, connect, write, read — is bounded by
// the timeout given at construction.
//
// HttpConnection: the same exchange over a keep-alive connection that stays
// open between send()s, for a command that sends many requests in a row
// (`warm`: one per worker thread).
//
// Both are built on internal::BlockingHttpConnection (src/net), which also
// refuses an answer larger than kMaxResponseBytes before reading its body.
//
// Errors: a transport failure (refused, reset, timed out, resolve failure)
// is kUnavailable or kDeadlineExceeded with a message naming the cause; any
// HTTP status, 4xx/5xx included, is a successful send() — the caller decides
// what a status means.
//
// Thread-safety: send() is const and uses no shared state; one client may be
// used from several threads.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include "cli/server_url.h"
#include "plancache/status.h"

namespace plancache::internal {
class BlockingHttpConnection;
}  // namespace plancache::internal

namespace plancache::cli {

enum class HttpMethod { kGet, kPut, kPost, kDelete };

struct HttpRequest {
  HttpMethod method = HttpMethod::kGet;
  std::string path;          // "/v1/stats"; the URL's base path is prefixed
  std::string body;          // sent as application/json when not empty
  std::string bearer_token;  // "Authorization: Bearer <token>" when not empty
};

struct HttpResponse {
  int status = 0;
  std::string content_type;
  std::string body;
};

class HttpClient {
 public:
  // Default timeout: 10 s for the whole exchange.
  static constexpr std::chrono::milliseconds kDefaultTimeout{10'000};
  // Responses larger than this are refused (a safety net, not a protocol limit).
  static constexpr uint64_t kMaxResponseBytes = uint64_t{1} << 30;

  explicit HttpClient(ServerUrl url, std::chrono::milliseconds timeout = kDefaultTimeout);

  Result<HttpResponse> send(const HttpRequest& request) const;

  const ServerUrl& url() const { return url_; }
  std::chrono::milliseconds timeout() const { return timeout_; }

 private:
  ServerUrl url_;
  std::chrono::milliseconds timeout_;
};

// A keep-alive connection to the server of an HttpClient (its URL and
// timeout are copied). The first send() connects; later ones reuse the
// connection while the server keeps it open. A connection the server closed
// while idle is reopened before sending, or — when the close races the
// send, which then fails before any answer byte — reopened and the request
// sent once more; timeouts are never retried. Any
// failure closes the connection, so the next send() starts afresh. Errors
// and the timeout (per send()) are those of HttpClient::send().
//
// Thread-safety: not thread-safe; one connection per thread.
class HttpConnection {
 public:
  explicit HttpConnection(const HttpClient& client);
  ~HttpConnection();
  HttpConnection(HttpConnection&&) noexcept;
  HttpConnection& operator=(HttpConnection&&) noexcept;

  Result<HttpResponse> send(const HttpRequest& request);

 private:
  ServerUrl url_;
  std::chrono::milliseconds timeout_;
  std::unique_ptr<internal::BlockingHttpConnection> connection_;
};

}  // namespace plancache::cli

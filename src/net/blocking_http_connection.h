// BlockingHttpConnection: one HTTP/1.1 client connection whose every step —
// resolve, connect, send, read the answer — is bounded by a deadline. Shared
// by the CLI's client (src/cli/http_client.h) and the HTTP planner
// (src/planner/http_planner.cc); what to retry, pool or report stays with
// them. No TLS.
//
// - connect() resolves the host before the deadline (net/host_resolver.h),
//   opens a SOCK_CLOEXEC socket (commands this process starts inherit none)
//   and connects to the first endpoint that accepts.
// - exchange() writes one request and reads one answer, refusing one whose
//   body is larger than max_answer_bytes — a Content-Length over the bound
//   before any body byte is read. Any failure closes the connection.
// - reusable() says whether another exchange may be sent: the last answer
//   allowed keep-alive and left no stray bytes, and the peer has neither
//   closed the connection nor sent anything unasked since.
// - cancel() may be called from any thread: the step under way fails at
//   once and every later one does not start (kCancelled). Irreversible.
//
// No exception escapes connect() or exchange().
//
// Thread-safety: one thread uses a connection at a time; only cancel() may
// be called from another thread, concurrently.
#pragma once

#include <atomic>
#include <boost/asio/io_context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>

#include "net/host_resolver.h"

namespace plancache::internal {

using HttpRequestMessage = boost::beast::http::request<boost::beast::http::string_body>;
using HttpResponseMessage = boost::beast::http::response<boost::beast::http::string_body>;

// Why a step gave no result.
struct HttpFailure {
  enum class Kind {
    kTimedOut,        // the deadline passed
    kConnectionLost,  // no connection, or it broke before any answer byte:
                      // the peer cannot have answered, so a retry is safe
    kCancelled,       // cancel() was called
    kFailed,          // anything else (resolve error, answer too large,
                      // malformed or cut short): the peer may have acted
  };
  Kind kind = Kind::kFailed;
  // For kTimedOut, the step: "resolving <host>", "connecting", "sending the
  // request", "waiting for the answer". Otherwise the step and its cause:
  // "cannot connect: Connection refused", "answer larger than 100 bytes".
  std::string what;
};

// A complete answer (any status), or why there is none.
using HttpExchangeResult = std::variant<HttpResponseMessage, HttpFailure>;

class BlockingHttpConnection {
 public:
  using Clock = std::chrono::steady_clock;

  // `resolver` looks up host names (Default: the system's resolver).
  explicit BlockingHttpConnection(HostResolver resolver = system_resolver());
  ~BlockingHttpConnection();
  // Not movable: cancel() posts work that refers to this object.
  BlockingHttpConnection(const BlockingHttpConnection&) = delete;
  BlockingHttpConnection& operator=(const BlockingHttpConnection&) = delete;

  // Closes whatever was open and connects to host:port. nullopt when
  // connected. A refused or unreachable endpoint is kConnectionLost.
  std::optional<HttpFailure> connect(const std::string& host, uint16_t port,
                                     Clock::time_point deadline);

  // Sends `request` and reads its answer; a body over max_answer_bytes is
  // kFailed. REQUIRES: connect() succeeded and no failure since.
  HttpExchangeResult exchange(const HttpRequestMessage& request, uint64_t max_answer_bytes,
                              Clock::time_point deadline);

  // Whether another exchange may be sent now without connecting (see top).
  bool reusable();

  void close();
  void cancel();

 private:
  bool cancelled() const { return cancelled_.load(std::memory_order_acquire); }
  std::optional<HttpFailure> connect_to(const TcpEndpoints& endpoints, Clock::time_point deadline);
  std::optional<HttpFailure> open_socket(const boost::asio::ip::tcp::endpoint& endpoint);
  std::optional<HttpFailure> send(const HttpRequestMessage& request, Clock::time_point deadline);
  HttpExchangeResult receive(uint64_t max_answer_bytes, Clock::time_point deadline);
  boost::system::error_code read_bounded(
      boost::beast::http::response_parser<boost::beast::http::string_body>& parser,
      uint64_t max_answer_bytes);
  void run_to_completion();

  const HostResolver resolver_;
  boost::asio::io_context ioc_{1};
  std::optional<boost::beast::tcp_stream> stream_;  // declared after ioc_: destroyed first
  boost::beast::flat_buffer buffer_;                 // bytes read past the last answer
  bool keep_alive_ = false;  // connected, and the last answer (if any) allowed reuse
  std::atomic<bool> cancelled_{false};
};

}  // namespace plancache::internal

// Blocking steps built from Beast's asynchronous operations: Beast's
// synchronous calls cannot time out, so each step starts the operation and
// runs the connection's private io_context on the calling thread until it
// completes. beast::tcp_stream::expires_at carries the deadline into
// connect, write and read (it closes the socket and fails the operation with
// error::timeout); name resolution has its own (net/host_resolver.h).
//
// cancel() sets a flag every step checks before it starts, and posts a close
// of the socket to the io_context, so the close runs on the thread that owns
// the connection (Asio objects are not thread-safe) and fails the operation
// under way. The flag also decides how a failure is reported: after
// cancel(), any failure is kCancelled.
#include "net/blocking_http_connection.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/post.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <cerrno>
#include <exception>
#include <system_error>
#include <utility>

namespace plancache::internal {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Kind = HttpFailure::Kind;

// The errors that mean "the connection is gone", not "the peer answered
// something we did not like".
bool is_connection_error(const beast::error_code& ec) {
  return ec == asio::error::connection_refused || ec == asio::error::connection_reset ||
         ec == asio::error::connection_aborted || ec == asio::error::broken_pipe ||
         ec == asio::error::not_connected || ec == asio::error::eof ||
         ec == asio::error::network_unreachable || ec == asio::error::host_unreachable ||
         ec == http::error::end_of_stream;
}

HttpFailure unexpected(const std::exception& e) {
  return {Kind::kFailed, std::string("unexpected failure: ") + e.what()};
}

}  // namespace

BlockingHttpConnection::BlockingHttpConnection(HostResolver resolver)
    : resolver_(std::move(resolver)) {}

BlockingHttpConnection::~BlockingHttpConnection() = default;

std::optional<HttpFailure> BlockingHttpConnection::connect(const std::string& host, uint16_t port,
                                                           Clock::time_point deadline) {
  try {
    close();
    if (cancelled()) return HttpFailure{Kind::kCancelled, "cancelled"};
    Result<TcpEndpoints> endpoints = resolve_before(resolver_, host, port, deadline);
    if (!endpoints.is_ok()) {
      const bool late = endpoints.status().code() == StatusCode::kDeadlineExceeded;
      return HttpFailure{late ? Kind::kTimedOut : Kind::kFailed, endpoints.status().message()};
    }
    return connect_to(*endpoints, deadline);
  } catch (const std::exception& e) {
    close();
    return unexpected(e);
  }
}

std::optional<HttpFailure> BlockingHttpConnection::connect_to(const TcpEndpoints& endpoints,
                                                              Clock::time_point deadline) {
  stream_.emplace(ioc_);
  beast::error_code ec;
  for (const tcp::endpoint& endpoint : endpoints) {
    if (cancelled()) break;
    if (std::optional<HttpFailure> failed = open_socket(endpoint)) {
      close();
      return failed;
    }
    stream_->expires_at(deadline);
    stream_->async_connect(endpoint, [&](beast::error_code e) { ec = e; });
    run_to_completion();
    if (cancelled()) break;
    if (!ec) {
      beast::error_code ignored;
      stream_->socket().set_option(tcp::no_delay(true), ignored);
      keep_alive_ = true;
      return std::nullopt;
    }
    if (ec == beast::error::timeout) {
      close();
      return HttpFailure{Kind::kTimedOut, "connecting"};
    }
    beast::error_code ignored;
    stream_->socket().close(ignored);
  }
  close();
  if (cancelled()) return HttpFailure{Kind::kCancelled, "cancelled"};
  return HttpFailure{Kind::kConnectionLost, "cannot connect: " + ec.message()};
}

// Asio's own open does not set SOCK_CLOEXEC, so the socket is opened here.
std::optional<HttpFailure> BlockingHttpConnection::open_socket(const tcp::endpoint& endpoint) {
  const int fd = ::socket(endpoint.protocol().family(), SOCK_STREAM | SOCK_CLOEXEC, IPPROTO_TCP);
  if (fd < 0) {
    return HttpFailure{Kind::kFailed,
                       "cannot open a socket: " + std::system_category().message(errno)};
  }
  beast::error_code assigned;
  stream_->socket().assign(endpoint.protocol(), fd, assigned);
  if (assigned) {
    ::close(fd);
    return HttpFailure{Kind::kFailed, "cannot use a socket: " + assigned.message()};
  }
  return std::nullopt;
}

HttpExchangeResult BlockingHttpConnection::exchange(const HttpRequestMessage& request,
                                                    uint64_t max_answer_bytes,
                                                    Clock::time_point deadline) {
  HttpExchangeResult out = HttpFailure{Kind::kFailed, "not connected"};
  try {
    if (stream_ && !cancelled()) {
      std::optional<HttpFailure> unsent = send(request, deadline);
      out = unsent ? HttpExchangeResult(std::move(*unsent)) : receive(max_answer_bytes, deadline);
    }
  } catch (const std::exception& e) {
    out = unexpected(e);
  }
  if (cancelled() && std::holds_alternative<HttpFailure>(out)) {
    out = HttpFailure{Kind::kCancelled, "cancelled"};
  }
  if (std::holds_alternative<HttpFailure>(out)) close();
  return out;
}

std::optional<HttpFailure> BlockingHttpConnection::send(const HttpRequestMessage& request,
                                                        Clock::time_point deadline) {
  beast::error_code ec;
  stream_->expires_at(deadline);
  http::async_write(*stream_, request, [&](beast::error_code e, size_t) { ec = e; });
  run_to_completion();
  if (!ec) return std::nullopt;
  if (ec == beast::error::timeout) return HttpFailure{Kind::kTimedOut, "sending the request"};
  return HttpFailure{is_connection_error(ec) ? Kind::kConnectionLost : Kind::kFailed,
                     "connection lost while sending the request: " + ec.message()};
}

HttpExchangeResult BlockingHttpConnection::receive(uint64_t max_answer_bytes,
                                                   Clock::time_point deadline) {
  if (cancelled()) return HttpFailure{Kind::kCancelled, "cancelled"};
  http::response_parser<http::string_body> parser;
  stream_->expires_at(deadline);
  const beast::error_code ec = read_bounded(parser, max_answer_bytes);
  stream_->expires_never();
  if (!ec) {
    keep_alive_ = parser.get().keep_alive();
    return parser.release();
  }
  if (ec == beast::error::timeout) return HttpFailure{Kind::kTimedOut, "waiting for the answer"};
  if (ec == http::error::body_limit) {
    return HttpFailure{Kind::kFailed,
                       "answer larger than " + std::to_string(max_answer_bytes) + " bytes"};
  }
  if (is_connection_error(ec) && !parser.got_some() && buffer_.size() == 0) {
    return HttpFailure{Kind::kConnectionLost,
                       "connection closed before any answer: " + ec.message()};
  }
  return HttpFailure{Kind::kFailed, "cannot read the answer: " + ec.message()};
}

// Boost 1.74 does not enforce body_limit against a Content-Length when
// reading a whole message (finish_header's error is overwritten when the
// eager parse goes on into the body), so the header is read alone and its
// length checked here, before any body byte is waited for; chunked and
// read-to-EOF bodies are bounded by the parser itself.
beast::error_code BlockingHttpConnection::read_bounded(
    http::response_parser<http::string_body>& parser, uint64_t max_answer_bytes) {
  beast::error_code ec;
  parser.body_limit(max_answer_bytes);
  http::async_read_header(*stream_, buffer_, parser, [&](beast::error_code e, size_t) { ec = e; });
  run_to_completion();
  if (ec) return ec;
  const boost::optional<std::uint64_t> length = parser.content_length();
  if (length && *length > max_answer_bytes) return http::error::body_limit;
  if (parser.is_done()) return ec;
  http::async_read(*stream_, buffer_, parser, [&](beast::error_code e, size_t) { ec = e; });
  run_to_completion();
  return ec;
}

bool BlockingHttpConnection::reusable() {
  if (!keep_alive_ || cancelled() || !stream_ || !stream_->socket().is_open() ||
      buffer_.size() != 0) {
    return false;
  }
  // Readable before we sent anything: the peer closed it, or sent bytes
  // nobody asked for. Either way it cannot carry another exchange.
  pollfd pfd{};
  pfd.fd = stream_->socket().native_handle();
  pfd.events = POLLIN | POLLRDHUP;
  return ::poll(&pfd, 1, 0) == 0;
}

void BlockingHttpConnection::close() {
  keep_alive_ = false;
  buffer_.clear();
  if (!stream_) return;
  beast::error_code ignored;
  stream_->socket().shutdown(tcp::socket::shutdown_both, ignored);
  stream_->socket().close(ignored);
  stream_.reset();
}

void BlockingHttpConnection::cancel() {
  cancelled_.store(true, std::memory_order_release);
  asio::post(ioc_, [this] {
    if (!stream_) return;
    beast::error_code ignored;
    stream_->socket().close(ignored);
  });
}

// Runs the io_context until every started operation has completed, then
// readies it for the next step.
void BlockingHttpConnection::run_to_completion() {
  ioc_.run();
  ioc_.restart();
}

}  // namespace plancache::internal

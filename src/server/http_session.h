// HttpSession: one client connection (HTTP/1.1, keep-alive), driven by
// Boost.Beast async operations on the io_context of one I/O thread.
//
// Lifetime: owned by the shared_ptrs its pending async operations hold;
// it ends when the last one completes. While alive it is listed in its
// thread's SessionList so that a graceful stop can reach it.
//
// Thread-safety: every member function runs on the thread of the socket's
// io_context (one thread per io_context), so no locking is needed.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/basic_stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <memory>
#include <optional>
#include <unordered_set>

#include "server/service.h"

namespace plancache::internal {

class HttpSession;

// A socket and a stream bound to one io_context's executor (not the
// type-erased any_io_executor: the hot path skips its dispatch and
// allocations).
using Socket =
    boost::asio::basic_stream_socket<boost::asio::ip::tcp, boost::asio::io_context::executor_type>;
using Stream =
    boost::beast::basic_stream<boost::asio::ip::tcp, boost::asio::io_context::executor_type>;

// The sessions of one I/O thread. Touched only on that thread.
using SessionList = std::unordered_set<HttpSession*>;

class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  // `holds_slot`: the connection took one of the max_connections slots
  // (released on destruction); false = over the limit, answer 503 and close.
  HttpSession(Socket&& socket, Service& service, SessionList& sessions, bool holds_slot);
  ~HttpSession();
  HttpSession(const HttpSession&) = delete;
  HttpSession& operator=(const HttpSession&) = delete;

  // Starts serving. REQUIRES: called on the socket's io_context thread.
  void start();
  // Graceful stop: an idle connection is closed now; a request being read,
  // handled or answered is finished first (its answer says
  // "Connection: close"). REQUIRES: called on the socket's thread.
  void stop();

 private:
  void wait_for_request();
  void on_first_bytes(boost::beast::error_code ec, size_t n);
  void read_request();
  void on_read(boost::beast::error_code ec, size_t n);
  void reply_unreadable(boost::beast::error_code ec);
  void send(bool close_after);
  void on_write(boost::beast::error_code ec, bool close_after);
  // Half-closes, then reads and drops what the client still sends (for a
  // bounded time), so it receives our answer rather than a reset.
  void linger_close();
  void on_linger_read(boost::beast::error_code ec);
  void close();

  Stream stream_;
  boost::beast::flat_buffer buffer_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  HttpResponse res_;
  Service& service_;
  const server::ServerConfig& config_;
  SessionList& sessions_;
  const bool holds_slot_;
  bool idle_ = false;           // waiting for the first byte of a request
  bool continue_sent_ = false;  // "100 Continue" sent for the current request
};

}  // namespace plancache::internal

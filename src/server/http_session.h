// HttpSession: one client connection (HTTP/1.1, keep-alive), driven by
// Boost.Beast async operations on the io_context of one I/O thread.
//
// Lifetime: owned by the shared_ptrs its pending async operations hold;
// it ends when the last one completes. While alive it is listed in its
// thread's SessionList so that a graceful stop can reach it. It knows the
// server only through its SessionEnv: the Service that answers requests,
// its limits, the connection counters and the drain flag.
//
// Thread-safety: every member function runs on the thread of the socket's
// io_context (one thread per io_context), so no locking is needed.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/basic_stream.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/serializer.hpp>
#include <boost/beast/http/string_body.hpp>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <unordered_set>

#include "server/config.h"
#include "server/drain.h"
#include "server/metrics.h"
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

using SessionTimer =
    boost::asio::basic_waitable_timer<std::chrono::steady_clock,
                                      boost::asio::wait_traits<std::chrono::steady_clock>,
                                      boost::asio::io_context::executor_type>;

// How much and how long one connection may take (the ServerConfig fields
// of the same names).
struct SessionLimits {
  uint32_t max_header_bytes = 16u << 10;
  uint64_t max_body_bytes = 8ull << 20;
  uint32_t read_timeout_ms = 10'000;
  uint32_t idle_timeout_ms = 60'000;

  static SessionLimits of(const server::ServerConfig& config);
};

// What every session of a server shares. Owned by the Server; REQUIRES: it
// outlives every session (and so the io_contexts that run them).
// Thread-safety: read-only but for the thread-safe counters.
struct SessionEnv {
  Service& service;  // answers each request (Service::handle)
  const SessionLimits limits;
  HttpCounters& counters;     // the session releases its connection slot
  const DrainFlag& draining;  // up: no more keep-alive
};

class HttpSession : public std::enable_shared_from_this<HttpSession> {
 public:
  // `holds_slot`: the connection took one of the max_connections slots
  // (released on destruction); false = over the limit, answer 503 and close.
  HttpSession(Socket&& socket, const SessionEnv& env, SessionList& sessions, bool holds_slot);
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
  friend class SessionReplyChannel;

  // Deferred answers (see reply_channel.h); run on the socket's thread.
  void finish_deferred(HttpResponse res);
  void begin_stream(HttpResponse head, std::chrono::milliseconds heartbeat_interval,
                    std::string heartbeat);
  // `done` (may be empty) is told when the chunk is written or the stream
  // failed (ReplyChannel::send_chunk).
  void queue_chunk(std::string data, bool last, std::function<void(bool)> done = nullptr);
  void pump_stream();
  void on_stream_write(boost::beast::error_code ec);
  void arm_heartbeat();
  // Keep-alive for the answer to the current request.
  bool keep_alive_after_answer() const;

  void wait_for_request();
  void on_first_bytes(boost::beast::error_code ec, size_t n);
  void read_request();
  void parse_buffered();
  void on_read(boost::beast::error_code ec, size_t n);
  void reply_unreadable(boost::beast::error_code ec);
  void reply_too_large();
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
  const SessionEnv& env_;
  SessionList& sessions_;
  const bool holds_slot_;
  bool idle_ = false;           // waiting for the first byte of a request
  bool continue_sent_ = false;  // "100 Continue" sent for the current request
  bool head_screened_ = false;  // Service::screen_head ran for the current request
  uint64_t request_bytes_ = 0;  // bytes of the current request parsed so far

  // A chunked (streamed) answer in progress: its head and serializer, the
  // chunks waiting to be written, the one being written (it must outlive
  // the write), and the heartbeat timer. A chunk's `done` is called once:
  // after its write, or with false when the stream fails first.
  struct Chunk {
    std::string data;
    std::function<void(bool)> done;
  };
  struct Streaming {
    explicit Streaming(HttpResponse&& head);
    boost::beast::http::response<boost::beast::http::empty_body> head;
    boost::beast::http::response_serializer<boost::beast::http::empty_body> serializer{head};
    std::deque<Chunk> queued;
    Chunk writing_chunk;
    bool writing = false;   // a write is pending
    bool ending = false;    // end_stream() was called: last chunk after the queue
    bool last_sent = false; // the pending write is the last chunk
    bool close_after = false;
    std::chrono::milliseconds heartbeat_interval{0};
    std::string heartbeat;
  };
  std::unique_ptr<Streaming> streaming_;
  std::optional<SessionTimer> heartbeat_timer_;
};

}  // namespace plancache::internal

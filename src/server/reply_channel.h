// ReplyChannel: how a handler answers a request later, from another thread
// (read-through planning takes seconds; the I/O thread must not wait).
//
// A handler that cannot answer at once calls Call::defer() and returns with
// the response left empty; the connection then waits, reading nothing, until
// the handler's work calls reply() — or open_stream(), write_chunk()... and
// end_stream() for a chunked answer such as Server-Sent Events. Every method
// may be called from any thread (each posts to the connection's I/O thread).
// The channel keeps the connection and its I/O thread alive until the answer
// is complete, so a graceful stop waits for it. A client that went away
// meanwhile only makes the writes fail quietly.
//
// Thread-safety: all methods may be called from any thread, but in order:
// reply() once, or open_stream() once, write_chunk()* (or send_chunk()),
// end_stream() once.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

namespace plancache::internal {

using HttpResponse = boost::beast::http::response<boost::beast::http::string_body>;

class ReplyChannel {
 public:
  virtual ~ReplyChannel() = default;

  // The whole answer (status, headers, body); version and keep-alive are
  // set by the connection.
  virtual void reply(HttpResponse res) = 0;

  // Starts a chunked answer: `head`'s status and headers, then its body as
  // the first chunk (when not empty). While the stream is open and nothing
  // else is written, `heartbeat` (e.g. an SSE comment line) is sent every
  // `heartbeat_interval` (zero = never).
  virtual void open_stream(HttpResponse head, std::chrono::milliseconds heartbeat_interval,
                           std::string heartbeat) = 0;
  virtual void write_chunk(std::string data) = 0;
  // write_chunk(), then `done` later, on the connection's thread: true once
  // the chunk is written, false when the stream failed or is gone. For a
  // writer that keeps its own bounded queue and sends the next chunk only
  // after the last is out (the event stream). This default (for channels
  // that cannot tell) calls `done(true)` at once, inside the call.
  virtual void send_chunk(std::string data, std::function<void(bool written)> done) {
    write_chunk(std::move(data));
    if (done) done(true);
  }
  // Writes `data` (when not empty) and the last chunk; the connection then
  // serves its next request (keep-alive) or closes.
  virtual void end_stream(std::string data) = 0;
  // Caps the kernel's send buffer of the connection at about `bytes`
  // (SO_SNDBUF; no autotuning past it), for a long stream whose writer keeps
  // its own bound (the event stream): a stalled reader is then noticed by
  // that bound instead of hiding megabytes in the kernel. Call before
  // open_stream(). Default: no-op.
  virtual void limit_send_buffer(uint32_t bytes) { (void)bytes; }
};

// Given to handlers in Call: marks the request as answered later and
// returns the channel to answer it through.
using DeferFn = std::function<std::shared_ptr<ReplyChannel>()>;

}  // namespace plancache::internal

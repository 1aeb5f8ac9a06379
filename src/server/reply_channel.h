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
// reply() once, or open_stream() once, write_chunk()*, end_stream() once.
#pragma once

#include <chrono>
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
  // Writes `data` (when not empty) and the last chunk; the connection then
  // serves its next request (keep-alive) or closes.
  virtual void end_stream(std::string data) = 0;
};

// Given to handlers in Call: marks the request as answered later and
// returns the channel to answer it through.
using DeferFn = std::function<std::shared_ptr<ReplyChannel>()>;

}  // namespace plancache::internal

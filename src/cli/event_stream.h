// EventStream: reads a Server-Sent Events answer (GET /v1/events of a
// plancache server) as it arrives, for `plancache events`.
//
// One connection, one request ("Accept: text/event-stream"); connecting and
// reading the answer's head are bounded by `timeout`, the stream itself is
// not (the server sends a heartbeat comment every --sse-heartbeat-ms while
// it is silent). The body's chunks are fed to an SseParser as they arrive.
// SIGINT and SIGTERM end the read (StreamEnd::kSignal) while it runs;
// their default dispositions are restored when it returns (Asio's
// signal_set).
//
// Thread-safety: one run() at a time per object; SseParser is a value.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

#include "cli/http_client.h"
#include "cli/server_url.h"
#include "plancache/status.h"

namespace plancache::cli {

// One SSE event: its `event:` (default "message"), `id:` and `data:` lines
// (several data lines joined with '\n').
struct SseEvent {
  std::string event = "message";
  std::string id;
  std::string data;
};

// The SSE line format (WHATWG HTML, "Server-sent events"): lines end with
// LF, CRLF or CR; a blank line ends an event; lines starting with ':' are
// comments; "field: value" (one space after the colon is dropped).
class SseParser {
 public:
  // Feeds bytes; calls `on_event` for every complete event. Returns false
  // as soon as `on_event` does (the rest is not parsed).
  bool feed(std::string_view bytes, const std::function<bool(const SseEvent&)>& on_event);

 private:
  bool line(std::string_view text, const std::function<bool(const SseEvent&)>& on_event);

  std::string partial_;  // an incomplete line
  SseEvent event_;
  bool has_data_ = false;
  bool skip_lf_ = false;  // the last byte was CR: a following LF belongs to it
};

struct EventStreamRequest {
  ServerUrl url;
  std::string path;          // "/v1/events?ns=..."; the URL's base path is prefixed
  std::string bearer_token;  // "" = none
  std::chrono::milliseconds timeout{10'000};  // connect + answer head
};

// How a stream that was read ended.
enum class StreamEnd { kEnded, kSignal, kStopped };

struct StreamOutcome {
  // 200: the stream was read until `end`. Otherwise the server's answer
  // (`status`, `body` its error JSON) and nothing was streamed.
  int status = 0;
  std::string body;
  StreamEnd end = StreamEnd::kEnded;  // kStopped: on_event returned false
};

// Streams `request`'s answer into `on_event` until the stream ends, a
// signal arrives, or on_event returns false. Errors: unavailable or
// deadline_exceeded when the server cannot be reached (the message says
// why), as HttpClient's.
Result<StreamOutcome> read_event_stream(const EventStreamRequest& request,
                                        const std::function<bool(const SseEvent&)>& on_event);

}  // namespace plancache::cli

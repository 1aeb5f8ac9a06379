// One HTTP/1.1 connection.
//
// States: idle (waiting for the first byte of the next request, bounded by
// idle_timeout_ms) → reading (the rest of the request, bounded by
// read_timeout_ms from its first byte) → handling (synchronous, on this
// thread) → writing (bounded by read_timeout_ms) → idle again, or closed when
// either side asked for "Connection: close" or the server is draining.
// A handler may defer its answer (reply_channel.h): the connection then
// waits in "handling", with no read or write pending, until the answer is
// posted back to this thread — whole, or as a chunked stream (SSE).
// Nothing reads from the socket meanwhile: HTTP/1.1 without pipelining.
// The two timeouts are what keeps a slow or silent client from holding a
// connection (and its slot) forever; Beast's basic_stream closes the
// socket when one expires.
// Hot path: the idle read usually brings the whole request; it is parsed
// from the buffer synchronously, handled, and the answer written, so a
// keep-alive request costs one socket read and one write.
//
// Invariant: at most one read and one write are pending, and never both
// (HTTP/1.1 without pipelined answers), so members need no synchronisation
// beyond running on this io_context's single thread.
#include "server/http_session.h"

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/chunk_encode.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <chrono>

namespace plancache::internal {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using std::chrono::milliseconds;

// Bytes asked from the socket per read while waiting for a request.
constexpr size_t kReadChunk = 16 * 1024;

// What the read buffer may hold: a whole head (the parser needs it in one
// piece), a chunk-size line with its extensions, or a trailer section, plus
// one read. Beast fails a read with buffer_overflow once it is full, so a
// client streaming a 256 MiB chunk extension costs this much and no more.
size_t read_buffer_limit(const SessionLimits& config) {
  return static_cast<size_t>(config.max_header_bytes) + kReadChunk;
}

// Every byte of one request (head, chunk-size lines and extensions,
// trailers, body) counts against this: head and framing may each take up
// to max_header_bytes, the body max_body_bytes.
uint64_t request_byte_limit(const SessionLimits& config) {
  return 2ull * config.max_header_bytes + config.max_body_bytes;
}
// Longest time spent draining a client after an error answer.
constexpr milliseconds kMaxLinger{1000};
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

bool is_http_error(const beast::error_code& ec) {
  return ec.category() == http::make_error_code(http::error::bad_target).category();
}

bool expects_continue(const HttpRequest& req) {
  const auto it = req.find(http::field::expect);
  return it != req.end() && beast::iequals(it->value(), "100-continue");
}

}  // namespace

// The ReplyChannel of one deferred request. It owns the session (so the
// connection lives until the answer is written) and a work guard on its
// io_context (so a graceful stop waits for the answer).
class SessionReplyChannel final : public ReplyChannel {
 public:
  explicit SessionReplyChannel(std::shared_ptr<HttpSession> session)
      : session_(std::move(session)),
        guard_(net::make_work_guard(session_->stream_.get_executor())) {}

  void reply(HttpResponse res) override {
    net::post(session_->stream_.get_executor(),
              [s = session_, r = std::move(res)]() mutable { s->finish_deferred(std::move(r)); });
  }
  void open_stream(HttpResponse head, milliseconds heartbeat_interval,
                   std::string heartbeat) override {
    net::post(session_->stream_.get_executor(),
              [s = session_, h = std::move(head), heartbeat_interval,
               beat = std::move(heartbeat)]() mutable {
                s->begin_stream(std::move(h), heartbeat_interval, std::move(beat));
              });
  }
  void write_chunk(std::string data) override {
    net::post(session_->stream_.get_executor(), [s = session_, d = std::move(data)]() mutable {
      s->queue_chunk(std::move(d), false);
    });
  }
  void end_stream(std::string data) override {
    net::post(session_->stream_.get_executor(), [s = session_, d = std::move(data)]() mutable {
      s->queue_chunk(std::move(d), true);
    });
  }
  void limit_send_buffer(uint32_t bytes) override {
    net::post(session_->stream_.get_executor(), [s = session_, bytes] {
      beast::error_code ignored;  // a socket that refuses keeps its buffer
      s->stream_.socket().set_option(
          net::socket_base::send_buffer_size(static_cast<int>(bytes)), ignored);
    });
  }
  void send_chunk(std::string data, std::function<void(bool)> done) override {
    net::post(session_->stream_.get_executor(),
              [s = session_, d = std::move(data), f = std::move(done)]() mutable {
                s->queue_chunk(std::move(d), false, std::move(f));
              });
  }

 private:
  std::shared_ptr<HttpSession> session_;
  net::executor_work_guard<net::io_context::executor_type> guard_;
};

HttpSession::Streaming::Streaming(HttpResponse&& from) {
  head.result(from.result());
  head.version(from.version());
  for (const auto& field : from) head.set(field.name_string(), field.value());
  head.chunked(true);
}

SessionLimits SessionLimits::of(const server::ServerConfig& config) {
  return {config.max_header_bytes, config.max_body_bytes, config.read_timeout_ms,
          config.idle_timeout_ms};
}

HttpSession::HttpSession(Socket&& socket, const SessionEnv& env, SessionList& sessions,
                         bool holds_slot)
    : stream_(std::move(socket)),
      buffer_(read_buffer_limit(env.limits)),
      env_(env),
      sessions_(sessions),
      holds_slot_(holds_slot) {}

HttpSession::~HttpSession() {
  sessions_.erase(this);
  if (holds_slot_) env_.counters.close_connection();
}

void HttpSession::start() {
  sessions_.insert(this);
  beast::error_code ignored;
  stream_.socket().set_option(net::ip::tcp::no_delay(true), ignored);
  if (!holds_slot_) {
    res_.version(11);
    env_.service.reject_unparsed(res_, http::status::service_unavailable, "unavailable",
                                 "too many connections (max_connections reached)");
    return send(/*close_after=*/true);
  }
  wait_for_request();
}

void HttpSession::stop() {
  // A client that already sent (part of) a request gets its answer.
  beast::error_code ec;
  if (idle_ && buffer_.size() == 0 && stream_.socket().available(ec) == 0) stream_.cancel();
}

void HttpSession::wait_for_request() {
  if (buffer_.size() != 0) return read_request();  // pipelined bytes already here
  if (env_.draining.is_set()) {
    // Draining: answer a request the client has already begun to send.
    beast::error_code ec;
    if (stream_.socket().available(ec) == 0) return close();
  }
  idle_ = true;
  stream_.expires_after(milliseconds(env_.limits.idle_timeout_ms));
  stream_.async_read_some(
      buffer_.prepare(kReadChunk),
      beast::bind_front_handler(&HttpSession::on_first_bytes, shared_from_this()));
}

void HttpSession::on_first_bytes(beast::error_code ec, size_t n) {
  idle_ = false;
  if (ec) return close();  // closed by the client, idle timeout, or stop()
  buffer_.commit(n);
  read_request();
}

void HttpSession::read_request() {
  parser_.emplace();
  continue_sent_ = false;
  head_screened_ = false;
  request_bytes_ = 0;
  // Not eager until the head is screened (on_read): the parser stops after
  // the head, so no byte of the body is parsed before the framing and the
  // tokens are checked.
  parser_->eager(false);
  parser_->header_limit(env_.limits.max_header_bytes);
  parser_->body_limit(env_.limits.max_body_bytes);
  stream_.expires_after(milliseconds(env_.limits.read_timeout_ms));
  parse_buffered();
}

void HttpSession::parse_buffered() {
  // Parse what is buffered already (usually the whole request) right here;
  // on_read goes back to the socket only for the rest.
  beast::error_code ec;
  while (buffer_.size() != 0 && !parser_->is_done()) {
    const size_t used = parser_->put(buffer_.data(), ec);
    buffer_.consume(used);
    request_bytes_ += used;
    if (ec == http::error::need_more) {
      ec = {};
      break;
    }
    if (ec || used == 0) break;
    if (parser_->is_header_done() && !head_screened_) break;  // screen before the body
  }
  on_read(ec, 0);
}

void HttpSession::on_read(beast::error_code ec, size_t n) {
  request_bytes_ += n;
  if (ec) return reply_unreadable(ec);
  if (request_bytes_ > request_byte_limit(env_.limits)) return reply_too_large();
  if (parser_->is_header_done() && !head_screened_) {
    head_screened_ = true;
    res_ = {};
    res_.version(11);
    switch (env_.service.screen_head(parser_->get(), res_)) {
      case Service::HeadCheck::kPass:
        break;
      case Service::HeadCheck::kMisframed:
        return send(/*close_after=*/true);
      case Service::HeadCheck::kRefused:
        // Keep-alive only when no body is left unread behind the refusal.
        return send(!parser_->is_done() || !keep_alive_after_answer());
    }
    parser_->eager(true);  // the body in one pass when it is buffered
    if (!parser_->is_done() && buffer_.size() != 0) return parse_buffered();
  }
  if (!parser_->is_done()) {
    // The rest is still coming; the read deadline set when it began holds.
    auto self = shared_from_this();
    auto more = [self](beast::error_code e, size_t) {
      if (e) return self->close();
      http::async_read_some(self->stream_, self->buffer_, *self->parser_,
                            beast::bind_front_handler(&HttpSession::on_read, self));
    };
    if (parser_->is_header_done() && !continue_sent_ && expects_continue(parser_->get())) {
      continue_sent_ = true;
      return net::async_write(stream_, net::buffer(kContinue.data(), kContinue.size()), more);
    }
    return more({}, 0);
  }
  const HttpRequest& req = parser_->get();
  res_ = {};
  res_.version(req.version());
  const bool deferred = env_.service.handle(
      req, res_, [this] { return std::make_shared<SessionReplyChannel>(shared_from_this()); });
  if (deferred) return;  // the channel answers later (finish_deferred / streams)
  send(!keep_alive_after_answer());
}

bool HttpSession::keep_alive_after_answer() const {
  return parser_ && parser_->get().keep_alive() && !env_.draining.is_set();
}

void HttpSession::finish_deferred(HttpResponse res) {
  res_ = std::move(res);
  res_.version(parser_->get().version());
  send(!keep_alive_after_answer());
}

void HttpSession::begin_stream(HttpResponse head, milliseconds heartbeat_interval,
                               std::string heartbeat) {
  // The handler said Connection: close (asked before the request's version
  // is applied: an HTTP/1.0 head would read as closing anyway).
  const bool handler_closes = !head.keep_alive();
  head.version(parser_->get().version());
  std::string first = std::move(head.body());
  streaming_ = std::make_unique<Streaming>(std::move(head));
  streaming_->close_after = handler_closes || !keep_alive_after_answer();
  streaming_->head.keep_alive(!streaming_->close_after);
  streaming_->heartbeat_interval = heartbeat_interval;
  streaming_->heartbeat = std::move(heartbeat);
  if (!first.empty()) streaming_->queued.push_back(Chunk{std::move(first), nullptr});
  streaming_->writing = true;
  stream_.expires_after(milliseconds(env_.limits.read_timeout_ms));
  http::async_write_header(stream_, streaming_->serializer,
                           [self = shared_from_this()](beast::error_code ec, size_t) {
                             self->on_stream_write(ec);
                           });
  if (heartbeat_interval.count() > 0) arm_heartbeat();
}

void HttpSession::queue_chunk(std::string data, bool last, std::function<void(bool)> done) {
  if (!streaming_) {  // the stream failed and was dropped
    if (done) done(false);
    return;
  }
  if (!data.empty()) {
    streaming_->queued.push_back(Chunk{std::move(data), std::move(done)});
  } else if (done) {
    done(true);  // nothing to write
  }
  streaming_->ending = streaming_->ending || last;
  pump_stream();
}

void HttpSession::pump_stream() {
  Streaming& s = *streaming_;
  if (s.writing) return;
  auto done = [self = shared_from_this()](beast::error_code ec, size_t) {
    self->on_stream_write(ec);
  };
  if (!s.queued.empty()) {
    s.writing_chunk = std::move(s.queued.front());
    s.queued.pop_front();
    s.writing = true;
    stream_.expires_after(milliseconds(env_.limits.read_timeout_ms));
    return net::async_write(stream_, http::make_chunk(net::buffer(s.writing_chunk.data)), done);
  }
  if (s.ending) {
    s.writing = true;
    s.last_sent = true;
    stream_.expires_after(milliseconds(env_.limits.read_timeout_ms));
    net::async_write(stream_, http::make_chunk_last(), done);
  }
}

void HttpSession::on_stream_write(beast::error_code ec) {
  streaming_->writing = false;
  if (auto done = std::move(streaming_->writing_chunk.done)) {
    streaming_->writing_chunk.done = nullptr;
    done(!ec);
  }
  if (ec || streaming_->last_sent) {
    const bool close_after = streaming_->close_after;
    // Chunks that will never be written are told so.
    std::deque<Chunk> unsent = std::move(streaming_->queued);
    streaming_.reset();
    for (Chunk& chunk : unsent) {
      if (chunk.done) chunk.done(false);
    }
    if (heartbeat_timer_) heartbeat_timer_->cancel();
    return on_write(ec, close_after);
  }
  pump_stream();
}

void HttpSession::arm_heartbeat() {
  if (!heartbeat_timer_) heartbeat_timer_.emplace(stream_.get_executor());
  heartbeat_timer_->expires_after(streaming_->heartbeat_interval);
  heartbeat_timer_->async_wait([self = shared_from_this()](beast::error_code ec) {
    if (ec || !self->streaming_ || self->streaming_->ending) return;
    Streaming& s = *self->streaming_;
    // Only an otherwise silent stream needs a heartbeat.
    if (!s.writing && s.queued.empty()) s.queued.push_back(Chunk{s.heartbeat, nullptr});
    self->pump_stream();
    self->arm_heartbeat();
  });
}

void HttpSession::reply_unreadable(beast::error_code ec) {
  if (ec == http::error::end_of_stream || ec == net::error::eof || !is_http_error(ec)) {
    return close();  // the client went away, a timeout, or a socket error
  }
  res_ = {};
  res_.version(11);
  if (ec == http::error::body_limit) {
    env_.service.reject_unparsed(
        res_, http::status::payload_too_large, "resource_exhausted",
        "request body is larger than " + std::to_string(env_.limits.max_body_bytes) + " bytes");
  } else if (ec == http::error::header_limit) {
    env_.service.reject_unparsed(
        res_, http::status::request_header_fields_too_large, "resource_exhausted",
        "request header is larger than " + std::to_string(env_.limits.max_header_bytes) + " bytes");
  } else if (ec == http::error::buffer_overflow) {
    // The head fitted its limit, so this is a chunk-size line (with its
    // extensions) or a trailer section that did not.
    env_.service.reject_unparsed(
        res_, http::status::payload_too_large, "resource_exhausted",
        "a chunk-size line or the trailers of the request are longer than " +
            std::to_string(env_.limits.max_header_bytes) + " bytes");
  } else if (ec == http::error::partial_message) {
    return close();
  } else {
    env_.service.reject_unparsed(res_, http::status::bad_request, "invalid_argument",
                                 "malformed HTTP request: " + ec.message());
  }
  send(/*close_after=*/true);
}

void HttpSession::reply_too_large() {
  res_ = {};
  res_.version(11);
  env_.service.reject_unparsed(res_, http::status::payload_too_large, "resource_exhausted",
                               "request is larger than " +
                                   std::to_string(request_byte_limit(env_.limits)) +
                                   " bytes in all (head, chunk framing, trailers and body)");
  send(/*close_after=*/true);
}

void HttpSession::send(bool close_after) {
  res_.keep_alive(!close_after);
  res_.prepare_payload();
  stream_.expires_after(milliseconds(env_.limits.read_timeout_ms));
  http::async_write(stream_, res_,
                    [self = shared_from_this(), close_after](beast::error_code ec, size_t) {
                      self->on_write(ec, close_after);
                    });
}

void HttpSession::on_write(beast::error_code ec, bool close_after) {
  if (ec) return close();
  if (close_after) {
    // After an error answer the client may still be sending the request we
    // refused; drain it. After a complete request there is nothing to drain.
    return parser_ && parser_->is_done() ? close() : linger_close();
  }
  parser_.reset();
  wait_for_request();
}

void HttpSession::linger_close() {
  beast::error_code ignored;
  stream_.socket().shutdown(net::ip::tcp::socket::shutdown_send, ignored);
  buffer_.clear();
  stream_.expires_after(std::min(kMaxLinger, milliseconds(env_.limits.read_timeout_ms)));
  on_linger_read({});
}

void HttpSession::on_linger_read(beast::error_code ec) {
  if (ec) return close();
  buffer_.clear();
  stream_.async_read_some(
      buffer_.prepare(kReadChunk),
      [self = shared_from_this()](beast::error_code e, size_t) { self->on_linger_read(e); });
}

void HttpSession::close() {
  beast::error_code ignored;
  stream_.socket().shutdown(net::ip::tcp::socket::shutdown_both, ignored);
  stream_.close();
}

}  // namespace plancache::internal

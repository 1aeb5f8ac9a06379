// EventStream (event_stream.h): one asynchronous read on a private
// io_context, so that a signal can end it at any step (connect, head,
// stream) by cancelling the socket; run() returns once the io_context has
// nothing left to do.
//
// Steps: resolve (net/host_resolver.h, bounded) -> connect -> write the
// request -> read the head (both bounded by the timeout) -> 200: read the
// body without a bound or a deadline, each chunk's bytes fed to the
// SseParser as they arrive; another status: read its (bounded) body and
// hand it back.
#include "cli/event_stream.h"

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <csignal>
#include <optional>
#include <sstream>

#include "cli/version.h"
#include "net/host_resolver.h"

namespace plancache::cli {

bool SseParser::feed(std::string_view bytes,
                     const std::function<bool(const SseEvent&)>& on_event) {
  for (const char c : bytes) {
    if (skip_lf_ && c == '\n') {
      skip_lf_ = false;
      continue;
    }
    skip_lf_ = false;
    if (c != '\n' && c != '\r') {
      partial_ += c;
      continue;
    }
    skip_lf_ = c == '\r';
    const std::string text = std::move(partial_);
    partial_.clear();
    if (!line(text, on_event)) return false;
  }
  return true;
}

bool SseParser::line(std::string_view text, const std::function<bool(const SseEvent&)>& on_event) {
  if (text.empty()) {  // the event is complete
    const bool dispatch = has_data_;
    SseEvent event = std::move(event_);
    event_ = SseEvent{};
    has_data_ = false;
    return !dispatch || on_event(event);
  }
  if (text.front() == ':') return true;  // a comment (heartbeats)
  const size_t colon = text.find(':');
  const std::string_view field = text.substr(0, colon);
  std::string_view value = colon == std::string_view::npos ? "" : text.substr(colon + 1);
  if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
  if (field == "event") {
    event_.event = value;
  } else if (field == "id") {
    event_.id = value;
  } else if (field == "data") {
    if (has_data_) event_.data += '\n';
    event_.data += value;
    has_data_ = true;
  }
  return true;
}

namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using Clock = std::chrono::steady_clock;

constexpr uint64_t kMaxErrorBody = 1 << 20;

class StreamReader {
 public:
  StreamReader(const EventStreamRequest& request,
               const std::function<bool(const SseEvent&)>& on_event)
      : request_(request), on_event_(on_event), deadline_(Clock::now() + request.timeout) {}

  Result<StreamOutcome> run() {
    auto endpoints = internal::resolve_before(internal::system_resolver(), request_.url.host,
                                              request_.url.port, deadline_);
    if (!endpoints.is_ok()) return endpoints.status();
    signals_.async_wait([this](const beast::error_code& ec, int) {
      if (ec) return;
      signalled_ = true;
      beast::error_code ignored;
      stream_.socket().cancel(ignored);
    });
    stream_.expires_at(deadline_);
    stream_.async_connect(*endpoints, [this](const beast::error_code& ec, const auto&) {
      if (ec) return fail(ec, "connecting");
      send();
    });
    ioc_.run();
    if (error_) return *error_;
    return outcome_;
  }

 private:
  void send() {
    req_ = {http::verb::get, request_.url.base_path + request_.path, 11};
    req_.set(http::field::host, request_.url.host_header());
    req_.set(http::field::user_agent, "plancache-cli/" + std::string(kVersionString));
    req_.set(http::field::accept, "text/event-stream");
    if (!request_.bearer_token.empty()) {
      req_.set(http::field::authorization, "Bearer " + request_.bearer_token);
    }
    http::async_write(stream_, req_, [this](const beast::error_code& ec, size_t) {
      if (ec) return fail(ec, "sending the request");
      http::async_read_header(stream_, buffer_, parser_,
                              [this](const beast::error_code& e, size_t) { on_head(e); });
    });
  }

  void on_head(const beast::error_code& ec) {
    if (ec) return fail(ec, "waiting for the answer");
    outcome_.status = static_cast<int>(parser_.get().result_int());
    if (outcome_.status != 200) {
      parser_.body_limit(kMaxErrorBody);
      return http::async_read(stream_, buffer_, parser_, [this](const beast::error_code& e, size_t) {
        if (e) return fail(e, "reading the answer");
        outcome_.body = std::move(parser_.get().body());
        finish(StreamEnd::kEnded);
      });
    }
    stream_.expires_never();
    parser_.body_limit(boost::none);
    // The parser keeps a reference to the callback: a member, alive as long.
    chunk_body_ = [this](uint64_t, beast::string_view body, beast::error_code&) {
      feed(std::string_view(body.data(), body.size()));
      return body.size();
    };
    parser_.on_chunk_body(chunk_body_);
    read_more();
  }

  void feed(std::string_view bytes) {
    if (!stopped_ && !sse_.feed(bytes, on_event_)) stopped_ = true;
  }

  void read_more() {
    http::async_read_some(stream_, buffer_, parser_, [this](const beast::error_code& ec, size_t) {
      std::string& body = parser_.get().body();  // a stream that is not chunked
      if (!body.empty()) {
        feed(body);
        body.clear();
      }
      if (stopped_) return finish(StreamEnd::kStopped);
      if (!ec && parser_.is_done()) return finish(StreamEnd::kEnded);
      if (ec) return fail(ec, "reading the event stream");
      read_more();
    });
  }

  void fail(const beast::error_code& ec, std::string_view step) {
    if (signalled_) return finish(StreamEnd::kSignal);
    if (ec == beast::error::timeout) {
      std::ostringstream message;
      message << "timed out after " << static_cast<double>(request_.timeout.count()) / 1000.0
              << " s (while " << step << ")";
      error_ = Status::deadline_exceeded(message.str());
    } else if (outcome_.status == 200) {
      error_ = Status::unavailable("the event stream was cut: " + ec.message());
    } else {
      error_ = Status::unavailable(std::string(step) + ": " + ec.message());
    }
    finish(StreamEnd::kEnded);
  }

  void finish(StreamEnd end) {
    outcome_.end = end;
    beast::error_code ignored;
    signals_.cancel(ignored);
    stream_.socket().shutdown(net::ip::tcp::socket::shutdown_both, ignored);
    stream_.close();
  }

  const EventStreamRequest& request_;
  const std::function<bool(const SseEvent&)>& on_event_;
  const Clock::time_point deadline_;
  net::io_context ioc_{1};
  beast::tcp_stream stream_{ioc_};
  net::signal_set signals_{ioc_, SIGINT, SIGTERM};
  beast::flat_buffer buffer_;
  http::request<http::empty_body> req_;
  std::function<size_t(uint64_t, beast::string_view, beast::error_code&)> chunk_body_;
  http::response_parser<http::string_body> parser_;  // after chunk_body_: destroyed first
  SseParser sse_;
  StreamOutcome outcome_;
  std::optional<Status> error_;
  bool signalled_ = false;
  bool stopped_ = false;
};

}  // namespace

Result<StreamOutcome> read_event_stream(const EventStreamRequest& request,
                                        const std::function<bool(const SseEvent&)>& on_event) {
  try {
    StreamReader reader(request, on_event);
    return reader.run();
  } catch (const std::exception& e) {
    return Status::internal(std::string("event stream client failed: ") + e.what());
  }
}

}  // namespace plancache::cli

// GET /v1/events (admin): the event stream (server/event_bus.h) as
// Server-Sent Events, over the same chunked-stream writer as the plan
// endpoint's SSE answer (reply_channel.h), paced by its write completions.
//
//   : subscribed
//
//   event: put
//   id: 1
//   data: {"t":...,"ns":"default","kind":"plan","key":"3f9c...","bytes":42,...}
//
// Query: ns=a,b (only these namespaces), types=put,remove,planner (only
// these kinds); anything else is 400. The head is written before the
// subscription is made and the subscription before any event can be
// offered to it, so a client that has read the `: subscribed` comment sees
// every event published after it. The answer says `Connection: close`: the
// connection ends with the stream (a drop, or the server's stop).
#include <chrono>

#include "server/errors.h"
#include "server/event_subscriber.h"
#include "server/handlers/handlers.h"

namespace plancache::internal {
namespace {

namespace http = boost::beast::http;

constexpr std::string_view kSubscribed = ": subscribed\n\n";
// The kernel's share of a subscriber's lag (Linux doubles it): beyond it,
// the bus's own bound (--events-buffer) decides.
constexpr uint32_t kSendBufferBytes = 128 << 10;

// The bus's sink over a deferred answer's stream.
class ChannelSink final : public EventSink {
 public:
  explicit ChannelSink(std::shared_ptr<ReplyChannel> channel) : channel_(std::move(channel)) {}
  void write(std::string text, std::function<void(bool sent)> done) override {
    channel_->send_chunk(std::move(text), std::move(done));
  }
  void end(std::string text) override { channel_->end_stream(std::move(text)); }

 private:
  std::shared_ptr<ReplyChannel> channel_;
};

// Calls `each` for every comma-separated part of `list`; an empty part is
// an error naming `param`.
template <typename Fn>
Status for_each_part(std::string_view param, std::string_view list, Fn each) {
  size_t start = 0;
  for (;;) {
    const size_t comma = list.find(',', start);
    const std::string_view part = list.substr(start, comma - start);
    if (part.empty()) {
      return Status::invalid_argument("query parameter '" + std::string(param) +
                                      "' has an empty item: give a comma-separated list");
    }
    PLANCACHE_RETURN_IF_ERROR(each(part));
    if (comma == std::string_view::npos) return Status::ok();
    start = comma + 1;
  }
}

Status read_types(std::string_view list, EventFilter* filter) {
  filter->types.fill(false);
  return for_each_part("types", list, [filter](std::string_view part) {
    for (size_t i = 0; i < kEventTypeCount; ++i) {
      if (event_type_name(static_cast<EventType>(i)) == part) {
        filter->types[i] = true;
        return Status::ok();
      }
    }
    return Status::invalid_argument("query parameter 'types': unknown event type '" +
                                    std::string(part) + "' (put, remove, planner)");
  });
}

}  // namespace

Result<EventFilter> parse_event_filter(std::string_view query) {
  auto params = parse_query(query);
  if (!params.is_ok()) return params.status();
  EventFilter filter;
  for (const auto& [name, value] : *params) {
    if (name == "ns") {
      PLANCACHE_RETURN_IF_ERROR(for_each_part("ns", value, [&filter](std::string_view part) {
        Status valid = validate_namespace(part);
        if (valid.is_ok()) filter.namespaces.emplace_back(part);
        return valid;
      }));
    } else if (name == "types") {
      PLANCACHE_RETURN_IF_ERROR(read_types(value, &filter));
    } else {
      return Status::invalid_argument("unknown query parameter '" + name +
                                      "' (GET /v1/events takes ns and types)");
    }
  }
  return filter;
}

void handle_events(EventBus& bus, Call& call) {
  auto filter = parse_event_filter(call.query);
  if (!filter.is_ok()) return reply_error(call.res, filter.status());
  if (!bus.has_room()) {
    return reply_error(call.res, Status::unavailable("too many event subscribers"));
  }
  std::shared_ptr<ReplyChannel> channel = call.defer();
  channel->limit_send_buffer(kSendBufferBytes);
  HttpResponse head;
  head.result(http::status::ok);
  head.set(http::field::content_type, "text/event-stream");
  head.set(http::field::cache_control, "no-cache");
  head.set(http::field::connection, "close");
  head.set("X-Accel-Buffering", "no");  // a proxy in front must not buffer it
  head.body() = std::string(kSubscribed);
  // The bus sends the heartbeats: they also tell it when a reader has gone.
  channel->open_stream(std::move(head), std::chrono::milliseconds(0), std::string());
  auto subscriber = bus.subscribe(std::move(filter).value(), std::make_shared<ChannelSink>(channel));
  if (!subscriber.is_ok()) {
    channel->end_stream("event: error\ndata: " + error_body(subscriber.status()) + "\n\n");
  }
}

}  // namespace plancache::internal

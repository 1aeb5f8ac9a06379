// EventSubscriber (event_subscriber.h) and the SSE text of events.
//
// Invariant: at most one sink write is out (writing_); everything offered
// meanwhile waits in buffer_, at most capacity_ events, so what a lagging
// reader costs is bounded and the dispatcher never waits for it: offer()
// only appends under the mutex, or drops the subscriber.
#include "server/event_subscriber.h"

#include <nlohmann/json.hpp>
#include <utility>

namespace plancache::internal {
namespace {

void append_string(std::string& out, std::string_view text) {
  out += nlohmann::json(std::string(text))
             .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void append_field(std::string& out, std::string_view name, int64_t value) {
  out += ",\"";
  out += name;
  out += "\":";
  out += std::to_string(value);
}

void append_put(std::string& out, const Event& e) {
  append_field(out, "bytes", static_cast<int64_t>(e.bytes));
  append_field(out, "compute_ms", e.compute_ms);
  if (e.expires_ms == 0) {
    out += ",\"expires_ms\":null";
  } else {
    append_field(out, "expires_ms", e.expires_ms);
  }
  out += ",\"tiers\":[";
  bool first = true;
  for (TierKind kind : kAllTierKinds) {
    if ((e.tiers & (1u << static_cast<unsigned>(kind))) == 0) continue;
    out += first ? "\"" : ",\"";
    out += tier_kind_name(kind);
    out += '"';
    first = false;
  }
  out += "],\"tags\":[";
  for (size_t i = 0; i < e.tags.size(); ++i) {
    if (i != 0) out += ',';
    append_string(out, e.tags[i]);
  }
  out += ']';
  if (e.tags_truncated) out += ",\"tags_truncated\":true";
  if (e.priority != EntryPriority::kNormal) {
    out += ",\"priority\":\"";
    out += entry_priority_name(e.priority);
    out += '"';
  }
}

void append_planner(std::string& out, const Event& e) {
  out += e.phase == PlannerPhase::kStart ? ",\"phase\":\"start\"" : ",\"phase\":\"finish\"";
  out += e.background ? ",\"background\":true" : ",\"background\":false";
  if (e.phase == PlannerPhase::kStart) return;
  append_field(out, "ms", e.ms);
  switch (e.outcome) {
    case PlannerOutcome::kOk:
      out += ",\"outcome\":\"ok\"";
      break;
    case PlannerOutcome::kError:
      out += ",\"outcome\":\"error\"";
      break;
    case PlannerOutcome::kTimeout:
      out += ",\"outcome\":\"timeout\"";
      break;
  }
  if (e.incremental) out += ",\"incremental\":true";
  if (!e.error.empty()) {
    out += ",\"error\":";
    append_string(out, e.error);
  }
}

}  // namespace

std::string format_event(const Event& e) {
  std::string out;
  out.reserve(192 + e.key.size());
  out += "event: ";
  out += event_type_name(e.type);
  out += "\nid: ";
  out += std::to_string(e.seq);
  out += "\ndata: {\"t\":";
  out += std::to_string(e.time_ms);
  out += ",\"ns\":";
  append_string(out, e.ns);
  out += e.kind == KeyKind::kPlan ? ",\"kind\":\"plan\",\"key\":" : ",\"kind\":\"entry\",\"key\":";
  append_string(out, e.key);
  switch (e.type) {
    case EventType::kPut:
      append_put(out, e);
      break;
    case EventType::kRemove:
      out += ",\"cause\":\"";
      out += event_cause_name(e.cause);
      out += '"';
      append_field(out, "bytes", static_cast<int64_t>(e.bytes));
      break;
    case EventType::kPlanner:
      append_planner(out, e);
      break;
  }
  out += "}\n\n";
  return out;
}

std::string dropped_event_text(std::string_view reason, uint64_t missed, uint64_t last_id) {
  std::string out = "event: dropped\ndata: {\"reason\":";
  append_string(out, reason);
  append_field(out, "missed", static_cast<int64_t>(missed));
  append_field(out, "last_id", static_cast<int64_t>(last_id));
  out += "}\n\n";
  return out;
}

EventSubscriber::EventSubscriber(EventBus& bus, EventFilter filter,
                                 std::shared_ptr<EventSink> sink, size_t capacity)
    : bus_(bus),
      filter_(std::move(filter)),
      capacity_(std::max<size_t>(1, capacity)),
      sink_(std::move(sink)) {}

void EventSubscriber::offer(uint64_t seq, const std::shared_ptr<const std::string>& text) {
  bool dropped_now = false;
  {
    std::lock_guard lock(mu_);
    if (state_ != State::kOpen) return;
    if (buffer_.size() >= capacity_) {
      dropped_now = drop_locked("slow", 1);
    } else {
      buffer_.push_back(text);
      buffered_last_seq_ = seq;
    }
  }
  if (dropped_now) bus_.detach(this, /*dropped=*/true);
  pump();
}

void EventSubscriber::heartbeat(TimePoint now, std::chrono::milliseconds interval) {
  static const auto kText = std::make_shared<const std::string>(kEventHeartbeat);
  {
    std::lock_guard lock(mu_);
    if (state_ != State::kOpen || writing_ || !buffer_.empty() || now - last_sent_ < interval) {
      return;
    }
    buffer_.push_back(kText);
  }
  pump();
}

bool EventSubscriber::drop_locked(std::string_view reason, uint64_t missed) {
  if (state_ != State::kOpen) return false;
  missed += buffer_.size();
  buffer_.clear();
  buffer_.push_back(std::make_shared<const std::string>(dropped_event_text(reason, missed, last_id_)));
  state_ = State::kDropping;
  was_dropped_ = true;
  return true;
}

void EventSubscriber::drop(std::string_view reason, uint64_t missed) {
  bool dropped_now = false;
  {
    std::lock_guard lock(mu_);
    dropped_now = drop_locked(reason, missed);
  }
  if (!dropped_now) return;
  bus_.detach(this, /*dropped=*/true);
  pump();
}

void EventSubscriber::close() {
  std::shared_ptr<EventSink> sink;
  std::string text;
  {
    std::lock_guard lock(mu_);
    if (state_ == State::kClosed) return;
    for (const auto& t : buffer_) text += *t;
    buffer_.clear();
    state_ = State::kClosed;
    sink = std::move(sink_);
  }
  if (sink) sink->end(std::move(text));
}

void EventSubscriber::pump() {
  std::shared_ptr<EventSink> sink;
  std::string text;
  bool end = false;
  {
    std::lock_guard lock(mu_);
    if (writing_ || !sink_ || buffer_.empty()) return;
    for (const auto& t : buffer_) text += *t;
    buffer_.clear();
    if (state_ == State::kDropping) {
      // Only the final `event: dropped` is buffered now: it ends the stream.
      end = true;
      state_ = State::kClosed;
      sink = std::move(sink_);
    } else {
      last_id_ = buffered_last_seq_;
      writing_ = true;
      last_sent_ = std::chrono::steady_clock::now();
      sink = sink_;
    }
  }
  if (end) return sink->end(std::move(text));
  sink->write(std::move(text), [self = shared_from_this()](bool sent) { self->on_written(sent); });
}

void EventSubscriber::on_written(bool sent) {
  std::shared_ptr<EventSink> gone;
  {
    std::lock_guard lock(mu_);
    writing_ = false;
    if (!sent && state_ != State::kClosed) {
      state_ = State::kClosed;
      buffer_.clear();
      gone = std::move(sink_);  // released below, without the lock
    }
  }
  if (gone) {
    gone.reset();
    bus_.detach(this, /*dropped=*/false);
    return;
  }
  pump();
}

bool EventSubscriber::closed() const {
  std::lock_guard lock(mu_);
  return state_ == State::kClosed;
}

bool EventSubscriber::dropped() const {
  std::lock_guard lock(mu_);
  return was_dropped_;
}

uint64_t EventSubscriber::last_id() const {
  std::lock_guard lock(mu_);
  return last_id_;
}

}  // namespace plancache::internal

// EventBus (event_bus.h): the publishers' side, the dispatcher and the
// subscriber list.
//
// Locks: queue_mu_ (publishers push; the dispatcher swaps the queue out)
// and subs_mu_ (the list) are never held together, and neither while a
// subscriber or a sink is called. A subscription becomes effective under
// queue_mu_ (first_seq_ is set there), so the dispatcher, which takes the
// queue under the same mutex, sees every event numbered after it and none
// before.
#include "server/event_bus.h"

#include <algorithm>
#include <exception>

#include "server/event_subscriber.h"

namespace plancache::internal {
namespace {

// The calling thread's eviction cause (ScopedEvictionCause); null = none.
thread_local const EventCause* current_eviction_cause = nullptr;

EventBusOptions with_clock(EventBusOptions options) {
  if (!options.clock) options.clock = system_clock();
  return options;
}

}  // namespace

std::string_view event_type_name(EventType type) {
  switch (type) {
    case EventType::kPut: return "put";
    case EventType::kRemove: return "remove";
    case EventType::kPlanner: return "planner";
  }
  return "unknown";
}

std::string_view event_cause_name(EventCause cause) {
  switch (cause) {
    case EventCause::kEvicted: return "evicted";
    case EventCause::kExpired: return "expired";
    case EventCause::kInvalidated: return "invalidated";
    case EventCause::kReplaced: return "replaced";
    case EventCause::kPressure: return "pressure";
    case EventCause::kCorrupt: return "corrupt";
  }
  return "unknown";
}

EventCause event_cause(RemovalCause cause) {
  switch (cause) {
    case RemovalCause::kSize:
      return current_eviction_cause != nullptr ? *current_eviction_cause : EventCause::kEvicted;
    case RemovalCause::kInvalidated:  // also evict_fraction: tagged by its caller
      return current_eviction_cause != nullptr ? *current_eviction_cause
                                               : EventCause::kInvalidated;
    case RemovalCause::kExplicit: return EventCause::kInvalidated;
    case RemovalCause::kExpired: return EventCause::kExpired;
    case RemovalCause::kReplaced: return EventCause::kReplaced;
    case RemovalCause::kCorrupt: return EventCause::kCorrupt;
  }
  return EventCause::kInvalidated;
}

ScopedEvictionCause::ScopedEvictionCause(EventCause cause)
    : previous_(current_eviction_cause), cause_(cause) {
  current_eviction_cause = &cause_;
}

ScopedEvictionCause::~ScopedEvictionCause() { current_eviction_cause = previous_; }

bool EventFilter::accepts(const Event& event) const {
  if (!types[static_cast<size_t>(event.type)]) return false;
  if (namespaces.empty()) return true;
  return std::find(namespaces.begin(), namespaces.end(), event.ns) != namespaces.end();
}

EventBus::EventBus(EventBusOptions options) : options_(with_clock(std::move(options))) {
  if (options_.start_dispatcher) dispatcher_ = std::thread([this] { dispatch_loop(); });
}

EventBus::~EventBus() {
  close_all();
  {
    std::lock_guard lock(queue_mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (dispatcher_.joinable()) dispatcher_.join();
}

RemovalListener EventBus::removal_listener() {
  return [this](const CacheKey& key, const EntryPtr& entry, RemovalCause cause) {
    on_removal(key, entry, cause);
  };
}

void EventBus::on_removal(const CacheKey& key, const EntryPtr& entry, RemovalCause cause) {
  // A sink that throws does not cost the stream its event; the memory tier
  // still counts the error (rethrown below).
  std::exception_ptr failure;
  for (const RemovalListener& sink : options_.removal_sinks) {
    try {
      sink(key, entry, cause);
    } catch (...) {
      failure = std::current_exception();
    }
  }
  if (active()) {
    Event e;
    e.type = EventType::kRemove;
    e.ns = key.ns();
    e.kind = key.kind();
    e.key = key.id();
    e.bytes = entry != nullptr && entry->value != nullptr ? entry->value->size() : 0;
    e.cause = event_cause(cause);
    publish(std::move(e));
  }
  if (failure) std::rethrow_exception(failure);
}

void EventBus::publish_put(const CacheKey& key, const EntryMeta& meta, uint64_t bytes,
                           uint8_t tiers) {
  if (!active()) return;
  Event e;
  e.type = EventType::kPut;
  e.ns = key.ns();
  e.kind = key.kind();
  e.key = key.id();
  e.bytes = bytes;
  e.compute_ms = meta.compute_ms;
  e.expires_ms = meta.expires_ms;
  e.tiers = tiers;
  e.priority = meta.priority;
  size_t tag_bytes = 0;
  for (const std::string& tag : meta.tags) {
    tag_bytes += tag.size();
    if (e.tags.size() == kMaxEventTags || tag_bytes > kMaxEventTagBytes) {
      e.tags_truncated = true;
      break;
    }
    e.tags.push_back(tag);
  }
  publish(std::move(e));
}

void EventBus::publish_planner(const CacheKey& key, Event event) {
  if (!active()) return;
  event.type = EventType::kPlanner;
  event.ns = key.ns();
  event.kind = key.kind();
  event.key = key.id();
  if (event.error.size() > kMaxEventErrorBytes) {
    // Cut on a UTF-8 boundary: never inside a sequence.
    size_t n = kMaxEventErrorBytes;
    while (n > 0 && (static_cast<unsigned char>(event.error[n]) & 0xC0) == 0x80) --n;
    event.error.resize(n);
  }
  publish(std::move(event));
}

void EventBus::publish(Event event) {
  event.time_ms = options_.clock->now_ms();
  bool wake = false;
  {
    std::lock_guard lock(queue_mu_);
    if (stopping_) return;
    if (queue_.size() >= options_.max_queued) {
      ++lost_pending_;
      lost_.fetch_add(1, std::memory_order_relaxed);
      return;
    }
    event.seq = next_seq_++;
    wake = queue_.empty();
    queue_.push_back(std::move(event));
  }
  published_.fetch_add(1, std::memory_order_relaxed);
  if (wake) cv_.notify_one();
}

Result<std::shared_ptr<EventSubscriber>> EventBus::subscribe(EventFilter filter,
                                                             std::shared_ptr<EventSink> sink) {
  auto subscriber = std::make_shared<EventSubscriber>(*this, std::move(filter), std::move(sink),
                                                      options_.subscriber_buffer);
  {
    std::lock_guard lock(subs_mu_);
    if (closed_) return Status::unavailable("the server is stopping");
    if (subs_.size() >= options_.max_subscribers) {
      return Status::unavailable("too many event subscribers (at most " +
                                 std::to_string(options_.max_subscribers) + ")");
    }
    subs_.push_back(subscriber);
    subscribers_.store(subs_.size(), std::memory_order_relaxed);
  }
  // From here on publishers queue events; this one takes those numbered
  // from now on.
  std::lock_guard lock(queue_mu_);
  subscriber->first_seq_.store(next_seq_, std::memory_order_relaxed);
  return subscriber;
}

bool EventBus::has_room() const {
  std::lock_guard lock(subs_mu_);
  return !closed_ && subs_.size() < options_.max_subscribers;
}

void EventBus::detach(const EventSubscriber* subscriber, bool dropped) {
  std::lock_guard lock(subs_mu_);
  const auto it = std::find_if(subs_.begin(), subs_.end(),
                               [subscriber](const auto& s) { return s.get() == subscriber; });
  if (it == subs_.end()) return;
  subs_.erase(it);
  subscribers_.store(subs_.size(), std::memory_order_relaxed);
  if (dropped) dropped_.fetch_add(1, std::memory_order_relaxed);
}

void EventBus::close_all() {
  std::vector<std::shared_ptr<EventSubscriber>> subs;
  {
    std::lock_guard lock(subs_mu_);
    closed_ = true;
    subs.swap(subs_);
    subscribers_.store(0, std::memory_order_relaxed);
  }
  for (const auto& s : subs) s->close();
}

size_t EventBus::dispatch() {
  uint64_t lost = 0;
  {
    std::lock_guard lock(queue_mu_);
    taken_.swap(queue_);
    lost = lost_pending_;
    lost_pending_ = 0;
  }
  std::vector<std::shared_ptr<EventSubscriber>> subs;
  {
    std::lock_guard lock(subs_mu_);
    subs = subs_;
  }
  for (const Event& e : taken_) {
    std::shared_ptr<const std::string> text;  // formatted once, for whoever wants it
    for (const auto& s : subs) {
      if (!s->wants(e)) continue;
      if (!text) text = std::make_shared<const std::string>(format_event(e));
      s->offer(e.seq, text);
    }
  }
  // Lost events came after everything taken: each subscriber gets what it
  // was offered, then its drop.
  if (lost != 0) {
    for (const auto& s : subs) s->drop("overflow", lost);
  }
  if (options_.heartbeat.count() > 0) {
    const auto now = std::chrono::steady_clock::now();
    for (const auto& s : subs) s->heartbeat(now, options_.heartbeat);
  }
  const size_t n = taken_.size();
  taken_.clear();  // keeps its capacity for the next round
  return n;
}

void EventBus::dispatch_loop() {
  using std::chrono::milliseconds;
  const milliseconds wake = options_.heartbeat.count() > 0
                                ? std::max(options_.heartbeat / 2, milliseconds(10))
                                : milliseconds(1000);
  std::unique_lock lock(queue_mu_);
  while (!stopping_) {
    cv_.wait_for(lock, wake, [this] { return stopping_ || !queue_.empty() || lost_pending_ != 0; });
    if (stopping_) break;
    lock.unlock();
    dispatch();
    lock.lock();
  }
}

EventBusStats EventBus::stats() const {
  EventBusStats s;
  s.subscribers = subscribers_.load(std::memory_order_relaxed);
  s.published = published_.load(std::memory_order_relaxed);
  s.dropped_subscribers = dropped_.load(std::memory_order_relaxed);
  s.lost = lost_.load(std::memory_order_relaxed);
  return s;
}

nlohmann::json EventBus::stats_json() const {
  const EventBusStats s = stats();
  return {{"subscribers", s.subscribers},
          {"published", s.published},
          {"dropped_subscribers", s.dropped_subscribers},
          {"lost", s.lost},
          {"buffer", options_.subscriber_buffer}};
}

std::string EventBus::prometheus_text() const {
  const EventBusStats s = stats();
  std::string out;
  auto family = [&out](std::string_view name, std::string_view type, std::string_view help,
                       uint64_t value) {
    out += "# HELP plancache_";
    out += name;
    out += ' ';
    out += help;
    out += "\n# TYPE plancache_";
    out += name;
    out += ' ';
    out += type;
    out += "\nplancache_";
    out += name;
    out += ' ';
    out += std::to_string(value);
    out += '\n';
  };
  family("events_subscribers", "gauge", "GET /v1/events streams open now.", s.subscribers);
  family("events_published_total", "counter", "Events put on the event bus while someone listened.",
         s.published);
  family("events_dropped_subscribers_total", "counter",
         "Event-stream subscribers dropped for falling behind.", s.dropped_subscribers);
  family("events_lost_total", "counter", "Events lost to a full event queue.", s.lost);
  return out;
}

}  // namespace plancache::internal

// EventBus: the server's event stream (GET /v1/events, `plancache events`)
// and its one removal fan-out.
//
// Sources: L1's removal listener (removal_listener(): every memory lane's
// MemoryTierOptions::removal_listener), the puts the server's cache takes
// (PublishingCache, publishing_cache.h) and the planner runs of the
// read-through flights (Planning). The removal listener also feeds the
// synchronous removal sinks given at construction (the near-miss indexes'
// upkeep), so L1 has exactly one listener and the cause mapping
// (event_cause) exists once.
//
// Cost: with no subscriber, publishing is one relaxed atomic load
// (active()); the removal listener then only calls its sinks. With one, a
// publisher formats nothing: it copies the event's few fields into a
// bounded queue under a mutex held for a push (never waits otherwise; a
// full queue drops the event and, on the next round, every subscriber with
// reason "overflow"). Sequence numbers are given at publish, under that
// mutex, so their order is the stream's. One dispatcher thread formats each
// event once and offers it to every subscriber whose filter takes it. Each subscriber has a bounded buffer (EventSubscriber):
// a subscriber that falls `subscriber_buffer` events behind is dropped with
// a final `event: dropped` and its stream ended -- the cache never waits
// for a reader.
//
// Pressure: a removal made by the memory watchdog (inside a
// ScopedEvictionCause(kPressure), on the thread that evicts: the memory
// tier calls its listener on the calling thread) is reported as "pressure";
// POST /v1/evict's as "evicted".
//
// Ownership: owns its dispatcher thread and its subscribers; a sink is
// released once its stream is ended. close_all() (server stop) ends every
// stream; the destructor calls it and joins the dispatcher.
// Thread-safety: every method may be called from any thread.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "plancache/clock.h"
#include "plancache/entry.h"
#include "plancache/status.h"
#include "plancache/tier.h"

namespace plancache::internal {

class EventSubscriber;

enum class EventType : uint8_t { kPut, kRemove, kPlanner };
inline constexpr size_t kEventTypeCount = 3;
// "put", "remove", "planner".
std::string_view event_type_name(EventType type);

// Why an entry left L1, as the stream says it.
enum class EventCause : uint8_t {
  kEvicted,      // to stay within the lane's bounds (kSize), or POST /v1/evict
  kExpired,      // its TTL ran out (found on a get or by the sweep)
  kInvalidated,  // DELETE, /v1/invalidate, /v1/clear, another instance's write
  kReplaced,     // a put of the same key
  kPressure,     // the memory watchdog (evict_fraction, limit_bytes)
  kCorrupt,      // failed its checksum (the disk tier's only; never from L1)
};
// "evicted", "expired", "invalidated", "replaced", "pressure", "corrupt".
std::string_view event_cause_name(EventCause cause);
// The stream's cause of a library RemovalCause, given the calling thread's
// ScopedEvictionCause (if any): the one mapping.
EventCause event_cause(RemovalCause cause);

// While alive, the evictions this thread makes (RemovalCause kSize and
// kInvalidated) are reported with `cause` (kPressure, kEvicted). Nests.
class ScopedEvictionCause {
 public:
  explicit ScopedEvictionCause(EventCause cause);
  ~ScopedEvictionCause();
  ScopedEvictionCause(const ScopedEvictionCause&) = delete;
  ScopedEvictionCause& operator=(const ScopedEvictionCause&) = delete;

 private:
  const EventCause* previous_;
  EventCause cause_;
};

enum class PlannerPhase : uint8_t { kStart, kFinish };
enum class PlannerOutcome : uint8_t { kOk, kError, kTimeout };

inline constexpr size_t kMaxEventTags = 16;         // more: "tags_truncated":true
inline constexpr size_t kMaxEventTagBytes = 1024;   // ... or more bytes than this
inline constexpr size_t kMaxEventErrorBytes = 256;  // a planner error's message

// One event, as queued (formatted by the dispatcher: event_format.cc).
struct Event {
  EventType type = EventType::kPut;
  uint64_t seq = 0;      // given at publish: 1, 2, ... in stream order
  int64_t time_ms = 0;   // wall clock when published
  std::string ns;
  KeyKind kind = KeyKind::kPlan;
  std::string key;       // CacheKey::id(): the hex digest, or the user key
  uint64_t bytes = 0;    // put, remove: the value's size
  // put
  uint32_t compute_ms = 0;
  int64_t expires_ms = 0;  // 0 = never
  std::vector<std::string> tags;
  bool tags_truncated = false;
  uint8_t tiers = 0;  // bit (1 << TierKind) per tier written
  EntryPriority priority = EntryPriority::kNormal;
  // remove
  EventCause cause = EventCause::kEvicted;
  // planner
  PlannerPhase phase = PlannerPhase::kStart;
  PlannerOutcome outcome = PlannerOutcome::kOk;  // finish only
  int64_t ms = 0;            // finish: the run's duration
  bool background = false;   // a refresh with no caller waiting
  bool incremental = false;  // finish: planned from a neighbour's plan
  std::string error;         // finish with an error: its message (bounded)
};

// What a subscriber takes: empty = everything.
struct EventFilter {
  std::vector<std::string> namespaces;
  std::array<bool, kEventTypeCount> types{true, true, true};
  bool accepts(const Event& event) const;
};

// Where a subscriber's text goes (the SSE stream of one connection).
// REQUIRES: thread-safe; write's `done` may run on any thread, but not
// inside write() itself.
class EventSink {
 public:
  virtual ~EventSink() = default;
  // Sends `text`; `done(true)` once it is out, `done(false)` when the
  // stream failed (the reader went away).
  virtual void write(std::string text, std::function<void(bool sent)> done) = 0;
  // Sends `text` (may be empty) and ends the stream.
  virtual void end(std::string text) = 0;
};

struct EventBusOptions {
  // Events a subscriber may fall behind before it is dropped (--events-buffer).
  // Default: 1024.
  size_t subscriber_buffer = 1024;
  // Events waiting for the dispatcher; more are lost (and every subscriber
  // dropped, reason "overflow"). Default: 65,536.
  size_t max_queued = 65'536;
  // Subscribers at once; subscribe() refuses more. Default: 64.
  size_t max_subscribers = 64;
  // A comment line is sent to a subscriber silent this long; zero = never
  // (--sse-heartbeat-ms). Default: 15 s.
  std::chrono::milliseconds heartbeat{15'000};
  // Time stamps of events. Default: system_clock().
  std::shared_ptr<Clock> clock;
  // Told about every L1 removal, on the removing thread, before it is
  // published (e.g. the near-miss indexes). Default: none.
  std::vector<RemovalListener> removal_sinks;
  // false: no dispatcher thread; the caller runs dispatch() (tests).
  // Default: true.
  bool start_dispatcher = true;
};

struct EventBusStats {
  uint64_t subscribers = 0;          // now
  uint64_t published = 0;            // events queued while someone listened
  uint64_t dropped_subscribers = 0;  // dropped for lagging (slow or overflow)
  uint64_t lost = 0;                 // events lost to a full queue
};

class EventBus {
 public:
  explicit EventBus(EventBusOptions options);
  ~EventBus();
  EventBus(const EventBus&) = delete;
  EventBus& operator=(const EventBus&) = delete;

  // Whether anyone listens (a relaxed load: the publishers' whole cost
  // without a subscriber).
  bool active() const { return subscribers_.load(std::memory_order_relaxed) != 0; }

  // The one listener for L1's memory tiers. Holds a pointer to this bus,
  // which must outlive them.
  RemovalListener removal_listener();
  // An entry of `key` was stored in the tiers of bit mask `tiers`.
  void publish_put(const CacheKey& key, const EntryMeta& meta, uint64_t bytes, uint8_t tiers);
  // A planner run of `key` starts or ends (`event` gives phase, outcome...).
  void publish_planner(const CacheKey& key, Event event);

  // A new subscriber of the events published from now on.
  // Errors: unavailable when max_subscribers are subscribed or the bus is
  // closed.
  Result<std::shared_ptr<EventSubscriber>> subscribe(EventFilter filter,
                                                     std::shared_ptr<EventSink> sink);
  // Whether subscribe() would take one more now.
  bool has_room() const;
  // Ends every stream (what is buffered is sent first); later subscribe()
  // calls fail. For the server's stop.
  void close_all();

  // One dispatcher round: formats and offers the queued events, drops every
  // subscriber after an overflow, sends due heartbeats. Returns the number
  // of events taken. The dispatcher thread's loop body; tests without it
  // call it themselves.
  size_t dispatch();

  EventBusStats stats() const;
  // /v1/stats "events": {"subscribers","published","dropped_subscribers",
  // "lost","buffer"}.
  nlohmann::json stats_json() const;
  // /metrics: the plancache_events_* families.
  std::string prometheus_text() const;
  size_t subscriber_buffer() const { return options_.subscriber_buffer; }

 private:
  friend class EventSubscriber;
  void publish(Event event);
  void on_removal(const CacheKey& key, const EntryPtr& entry, RemovalCause cause);
  // The subscriber left (dropped, or its reader went away).
  void detach(const EventSubscriber* subscriber, bool dropped);
  void dispatch_loop();

  const EventBusOptions options_;
  std::atomic<uint64_t> subscribers_{0};  // subs_.size(), read without mu_
  std::atomic<uint64_t> published_{0}, dropped_{0}, lost_{0};

  // Guards queue_, next_seq_, lost_pending_ and stopping_; cv_ wakes the
  // dispatcher. Held by publishers for a push only.
  mutable std::mutex queue_mu_;
  std::condition_variable cv_;
  std::vector<Event> queue_;
  uint64_t next_seq_ = 1;
  uint64_t lost_pending_ = 0;  // events lost since the last round
  bool stopping_ = false;
  // The dispatcher's round (swapped with queue_; only dispatch() uses it).
  std::vector<Event> taken_;

  // Guards subs_ and closed_ (subscribe, detach, close_all, the dispatcher's
  // snapshot). Never held while a sink is called.
  mutable std::mutex subs_mu_;
  std::vector<std::shared_ptr<EventSubscriber>> subs_;
  bool closed_ = false;

  std::thread dispatcher_;  // last: starts once the members above exist
};

}  // namespace plancache::internal

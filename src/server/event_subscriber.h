// EventSubscriber: one reader of the event stream (event_bus.h) -- its
// filter, its bounded buffer of formatted events and the flow to its sink.
//
// Flow: at most one write is out at a time; when it is done, everything
// buffered meanwhile goes out as the next write. So a reader's lag is
// bounded twice: by `capacity` events waiting here, plus the one write its
// connection is sending.
//
// States: open -> dropping (an event found the buffer full: what was
// buffered is discarded, counted as missed, and `event: dropped` is queued
// as the last text; no event is taken after it) -> closed (the last text
// is out and the stream ended, the reader went away, or close()). A closed
// subscriber holds no sink.
//
// Thread-safety: offer(), heartbeat() and drop() run on the bus's
// dispatcher; write completions on the sink's thread; close() anywhere. One
// mutex guards the state; the sink is never called with it held.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "server/event_bus.h"

namespace plancache::internal {

// The SSE text of `event`: "event: <type>\nid: <seq>\ndata: {...}\n\n".
std::string format_event(const Event& event);
// "event: dropped\ndata: {"reason":"<reason>","missed":N,"last_id":L}\n\n".
std::string dropped_event_text(std::string_view reason, uint64_t missed, uint64_t last_id);
inline constexpr std::string_view kEventHeartbeat = ": heartbeat\n\n";

class EventSubscriber : public std::enable_shared_from_this<EventSubscriber> {
 public:
  using TimePoint = std::chrono::steady_clock::time_point;

  // REQUIRES: `bus` outlives every call into this subscriber; capacity >= 1.
  EventSubscriber(EventBus& bus, EventFilter filter, std::shared_ptr<EventSink> sink,
                  size_t capacity);
  EventSubscriber(const EventSubscriber&) = delete;
  EventSubscriber& operator=(const EventSubscriber&) = delete;

  // Whether `event` is for this subscriber: published after it subscribed,
  // and taken by its filter.
  bool wants(const Event& event) const {
    return event.seq >= first_seq_.load(std::memory_order_relaxed) && filter_.accepts(event);
  }
  // Buffers `text` (event `seq`) and sends it when no write is out. A full
  // buffer drops the subscriber ("slow"). No-op unless open.
  void offer(uint64_t seq, const std::shared_ptr<const std::string>& text);
  // Sends a heartbeat comment when nothing was sent since `now - interval`.
  void heartbeat(TimePoint now, std::chrono::milliseconds interval);
  // Drops the subscriber: `missed` events plus what is buffered are lost;
  // the final `event: dropped` (with `reason`) ends its stream.
  void drop(std::string_view reason, uint64_t missed);
  // Ends the stream after what is buffered; nothing is taken after it.
  void close();

  bool closed() const;
  bool dropped() const;
  // The sequence number of the last event handed to the sink (0: none).
  uint64_t last_id() const;

 private:
  friend class EventBus;
  enum class State { kOpen, kDropping, kClosed };

  // Starts a write of what is buffered when none is out (takes the lock).
  void pump();
  void on_written(bool sent);
  // Under mu_: the drop itself; returns false when not open.
  bool drop_locked(std::string_view reason, uint64_t missed);

  EventBus& bus_;
  const EventFilter filter_;
  const size_t capacity_;
  // Set once by EventBus::subscribe under its queue mutex.
  std::atomic<uint64_t> first_seq_{UINT64_MAX};

  // Guards everything below.
  mutable std::mutex mu_;
  std::shared_ptr<EventSink> sink_;  // null once closed
  std::deque<std::shared_ptr<const std::string>> buffer_;
  uint64_t buffered_last_seq_ = 0;  // seq of the newest event in buffer_
  uint64_t last_id_ = 0;            // seq of the newest event handed to the sink
  bool writing_ = false;            // a write is out
  State state_ = State::kOpen;
  bool was_dropped_ = false;        // drop() or a full buffer ended it
  TimePoint last_sent_ = std::chrono::steady_clock::now();
};

}  // namespace plancache::internal

// Test helpers for the event stream's tests (server/event_bus.h): a sink
// whose writes complete when the test says so, an SSE parser of what it was
// sent, and a bus without a dispatcher thread.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "server/event_bus.h"

namespace plancache::internal {

using nlohmann::json;

// A stream whose writes complete only when the test says so.
class FakeSink final : public EventSink {
 public:
  void write(std::string text, std::function<void(bool)> done) override {
    std::lock_guard lock(mu_);
    writes_.push_back(text);
    pending_.push_back(std::move(done));
    cv_.notify_all();
  }
  void end(std::string text) override {
    std::lock_guard lock(mu_);
    end_text_ = std::move(text);
    ended_ = true;
    cv_.notify_all();
  }
  // Completes the oldest pending write; false when none is pending.
  bool complete(bool sent = true) {
    std::function<void(bool)> done;
    {
      std::lock_guard lock(mu_);
      if (pending_.empty()) return false;
      done = std::move(pending_.front());
      pending_.pop_front();
    }
    done(sent);
    return true;
  }
  void complete_all() {
    while (complete()) {
    }
  }
  void wait_ended() {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this] { return ended_; });
  }
  void wait_writes(size_t n) {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [this, n] { return writes_.size() >= n; });
  }
  std::string text() const {
    std::lock_guard lock(mu_);
    std::string all;
    for (const std::string& w : writes_) all += w;
    return all + end_text_;
  }
  bool ended() const {
    std::lock_guard lock(mu_);
    return ended_;
  }
  std::string end_text() const {
    std::lock_guard lock(mu_);
    return end_text_;
  }
  size_t pending() const {
    std::lock_guard lock(mu_);
    return pending_.size();
  }

 private:
  mutable std::mutex mu_;  // guards everything below
  std::condition_variable cv_;
  std::vector<std::string> writes_;
  std::deque<std::function<void(bool)>> pending_;
  std::string end_text_;
  bool ended_ = false;
};

struct Parsed {
  std::string event;
  uint64_t id = 0;
  json data;
};

// The SSE events in `text` (comments skipped).
inline std::vector<Parsed> parse(const std::string& text) {
  std::vector<Parsed> out;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t end = text.find("\n\n", pos);
    const std::string block = text.substr(pos, end - pos);
    pos = end == std::string::npos ? text.size() : end + 2;
    if (block.empty() || block[0] == ':') continue;
    Parsed p;
    size_t line_start = 0;
    while (line_start < block.size()) {
      size_t line_end = block.find('\n', line_start);
      if (line_end == std::string::npos) line_end = block.size();
      const std::string line = block.substr(line_start, line_end - line_start);
      line_start = line_end + 1;
      if (line.rfind("event: ", 0) == 0) p.event = line.substr(7);
      if (line.rfind("id: ", 0) == 0) p.id = std::stoull(line.substr(4));
      if (line.rfind("data: ", 0) == 0) p.data = json::parse(line.substr(6));
    }
    out.push_back(std::move(p));
  }
  return out;
}

inline EventBusOptions manual(size_t buffer = 1024) {
  EventBusOptions o;
  o.subscriber_buffer = buffer;
  o.start_dispatcher = false;
  o.heartbeat = std::chrono::milliseconds(0);
  o.clock = std::make_shared<FakeClock>(1'790'000'000'000);
  return o;
}

inline CacheKey plan(const std::string& id, const std::string& ns = "default") {
  return CacheKey(ns, KeyKind::kPlan, id);
}

}  // namespace plancache::internal

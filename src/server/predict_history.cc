// RequestHistory and PredictionLedger (predict_history.h).
//
// RequestHistory is an LRU list of records keyed by plan key: a request
// moves its record to the front, a full history drops the back. by_key_
// holds views into the records' own key strings, which list nodes never
// move. The ledger is a map with a FIFO of (key, start) beside it for its
// bound; a FIFO slot whose key was forgotten or started again is skipped
// when it comes up, and the FIFO is rebuilt when it holds twice the bound.
#include "server/predict_history.h"

#include <algorithm>

namespace plancache::internal {

RequestHistory::RequestHistory(size_t max_records)
    : max_records_(std::max<size_t>(1, max_records)) {}

void RequestHistory::record(std::string_view key_hex, std::string_view goal,
                            std::string_view context, int64_t now_ms, int64_t fresh_until_ms,
                            int64_t ttl_ms) {
  std::lock_guard lock(mu_);
  auto it = by_key_.find(key_hex);
  if (it == by_key_.end()) {
    if (order_.size() >= max_records_) {
      by_key_.erase(order_.back().key);
      order_.pop_back();
    }
    order_.push_front(
        Record{std::string(key_hex), std::string(goal), std::string(context), {}, 0, 0});
    it = by_key_.emplace(order_.front().key, order_.begin()).first;
  } else if (it->second != order_.begin()) {
    order_.splice(order_.begin(), order_, it->second);  // iterators stay valid
  }
  Record& r = *it->second;
  r.times.push_back(now_ms);
  if (r.times.size() > kMaxTimesPerKey) r.times.pop_front();
  if (fresh_until_ms != 0) {
    r.fresh_until_ms = fresh_until_ms;
    r.ttl_ms = ttl_ms;
  }
}

void RequestHistory::forget_freshness(std::string_view key_hex) {
  std::lock_guard lock(mu_);
  if (const auto it = by_key_.find(key_hex); it != by_key_.end()) {
    it->second->fresh_until_ms = 0;
    it->second->ttl_ms = 0;
  }
}

std::vector<RequestRecord> RequestHistory::snapshot(int64_t now_ms, int64_t window_ms) {
  const int64_t since = now_ms - window_ms;
  std::vector<RequestRecord> out;
  std::lock_guard lock(mu_);
  out.reserve(order_.size());
  for (auto it = order_.begin(); it != order_.end();) {
    Record& r = *it;
    while (!r.times.empty() && r.times.front() < since) r.times.pop_front();
    if (r.times.empty()) {  // asked before the window only: forgotten
      by_key_.erase(r.key);
      it = order_.erase(it);
      continue;
    }
    out.push_back(RequestRecord{r.key, r.goal, r.context, static_cast<uint32_t>(r.times.size()),
                                r.times.back(), r.fresh_until_ms, r.ttl_ms});
    ++it;
  }
  return out;
}

void RequestHistory::clear() {
  std::lock_guard lock(mu_);
  by_key_.clear();
  order_.clear();
}

size_t RequestHistory::size() const {
  std::lock_guard lock(mu_);
  return order_.size();
}

PredictionLedger::PredictionLedger(size_t max_keys) : max_keys_(std::max<size_t>(1, max_keys)) {}

void PredictionLedger::started(std::string_view key_hex, int64_t now_ms) {
  std::lock_guard lock(mu_);
  keys_[std::string(key_hex)] = Tracked{now_ms, true};
  fifo_.emplace_back(std::string(key_hex), now_ms);
  while (keys_.size() > max_keys_ && !fifo_.empty()) {  // the oldest goes, counted neither way
    const auto it = keys_.find(fifo_.front().first);
    if (it != keys_.end() && it->second.started_ms == fifo_.front().second) keys_.erase(it);
    fifo_.pop_front();
  }
  if (fifo_.size() > 2 * max_keys_) {  // mostly slots of forgotten keys: rebuild
    fifo_.clear();
    for (const auto& [key, t] : keys_) fifo_.emplace_back(key, t.started_ms);
    std::sort(fifo_.begin(), fifo_.end(),
              [](const auto& a, const auto& b) { return a.second < b.second; });
  }
}

void PredictionLedger::finished(std::string_view key_hex, bool stored) {
  std::lock_guard lock(mu_);
  const auto it = keys_.find(std::string(key_hex));
  if (it == keys_.end()) return;  // already used (a caller joined the flight)
  if (stored) {
    it->second.running = false;
  } else {
    keys_.erase(it);
  }
}

PredictionLedger::Event PredictionLedger::on_request(std::string_view key_hex, const Entry* hit) {
  std::lock_guard lock(mu_);
  if (keys_.empty()) return Event::kNone;
  const auto it = keys_.find(std::string(key_hex));
  if (it == keys_.end()) return Event::kNone;
  const Tracked t = it->second;
  if (hit != nullptr) {
    if (hit->meta.created_ms < t.started_ms) return Event::kNone;  // the old entry still
    keys_.erase(it);
    return Event::kUsed;
  }
  keys_.erase(it);  // a miss: the caller joins the running flight, or the plan is gone
  return t.running ? Event::kUsed : Event::kNone;
}

PredictionLedger::Event PredictionLedger::on_removal(std::string_view key_hex, const Entry& entry,
                                                     RemovalCause cause) {
  if (cause == RemovalCause::kReplaced) return Event::kNone;
  std::lock_guard lock(mu_);
  if (keys_.empty()) return Event::kNone;
  const auto it = keys_.find(std::string(key_hex));
  if (it == keys_.end() || entry.meta.created_ms < it->second.started_ms) return Event::kNone;
  keys_.erase(it);
  const bool wasted = cause == RemovalCause::kSize || cause == RemovalCause::kExpired;
  return wasted ? Event::kWasted : Event::kNone;
}

bool PredictionLedger::tracked(std::string_view key_hex) const {
  std::lock_guard lock(mu_);
  return keys_.count(std::string(key_hex)) != 0;
}

void PredictionLedger::clear() {
  std::lock_guard lock(mu_);
  keys_.clear();
  fifo_.clear();
}

size_t PredictionLedger::size() const {
  std::lock_guard lock(mu_);
  return keys_.size();
}

}  // namespace plancache::internal

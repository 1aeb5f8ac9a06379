#include "cache/sync_point.h"

#include <algorithm>

namespace plancache::internal {

std::atomic<bool> SyncPoint::enabled_{false};

SyncPoint& SyncPoint::instance() {
  static SyncPoint point;
  return point;
}

void SyncPoint::load_dependencies(std::vector<Dependency> dependencies) {
  std::lock_guard lock(mu_);
  predecessors_.clear();
  passed_.clear();
  for (Dependency& d : dependencies) {
    predecessors_[std::move(d.successor)].push_back(std::move(d.predecessor));
  }
  cv_.notify_all();
}

void SyncPoint::set_callback(const std::string& point, std::function<void(void*)> fn) {
  std::lock_guard lock(mu_);
  callbacks_[point] = std::move(fn);
}

void SyncPoint::enable() { enabled_.store(true, std::memory_order_relaxed); }

void SyncPoint::disable() {
  enabled_.store(false, std::memory_order_relaxed);
  std::lock_guard lock(mu_);
  predecessors_.clear();
  callbacks_.clear();
  passed_.clear();
  cv_.notify_all();
}

bool SyncPoint::predecessors_passed(const std::string& point) const {
  const auto it = predecessors_.find(point);
  if (it == predecessors_.end()) return true;
  return std::all_of(it->second.begin(), it->second.end(),
                     [this](const std::string& p) { return passed_.count(p) != 0; });
}

void SyncPoint::process(std::string_view point_name, void* arg) {
  const std::string point(point_name);
  std::function<void(void*)> callback;
  {
    std::unique_lock lock(mu_);
    cv_.wait(lock, [&] { return !enabled() || predecessors_passed(point); });
    const auto it = callbacks_.find(point);
    if (it != callbacks_.end()) callback = it->second;
  }
  if (callback) callback(arg);  // no lock held: the test's code may block
  std::lock_guard lock(mu_);
  passed_.insert(point);
  cv_.notify_all();
}

}  // namespace plancache::internal

#include "tiers/redis/coherence_guard.h"

namespace plancache::internal {

uint64_t CoherenceGuard::open_locked(std::string_view key, bool write) {
  auto [it, inserted] = keys_.try_emplace(std::string(key));
  KeyState& ks = it->second;
  if (write) {
    ++ks.version;  // fails the other guards open on the key
    ++ks.writers;
    ++ks.own_pending;
  }
  ++ks.open;
  const uint64_t id = next_ticket_++;
  Ticket t;
  t.key = it->first;
  t.version = ks.version;
  t.epoch = epoch_;
  t.write = write;
  t.poisoned = !coherent_;
  t.saw_writer = !write && ks.writers > 0;
  tickets_.emplace(id, std::move(t));
  return id;
}

uint64_t CoherenceGuard::begin_read(std::string_view key) {
  std::lock_guard lock(mu_);
  return open_locked(key, false);
}

uint64_t CoherenceGuard::begin_write(std::string_view key) {
  std::lock_guard lock(mu_);
  return open_locked(key, true);
}

bool CoherenceGuard::close(uint64_t ticket, bool applied) {
  std::lock_guard lock(mu_);
  auto t = tickets_.find(ticket);
  if (t == tickets_.end()) return false;
  auto it = keys_.find(t->second.key);
  bool held = !t->second.poisoned && !t->second.saw_writer && coherent_ &&
              t->second.epoch == epoch_;
  if (it != keys_.end()) {
    KeyState& ks = it->second;
    held = held && ks.version == t->second.version;
    if (t->second.write) {
      ++ks.version;  // readers opened during the write may hold the old value
      --ks.writers;
      if (!applied && ks.own_pending > 0) --ks.own_pending;
    }
    --ks.open;
    release_locked(it);
  } else {
    held = false;
  }
  tickets_.erase(t);
  return held;
}

void CoherenceGuard::release_locked(std::unordered_map<std::string, KeyState>::iterator it) {
  if (it->second.open == 0 && it->second.own_pending == 0) keys_.erase(it);
}

bool CoherenceGuard::invalidated(std::string_view key) {
  std::lock_guard lock(mu_);
  auto it = keys_.find(std::string(key));
  if (it == keys_.end()) return true;
  KeyState& ks = it->second;
  if (ks.own_pending > 0) {
    --ks.own_pending;
    release_locked(it);
    return false;
  }
  ++ks.version;
  return true;
}

void CoherenceGuard::invalidate_all() {
  std::lock_guard lock(mu_);
  ++epoch_;
}

void CoherenceGuard::set_coherent(bool coherent) {
  std::lock_guard lock(mu_);
  coherent_ = coherent;
  ++epoch_;
  if (!coherent) {
    for (auto it = keys_.begin(); it != keys_.end();) {
      it->second.own_pending = 0;
      if (it->second.open == 0) {
        it = keys_.erase(it);
      } else {
        ++it;
      }
    }
  }
}

bool CoherenceGuard::coherent() const {
  std::lock_guard lock(mu_);
  return coherent_;
}

size_t CoherenceGuard::tracked_keys() const {
  std::lock_guard lock(mu_);
  return keys_.size();
}

}  // namespace plancache::internal

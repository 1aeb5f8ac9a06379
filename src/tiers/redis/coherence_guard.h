// CoherenceGuard: the "caching in progress" placeholders of the shared tier
// (SharedCoordination::begin_read / begin_write / close), fed by the
// invalidation listener. Pure bookkeeping: no Redis, no clock.
//
// The rules (docs/decisions.md, "Coherence"):
// - A guard fails when, while it was open, a foreign invalidation named its
//   key, a write of its key by this instance was open, invalidate_all() ran
//   (a flush, a namespace change), or coherence was lost.
// - Own writes: begin_write counts one message this instance's own write
//   will cause; invalidated() consumes such a count instead of failing
//   guards. A foreign message consumed by mistake (it raced an own write)
//   only shifts the failure to the own write's later message, so the last
//   message for a key in Redis order is never ignored wrongly.
// - set_coherent(false) (a listener lost): every guard open or opened until
//   set_coherent(true) fails, and pending own counts are forgotten (their
//   messages may never come).
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace plancache::internal {

class CoherenceGuard {
 public:
  uint64_t begin_read(std::string_view key);
  uint64_t begin_write(std::string_view key);
  // True when the guard held (see above). `applied` false: the write did not
  // reach Redis, so no own message is expected for it.
  bool close(uint64_t ticket, bool applied = true);

  // A message named `key`: true when it is foreign (the caller must drop
  // its local copies), false when it was this instance's own write.
  bool invalidated(std::string_view key);
  // Fails every open guard (e.g. a flush or a namespace change).
  void invalidate_all();
  void set_coherent(bool coherent);
  bool coherent() const;

  // Keys with open guards or pending own writes (a test and stats figure).
  size_t tracked_keys() const;

 private:
  struct KeyState {
    uint64_t version = 0;     // bumped by foreign messages and own writes
    uint32_t open = 0;        // guards open on the key
    uint32_t writers = 0;     // of which own writes
    uint32_t own_pending = 0; // own messages not yet seen
  };
  struct Ticket {
    std::string key;
    uint64_t version = 0;
    uint64_t epoch = 0;
    bool write = false;
    bool poisoned = false;  // opened while incoherent
    bool saw_writer = false;  // an own write of the key was open when it opened
  };

  void release_locked(std::unordered_map<std::string, KeyState>::iterator it);
  uint64_t open_locked(std::string_view key, bool write);

  mutable std::mutex mu_;  // guards everything below
  std::unordered_map<std::string, KeyState> keys_;
  std::unordered_map<uint64_t, Ticket> tickets_;
  uint64_t next_ticket_ = 1;
  uint64_t epoch_ = 0;
  bool coherent_ = false;  // until the listeners are up
};

}  // namespace plancache::internal

// What a tier shared by several instances (the Redis tier) offers besides
// storage: coherence guards and leases (docs/decisions.md, "Coherence" and
// "Leases"). The multi-tier Cache uses them through Tier::coordination();
// local tiers return null there and none of this applies to them.
//
// Guards close the race between a read (or write) of the shared tier and an
// invalidation of the same key by another instance: the cache opens a
// ticket before it asks the shared tier, copies what it got into the faster
// tiers, and closes the ticket; when close() says the key was invalidated
// meanwhile (or coherence was lost), the cache erases the copies again --
// the "caching in progress" placeholder of Redis client-side caching.
//
// Leases make one instance compute a missing key while the others wait for
// its result: acquire() takes the key's lease or waits for the holder's
// value; commit() stores the computed entry only while the lease still
// holds and nothing invalidated the key since acquire(); release() gives
// the lease up without storing.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <cstdint>
#include <string>

#include "plancache/entry.h"
#include "plancache/status.h"
#include "plancache/tier.h"

namespace plancache {

// Where a shared tier reports what other instances (or anyone writing the
// shared store) changed, so the cache can drop its local copies.
// Called from the shared tier's threads, never with a tier lock held.
class RemoteInvalidationSink {
 public:
  virtual ~RemoteInvalidationSink() = default;
  // `key` was written, deleted or expired in the shared store.
  virtual void remote_key(const CacheKey& key) = 0;
  // Entries matching `selector` were invalidated in the shared store.
  virtual void remote_selector(const Selector& selector) = 0;
  // Anything may have changed (a flush, or coherence lost / regained):
  // every local copy of a shared entry must go.
  virtual void remote_flush() = 0;
};

struct SharedLease {
  enum class State {
    kNone,         // no lease needed or possible (e.g. shared tier down): compute
    kHeld,         // this caller holds the lease: compute, then commit or release
    kFound,        // another instance computed it: `entry` is the value
    kTimedOut,     // waited the bound for the holder: compute without a lease
  };
  State state = State::kNone;
  std::string token;     // kHeld
  uint64_t ticket = 0;   // kHeld, kFound: the guard opened at acquire
  EntryPtr entry;        // kFound
};

class SharedCoordination {
 public:
  virtual ~SharedCoordination() = default;

  // The sink for remote invalidations; set once by the cache before use.
  virtual void set_sink(RemoteInvalidationSink* sink) = 0;

  // Opens a guard for a read (begin_read) or a write (begin_write: the
  // instance's own write of `key`, whose own invalidation message does not
  // count against it, while it makes other open guards of `key` fail).
  virtual uint64_t begin_read(const CacheKey& key) = 0;
  virtual uint64_t begin_write(const CacheKey& key) = 0;
  // Closes a guard: true when nothing invalidated the key (and coherence
  // held) since it was opened. `applied` (writes): whether the write reached
  // the shared store (false: its own message is not waited for).
  virtual bool close(uint64_t ticket, bool applied = true) = 0;

  // Takes `key`'s lease or waits (bounded) for its holder's value. kHeld
  // and kFound come with an open read guard (`ticket`): commit/release
  // close a held one; the caller closes a found one after copying the
  // entry into the faster tiers.
  virtual SharedLease acquire(const CacheKey& key) = 0;
  // Stores `entry` under `key` iff `lease` still holds and the key was not
  // invalidated since acquire(); ends the lease either way. On success,
  // returns an open write guard (as begin_write) for the caller to close
  // once it has copied the entry into the faster tiers.
  // Errors: failed_precondition when the lease was lost or revoked, or the
  // key invalidated (nothing stored); unavailable when the shared store is
  // down (it may or may not have been stored).
  virtual Result<uint64_t> commit(const CacheKey& key, const EntryPtr& entry,
                                  SharedLease& lease) = 0;
  // Gives a held lease up (e.g. the compute failed); no-op otherwise.
  virtual void release(const CacheKey& key, SharedLease& lease) = 0;
};

}  // namespace plancache

// EngineCore: the C++ half of plancache.Engine, without Python: the engine's
// parts (engine_options.h), how a key is made from what a caller gave, and
// the calls in progress, so that close() can wait for them and then close
// the tiers (RocksDB's lock on the directory is released when it returns).
//
// The Python layer (engine_module.cc) holds the GIL only to convert
// arguments and results; every EngineCore method runs with it released.
//
// Thread-safety: fully thread-safe.
#pragma once

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>

#include "plancache/cache.h"
#include "plancache/entry.h"
#include "plancache/status.h"
#include "python/engine_options.h"

namespace plancache::internal {

// Where a caller's key comes from: a plan (goal + canonical context), or a
// caller-chosen key of the generic store (the server's /v1/entries).
struct KeySource {
  std::string_view ns;
  std::string_view text;                    // the goal, or the user key
  std::optional<std::string_view> context;  // JSON text for a plan; nullopt: a user key
};

class EngineCore {
 public:
  // A call in progress: keeps the cache open until it ends. Movable.
  class Call {
   public:
    Call(Call&& other) noexcept;
    Call& operator=(Call&&) = delete;
    Call(const Call&) = delete;
    ~Call();
    Cache& cache() const { return *core_->parts_->cache; }
    const EngineParts& parts() const { return *core_->parts_; }

   private:
    friend class EngineCore;
    explicit Call(EngineCore* core);
    EngineCore* core_;  // null once moved from
  };

  // Errors: as compose_engine().
  static Result<std::unique_ptr<EngineCore>> open(const EngineOptions& options);
  ~EngineCore();  // close()s
  EngineCore(const EngineCore&) = delete;
  EngineCore& operator=(const EngineCore&) = delete;

  // Starts a call. Errors: failed_precondition once closed.
  Result<Call> enter();

  // The CacheKey of `source`. Errors: invalid_argument (a bad namespace,
  // goal, context, or user key: see plancache::validate_user_key).
  static Result<CacheKey> key_of(const Call& call, const KeySource& source);

  // Waits for the calls in progress, then closes the tiers. Idempotent.
  // Errors: failed_precondition when called by a thread that is inside a
  // call of this engine (e.g. from a compute function): it would wait for
  // itself.
  Status close();
  bool closed() const;

 private:
  explicit EngineCore(EngineParts parts);
  void leave();

  mutable std::mutex mu_;         // guards calls_, closed_ and parts_ (the pointer)
  std::condition_variable idle_;  // notified when calls_ drops to 0
  uint64_t calls_ = 0;
  bool closed_ = false;
  std::unique_ptr<EngineParts> parts_;  // null once closed
};

}  // namespace plancache::internal

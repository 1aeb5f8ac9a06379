// EngineCore: calls counted under mu_; close() flips closed_ (no new call
// starts), waits for calls_ to reach 0, then destroys the parts outside the
// lock. A thread-local list of the engines the running thread is inside lets
// close() refuse to wait for its own thread instead of deadlocking.
#include "python/engine_core.h"

#include <algorithm>
#include <utility>
#include <vector>

namespace plancache::internal {
namespace {


// The engines this thread is inside a call of (calls nest: a compute
// function may call its engine again).
thread_local std::vector<const EngineCore*> t_inside;

}  // namespace

EngineCore::Call::Call(EngineCore* core) : core_(core) { t_inside.push_back(core); }

EngineCore::Call::Call(Call&& other) noexcept : core_(std::exchange(other.core_, nullptr)) {}

EngineCore::Call::~Call() {
  if (core_ == nullptr) return;
  auto it = std::find(t_inside.rbegin(), t_inside.rend(), core_);
  if (it != t_inside.rend()) t_inside.erase(std::next(it).base());
  core_->leave();
}

EngineCore::EngineCore(EngineParts parts)
    : parts_(std::make_unique<EngineParts>(std::move(parts))) {}

EngineCore::~EngineCore() { (void)close(); }

Result<std::unique_ptr<EngineCore>> EngineCore::open(const EngineOptions& options) {
  auto parts = compose_engine(options);
  if (!parts.is_ok()) return parts.status();
  return std::unique_ptr<EngineCore>(new EngineCore(std::move(parts).value()));
}

Result<EngineCore::Call> EngineCore::enter() {
  std::lock_guard lock(mu_);
  if (closed_) return Status::failed_precondition("the engine is closed");
  ++calls_;
  return Call(this);
}

void EngineCore::leave() {
  std::lock_guard lock(mu_);
  if (--calls_ == 0) idle_.notify_all();
}

Result<CacheKey> EngineCore::key_of(const Call& call, const KeySource& source) {
  if (source.context) {
    const KeyBuilder& keys = call.parts().keys.of(source.ns);
    auto plan = keys.plan_key(source.ns, source.text, *source.context);
    if (!plan.is_ok()) return plan.status();
    return std::move(plan->key);
  }
  PLANCACHE_RETURN_IF_ERROR(validate_namespace_name(source.ns));
  PLANCACHE_RETURN_IF_ERROR(plancache::validate_user_key(source.text));
  return CacheKey(source.ns, KeyKind::kUser, source.text);
}

Status EngineCore::close() {
  if (std::find(t_inside.begin(), t_inside.end(), this) != t_inside.end()) {
    return Status::failed_precondition(
        "close() called from inside a call of the same engine (a compute function?)");
  }
  std::unique_ptr<EngineParts> parts;
  {
    std::unique_lock lock(mu_);
    closed_ = true;
    idle_.wait(lock, [this] { return calls_ == 0; });
    parts = std::move(parts_);
  }
  parts.reset();  // closes the tiers, with no lock held
  return Status::ok();
}

bool EngineCore::closed() const {
  std::lock_guard lock(mu_);
  return closed_;
}


}  // namespace plancache::internal

#include "cache/single_flight.h"

#include <exception>

namespace plancache::internal {

Result<FlightOutcome> SingleFlight::invoke(const Fn& fn) {
  try {
    return fn();
  } catch (const std::exception& e) {
    return Status::internal(std::string("compute function threw: ") + e.what());
  } catch (...) {
    return Status::internal("compute function threw a non-standard exception");
  }
}

Result<FlightOutcome> SingleFlight::run(const std::string& key, const Fn& fn, bool* coalesced) {
  std::shared_ptr<Call> call;
  bool leader = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto [it, inserted] = calls_.try_emplace(key);
    if (inserted) it->second = std::make_shared<Call>();
    call = it->second;
    leader = inserted;
    if (!leader) ++waiting_;
  }
  *coalesced = !leader;

  if (!leader) {
    std::unique_lock<std::mutex> lock(call->mu);
    call->cv.wait(lock, [&] { return call->done; });
    Result<FlightOutcome> copy = *call->result;
    lock.unlock();
    std::lock_guard<std::mutex> map_lock(mu_);
    --waiting_;
    return copy;
  }

  Result<FlightOutcome> outcome = invoke(fn);  // no lock held: fn is user code
  {
    // Forget the key first: a caller arriving after this starts a new run
    // (and will find the stored entry on its own lookup). Then wake waiters.
    std::lock_guard<std::mutex> lock(mu_);
    calls_.erase(key);
  }
  {
    std::lock_guard<std::mutex> lock(call->mu);
    call->result.emplace(outcome);
    call->done = true;
  }
  call->cv.notify_all();
  return outcome;
}

uint64_t SingleFlight::inflight() const {
  std::lock_guard<std::mutex> lock(mu_);
  return calls_.size();
}

uint64_t SingleFlight::waiting() const {
  std::lock_guard<std::mutex> lock(mu_);
  return waiting_;
}

}  // namespace plancache::internal

// Command planner: one run of `/bin/sh -c <command>` per plan, the request
// document on its stdin, the plan on its stdout (process handling in
// child_process.cc). A counting semaphore bounds the commands running at
// once; a call waiting for a slot does not count against its timeout (the
// timeout bounds the command, and every running command ends by its own
// deadline, so the wait is bounded too).
#include <atomic>
#include <chrono>
#include <exception>
#include <semaphore>

#include "planner/child_process.h"
#include "planner/planner.h"
#include "planner/planner_json.h"

namespace plancache::internal {
namespace {

class CommandPlanner final : public Planner {
 public:
  explicit CommandPlanner(CommandPlannerOptions options)
      : options_(std::move(options)),
        described_("command '" + options_.command + "'"),
        slots_(static_cast<std::ptrdiff_t>(options_.max_concurrent)) {}

  Result<std::string> plan(const PlanRequest& request) override {
    try {
      Slot slot(slots_, cancelled_);
      if (!slot.held()) return planner_cancelled(described_);
      return run(planner_request_body(request));
    } catch (const std::exception& e) {
      return error(std::string("unexpected failure: ") + e.what());
    }
  }

  std::string describe() const override { return described_; }
  bool accepts_incremental() const override { return options_.incremental; }

  void cancel_all() override { cancelled_.store(true, std::memory_order_release); }

 private:
  // Holds one of the max_concurrent slots for its lifetime, unless the
  // planner is cancelled while it waits for one (then !held()).
  class Slot {
   public:
    Slot(std::counting_semaphore<>& slots, const std::atomic<bool>& cancelled) : slots_(slots) {
      while (!cancelled.load(std::memory_order_acquire)) {
        if (slots_.try_acquire_for(std::chrono::milliseconds(100))) {
          held_ = true;
          return;
        }
      }
    }
    ~Slot() {
      if (held_) slots_.release();
    }
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;
    bool held() const { return held_; }

   private:
    std::counting_semaphore<>& slots_;
    bool held_ = false;
  };

  Status error(const std::string& cause) const {
    return Status::bad_gateway(described_ + ": " + cause);
  }

  Result<std::string> run(std::string body) const {
    ChildRun run;
    run.command = options_.command;
    run.input = std::move(body);
    run.deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(options_.timeout_ms);
    run.max_stdout_bytes = options_.max_answer_bytes;
    run.cancelled = &cancelled_;
    Result<ChildResult> ran = run_shell_command(run);
    if (!ran.is_ok()) return error("cannot run: " + ran.status().message());
    const ChildResult& child = *ran;
    switch (child.end) {
      case ChildResult::End::kTimedOut:
        return error("timed out after " + std::to_string(options_.timeout_ms) +
                     " ms (command killed)");
      case ChildResult::End::kOversized:
        return error("answer larger than " + std::to_string(options_.max_answer_bytes) +
                     " bytes (command killed)");
      case ChildResult::End::kCancelled:
        return planner_cancelled(described_);
      case ChildResult::End::kSignaled:
        return error("killed by signal " + std::to_string(child.code) + ": " + excerpt(child.err));
      case ChildResult::End::kExited:
        break;
    }
    if (child.code != 0) {
      return error("exited with code " + std::to_string(child.code) + ": " + excerpt(child.err));
    }
    return normalize_planner_answer(child.out, described_);
  }

  const CommandPlannerOptions options_;
  const std::string described_;
  std::counting_semaphore<> slots_;  // free run slots (max_concurrent in all)
  std::atomic<bool> cancelled_{false};
};

}  // namespace

Result<std::unique_ptr<Planner>> new_command_planner(CommandPlannerOptions options) {
  if (options.command.empty()) {
    return Status::invalid_argument("planner command must not be empty");
  }
  if (options.max_concurrent == 0) {
    return Status::invalid_argument("planner max_concurrent must be at least 1");
  }
  if (options.timeout_ms == 0) {
    return Status::invalid_argument("planner timeout must be at least 1 ms");
  }
  return std::unique_ptr<Planner>(std::make_unique<CommandPlanner>(std::move(options)));
}

}  // namespace plancache::internal

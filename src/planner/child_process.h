// Runs one shell command to completion under a deadline: the command planner's
// process handling, kept apart from its planner logic.
//
// The command runs as /bin/sh -c '<command>' in a process group of its own,
// with the input on its stdin and its stdout and stderr captured. The child
// is always reaped before run_shell_command returns, and nothing of its
// group outlives the call: the group is sent SIGKILL at the deadline, when
// stdout grows past its limit, and also once the shell itself has exited
// (so a background process the command left behind cannot linger). A
// process that leaves the group (setsid) and keeps stdout open makes the call
// wait for EOF until the deadline: it then ends as kTimedOut.
//
// Thread-safety: run_shell_command may be called from several threads at
// once (it blocks SIGPIPE in the calling thread only while it runs).
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

#include "plancache/status.h"

namespace plancache::internal {

struct ChildRun {
  std::string command;                             // REQUIRED: non-empty
  std::string input;                               // written to stdin, then closed
  std::chrono::steady_clock::time_point deadline;  // REQUIRED
  uint64_t max_stdout_bytes = 64ull << 20;         // more → kOversized, group killed
  size_t max_stderr_bytes = 4096;                  // the rest of stderr is read and dropped
  // When set and true, the run ends as kCancelled (group killed) within
  // ~100 ms: the server is stopping. Optional.
  const std::atomic<bool>* cancelled = nullptr;
};

struct ChildResult {
  enum class End {
    kExited,     // `code` is the exit status
    kSignaled,   // `code` is the signal that ended it
    kTimedOut,   // the deadline passed; the group was killed
    kOversized,  // stdout passed max_stdout_bytes; the group was killed
    kCancelled,  // ChildRun::cancelled became true; the group was killed
  };
  End end = End::kExited;
  int code = 0;
  pid_t pid = -1;       // the shell's pid (also its process group id); reaped
  std::string out;      // stdout (possibly partial for kTimedOut / kOversized)
  std::string err;      // the first max_stderr_bytes of stderr
};

// Errors: internal when the process cannot be started or polled (out of
// pipes, fork failure); the message names the failing call.
Result<ChildResult> run_shell_command(const ChildRun& run);

}  // namespace plancache::internal

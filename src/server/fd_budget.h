// The file-descriptor budget of a server: how many connections the process's
// open-file limit can really hold.
//
// With the common soft limit of 1,024 and the default max_connections of
// 1,000, the disk tier, planner pipes and the process's own descriptors
// leave fewer than 1,000 for sockets: accept() then fails with EMFILE and
// clients wait unanswered in the listen backlog. So at start the soft limit
// is raised towards the hard one, a reserve is kept for everything that is
// not a client socket, and the connection cap is lowered to what is left
// (and said so), so that the 503 for "too many connections" can always be
// answered.
//
// Thread-safety: call once at start, before threads exist (setrlimit).
#pragma once

#include <cstdint>
#include <string>

#include "plancache/status.h"

namespace plancache::internal {

struct FdBudget {
  uint64_t soft_limit_before = 0;  // RLIMIT_NOFILE soft limit at start
  uint64_t soft_limit = 0;         // after raising it towards the hard limit
  uint64_t hard_limit = 0;
  uint64_t in_use = 0;           // descriptors open when the budget was made
  uint64_t reserved = 0;         // kept for the disk tier, planners, 503 answers
  uint32_t max_connections = 0;  // the cap to use
  bool lowered = false;          // max_connections is below the one asked for

  // One line for the start-up log.
  std::string describe(uint32_t wanted_connections) const;
};

// Descriptors a server keeps out of the connection budget: the disk tier's
// table files and logs (`disk_open_files`, 0 without a disk tier), the
// planner's sockets or pipes (`planner_slots` calls at once, 0 without a
// planner) and a margin for connections answered 503 above the cap.
uint64_t fd_reserve(uint64_t disk_open_files, uint64_t planner_slots);

// Raises the soft open-file limit to the hard one (capped at
// /proc/sys/fs/nr_open), then sizes the connection cap: at most
// `wanted_connections`, and no more than soft limit - in use - `reserve`.
// Errors: unavailable when the limit leaves no descriptor for a connection.
Result<FdBudget> plan_fd_budget(uint32_t wanted_connections, uint64_t reserve);

}  // namespace plancache::internal

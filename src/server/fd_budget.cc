#include "server/fd_budget.h"

#include <sys/resource.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

namespace plancache::internal {
namespace {

// Connections answered 503 above the cap each hold a descriptor until the
// answer is written (at most ~1 s of lingering): this many at once fit.
constexpr uint64_t kOverflowAnswers = 64;
// Log files, the resolver, /proc reads, the listener's spare descriptor.
constexpr uint64_t kMisc = 16;
// Per concurrent planner call: an HTTP socket, or a command's three pipes
// (both ends while it forks).
constexpr uint64_t kPerPlannerCall = 6;
// RocksDB's descriptors besides table files: WAL, MANIFEST, LOG, LOCK,
// CURRENT, files being written by a flush or compaction.
constexpr uint64_t kDiskFixed = 16;

uint64_t open_descriptors() {
  std::error_code ec;
  uint64_t n = 0;
  for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end;
       it.increment(ec)) {
    ++n;
  }
  return n == 0 ? 0 : n - 1;  // the directory's own descriptor
}

uint64_t nr_open() {
  std::ifstream in("/proc/sys/fs/nr_open");
  uint64_t n = 0;
  return in >> n ? n : 1u << 20;
}

}  // namespace

uint64_t fd_reserve(uint64_t disk_open_files, uint64_t planner_slots) {
  const uint64_t disk = disk_open_files == 0 ? 0 : disk_open_files + kDiskFixed;
  return disk + planner_slots * kPerPlannerCall + kOverflowAnswers + kMisc;
}

Result<FdBudget> plan_fd_budget(uint32_t wanted_connections, uint64_t reserve) {
  FdBudget b;
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) {
    return Status::unavailable("cannot read the open-file limit (getrlimit)");
  }
  b.soft_limit_before = limit.rlim_cur;
  b.hard_limit = limit.rlim_max;
  const rlim_t target = std::min<rlim_t>(limit.rlim_max, nr_open());
  if (limit.rlim_cur < target) {
    rlimit raised = limit;
    raised.rlim_cur = target;
    if (setrlimit(RLIMIT_NOFILE, &raised) == 0) limit = raised;
  }
  b.soft_limit = limit.rlim_cur;
  b.in_use = open_descriptors();
  b.reserved = reserve;
  const uint64_t used = b.in_use + reserve;
  if (b.soft_limit <= used) {
    return Status::unavailable(
        "the open-file limit (" + std::to_string(b.soft_limit) + ", hard " +
        std::to_string(b.hard_limit) + ") leaves no descriptor for a connection: " +
        std::to_string(b.in_use) + " are open and " + std::to_string(reserve) +
        " are kept for the disk tier, planners and 503 answers; raise it (ulimit -n)");
  }
  const uint64_t room = b.soft_limit - used;
  b.max_connections = static_cast<uint32_t>(std::min<uint64_t>(wanted_connections, room));
  b.lowered = b.max_connections < wanted_connections;
  return b;
}

std::string FdBudget::describe(uint32_t wanted_connections) const {
  std::string out = "open-file limit " + std::to_string(soft_limit);
  if (soft_limit != soft_limit_before) {
    out += " (raised from " + std::to_string(soft_limit_before) + ")";
  }
  out += ", hard " + std::to_string(hard_limit) + "; ";
  if (lowered) {
    out += "max_connections lowered from " + std::to_string(wanted_connections) + " to " +
           std::to_string(max_connections);
  } else {
    out += "max_connections " + std::to_string(max_connections);
  }
  out += " (" + std::to_string(in_use) + " descriptors open, " + std::to_string(reserved) +
         " kept for the disk tier, planners and 503 answers)";
  return out;
}

}  // namespace plancache::internal

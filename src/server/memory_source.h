// MemorySource: how much memory the server uses and may use, read from the
// kernel for the memory-pressure watchdog (memory_watchdog.h).
//
// Three sources:
//   cgroup-v2  the process's cgroup (unified hierarchy): memory.current
//              minus inactive_file (memory.stat) against the smallest
//              memory.max / memory.high of the group and its ancestors;
//   cgroup-v1  the memory controller's group: memory.usage_in_bytes minus
//              total_inactive_file against memory.limit_in_bytes (and the
//              hierarchical_memory_limit of memory.stat);
//   meminfo    the process's resident set (VmRSS, /proc/self/status)
//              against what it could reach: RSS + MemAvailable
//              (/proc/meminfo).
// Inactive file pages are left out of the cgroup figures (the "working
// set", as the kubelet counts it): the kernel reclaims them before it
// OOM-kills, so they are not pressure. --memory-budget, when set, caps the
// limit of every source.
//
// Every file is read under a root directory ("/" in production), so tests
// point a source at a temporary tree of fake /proc and cgroup files.
//
// Thread-safety: read() may be called from any thread (it only reads files);
// a source is immutable after it is opened.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "plancache/status.h"

namespace plancache::internal {

// One reading; limit_bytes 0 = no limit (a cgroup without one), ratio 0.
struct MemoryReading {
  uint64_t used_bytes = 0;
  uint64_t limit_bytes = 0;
  double ratio() const {
    if (limit_bytes == 0) return 0.0;
    return static_cast<double>(used_bytes) / static_cast<double>(limit_bytes);
  }
};

class MemorySource {
 public:
  virtual ~MemorySource() = default;
  // "cgroup-v2", "cgroup-v1" or "meminfo".
  virtual std::string_view name() const = 0;
  // Where it reads: the cgroup directory, or "/proc".
  virtual const std::string& path() const = 0;
  // Errors: unavailable when a file cannot be read or parsed (named).
  virtual Result<MemoryReading> read() const = 0;
};

// --memory-source: auto (a cgroup with a limit, else meminfo), one of the
// three by name, or off.
enum class MemorySourceKind { kAuto, kCgroupV2, kCgroupV1, kMeminfo, kOff };
// Errors: invalid_argument naming the five names.
Result<MemorySourceKind> parse_memory_source_kind(std::string_view name);

// Opens the source of `kind`, reading every file under the prefix `root`
// ("" = the real /proc and /sys), its limit capped by `budget` (0 = none).
// kAuto takes the process's v2 cgroup if that has a limit of its own, else
// its v1 memory cgroup if that has one, else meminfo (so without a cgroup
// limit, a budget means the RSS against it).
// REQUIRES: kind != kOff.
// Errors: not_found when the process is in no such cgroup (cgroup kinds);
// failed_precondition when that cgroup has no limit and there is no budget;
// unavailable when a file cannot be read.
Result<std::unique_ptr<MemorySource>> open_memory_source(MemorySourceKind kind,
                                                         const std::string& root, uint64_t budget);

// --- parsers, exposed for tests --------------------------------------------

// The cgroup path of the process in /proc/self/cgroup text: the v2 line
// ("0::/path") for `controller` "", else the v1 line whose controller list
// names it ("4:memory:/path"). Errors: not_found.
Result<std::string> cgroup_path_of(std::string_view proc_self_cgroup, std::string_view controller);
// A limit file's value: a byte count, or "max" (v2) / anything from 2^62
// (v1's "unlimited" is 9223372036854771712) = 0, no limit.
// Errors: invalid_argument.
Result<uint64_t> parse_limit(std::string_view text);
// The value of `key` in "key value" (memory.stat) or "Key: value kB"
// (/proc/meminfo, /proc/self/status) lines; the unit "kB" is applied.
// Errors: not_found when the key is absent; invalid_argument when malformed.
Result<uint64_t> parse_keyed_bytes(std::string_view text, std::string_view key);

}  // namespace plancache::internal

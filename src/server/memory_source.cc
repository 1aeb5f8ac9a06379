// The three memory sources and their file parsers (memory_source.h).
//
// Where the files are. /proc/self/cgroup names the process's group: the v2
// line "0::/path", a v1 line "N:controller,...:/path". The group's directory
// is the mount point plus that path; inside a container with its own cgroup
// namespace the path is "/" and the mount root is the group, and when the
// path is not visible under the mount (a bind-mounted subtree), the mount
// root is taken. Mount points are the standard ones (/sys/fs/cgroup for v2,
// /sys/fs/cgroup/memory for v1); a hybrid host, whose v2 hierarchy has no
// memory controller, has no memory.current there and falls to v1.
//
// Limits are read on every reading, not once: an operator may change them
// while the server runs.
#include "server/memory_source.h"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace plancache::internal {
namespace {

constexpr uint64_t kUnlimitedFrom = 1ull << 62;  // v1 reports ~2^63 - 4096 for "none"

Result<std::string> read_text(const std::string& path) {
  std::ifstream in(path);
  if (!in) return Status::unavailable("cannot read " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

Result<uint64_t> parse_u64(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  uint64_t n = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (text.empty() || ec != std::errc() || ptr != text.data() + text.size()) {
    return Status::invalid_argument("expected a byte count, got '" + std::string(text) + "'");
  }
  return n;
}

// A file's value, with the file named in the error.
template <typename Parse>
Result<uint64_t> read_value(const std::string& path, Parse&& parse) {
  auto text = read_text(path);
  if (!text.is_ok()) return text.status();
  auto n = parse(*text);
  if (!n.is_ok()) return Status::unavailable(path + ": " + n.status().message());
  return n;
}

bool exists(const std::string& path) {
  std::error_code ec;
  return std::filesystem::exists(path, ec);
}

// Whether the comma-separated `list` names `controller` (whole names only).
bool names_controller(std::string_view list, std::string_view controller) {
  for (;;) {
    const size_t comma = list.find(',');
    if (list.substr(0, comma) == controller) return true;
    if (comma == std::string_view::npos) return false;
    list.remove_prefix(comma + 1);
  }
}

// min over the non-zero limits; 0 when both are 0 (no limit).
uint64_t tighter(uint64_t a, uint64_t b) {
  if (a == 0) return b;
  if (b == 0) return a;
  return std::min(a, b);
}

// The group's directory: mount + path when it exists with `probe`, else the
// mount root when that has it. Errors: not_found.
Result<std::string> group_dir(const std::string& mount, const std::string& path,
                              std::string_view probe, std::string_view what) {
  const std::string dir = mount + (path == "/" ? "" : path);
  if (exists(dir + "/" + std::string(probe))) return dir;
  if (exists(mount + "/" + std::string(probe))) return mount;
  return Status::not_found("no " + std::string(what) + " memory controller at " + mount);
}

// `used` less the reclaimable inactive file pages, never below 0.
uint64_t working_set(uint64_t used, const Result<uint64_t>& inactive_file) {
  const uint64_t inactive = inactive_file.is_ok() ? *inactive_file : 0;
  return used > inactive ? used - inactive : 0;
}

MemoryReading capped(uint64_t used, uint64_t limit, uint64_t budget) {
  return MemoryReading{.used_bytes = used, .limit_bytes = tighter(limit, budget)};
}

class CgroupV2Source final : public MemorySource {
 public:
  CgroupV2Source(std::string mount, std::string dir, uint64_t budget)
      : mount_(std::move(mount)), dir_(std::move(dir)), budget_(budget) {}
  std::string_view name() const override { return "cgroup-v2"; }
  const std::string& path() const override { return dir_; }

  // The smallest memory.max / memory.high of the group and its ancestors
  // up to the mount root (0 = none).
  Result<uint64_t> limit() const {
    uint64_t limit = 0;
    for (std::string dir = dir_;; dir = dir.substr(0, dir.rfind('/'))) {
      for (const char* file : {"/memory.max", "/memory.high"}) {
        if (!exists(dir + file)) continue;
        auto n = read_value(dir + file, parse_limit);
        if (!n.is_ok()) return n.status();
        limit = tighter(limit, *n);
      }
      if (dir.size() <= mount_.size()) break;
    }
    return limit;
  }

  Result<MemoryReading> read() const override {
    auto current = read_value(dir_ + "/memory.current", parse_u64);
    if (!current.is_ok()) return current.status();
    auto lim = limit();
    if (!lim.is_ok()) return lim.status();
    auto stat = read_text(dir_ + "/memory.stat");
    const Result<uint64_t> inactive =
        stat.is_ok() ? parse_keyed_bytes(*stat, "inactive_file") : Result<uint64_t>(stat.status());
    return capped(working_set(*current, inactive), *lim, budget_);
  }

 private:
  const std::string mount_;
  const std::string dir_;
  const uint64_t budget_;
};

class CgroupV1Source final : public MemorySource {
 public:
  CgroupV1Source(std::string dir, uint64_t budget) : dir_(std::move(dir)), budget_(budget) {}
  std::string_view name() const override { return "cgroup-v1"; }
  const std::string& path() const override { return dir_; }

  Result<MemoryReading> read() const override {
    auto usage = read_value(dir_ + "/memory.usage_in_bytes", parse_u64);
    if (!usage.is_ok()) return usage.status();
    auto limit = read_value(dir_ + "/memory.limit_in_bytes", parse_limit);
    if (!limit.is_ok()) return limit.status();
    uint64_t lim = *limit;
    Result<uint64_t> inactive = Status::not_found("no memory.stat");
    if (auto stat = read_text(dir_ + "/memory.stat"); stat.is_ok()) {
      if (auto h = parse_keyed_bytes(*stat, "hierarchical_memory_limit"); h.is_ok()) {
        lim = tighter(lim, *h >= kUnlimitedFrom ? 0 : *h);
      }
      inactive = parse_keyed_bytes(*stat, "total_inactive_file");
      if (!inactive.is_ok()) inactive = parse_keyed_bytes(*stat, "inactive_file");
    }
    return capped(working_set(*usage, inactive), lim, budget_);
  }

 private:
  const std::string dir_;
  const uint64_t budget_;
};

class MeminfoSource final : public MemorySource {
 public:
  MeminfoSource(std::string proc, uint64_t budget) : proc_(std::move(proc)), budget_(budget) {}
  std::string_view name() const override { return "meminfo"; }
  const std::string& path() const override { return proc_; }

  Result<MemoryReading> read() const override {
    auto rss = read_value(proc_ + "/self/status",
                          [](std::string_view t) { return parse_keyed_bytes(t, "VmRSS"); });
    if (!rss.is_ok()) return rss.status();
    auto available = read_value(proc_ + "/meminfo", [](std::string_view t) {
      return parse_keyed_bytes(t, "MemAvailable");
    });
    if (!available.is_ok()) return available.status();
    return capped(*rss, *rss + *available, budget_);
  }

 private:
  const std::string proc_;
  const uint64_t budget_;
};

Result<std::unique_ptr<MemorySource>> open_v2(const std::string& root, const std::string& cgroups,
                                              uint64_t budget) {
  auto path = cgroup_path_of(cgroups, "");
  if (!path.is_ok()) return path.status();
  const std::string mount = root + "/sys/fs/cgroup";
  auto dir = group_dir(mount, *path, "memory.current", "cgroup v2");
  if (!dir.is_ok()) return dir.status();
  return std::unique_ptr<MemorySource>(std::make_unique<CgroupV2Source>(mount, *dir, budget));
}

Result<std::unique_ptr<MemorySource>> open_v1(const std::string& root, const std::string& cgroups,
                                              uint64_t budget) {
  auto path = cgroup_path_of(cgroups, "memory");
  if (!path.is_ok()) return path.status();
  auto dir = group_dir(root + "/sys/fs/cgroup/memory", *path, "memory.usage_in_bytes", "cgroup v1");
  if (!dir.is_ok()) return dir.status();
  return std::unique_ptr<MemorySource>(std::make_unique<CgroupV1Source>(*dir, budget));
}

using Opener = Result<std::unique_ptr<MemorySource>> (*)(const std::string& root,
                                                         const std::string& cgroups,
                                                         uint64_t budget);

// Whether the group `open` finds has a limit of its own (read without the
// budget, which would hide that).
bool has_own_limit(Opener open, const std::string& root, const std::string& cgroups) {
  auto source = open(root, cgroups, 0);
  if (!source.is_ok()) return false;
  auto reading = (*source)->read();
  return reading.is_ok() && reading->limit_bytes != 0;
}

}  // namespace

Result<MemorySourceKind> parse_memory_source_kind(std::string_view name) {
  if (name == "auto") return MemorySourceKind::kAuto;
  if (name == "cgroup-v2") return MemorySourceKind::kCgroupV2;
  if (name == "cgroup-v1") return MemorySourceKind::kCgroupV1;
  if (name == "meminfo") return MemorySourceKind::kMeminfo;
  if (name == "off") return MemorySourceKind::kOff;
  return Status::invalid_argument("unknown memory source '" + std::string(name) +
                                  "' (expected auto, cgroup-v2, cgroup-v1, meminfo or off)");
}

Result<std::string> cgroup_path_of(std::string_view text, std::string_view controller) {
  while (!text.empty()) {
    const size_t end = std::min(text.find('\n'), text.size());
    const std::string_view line = text.substr(0, end);
    text.remove_prefix(std::min(end + 1, text.size()));
    // hierarchy-id ":" controller-list ":" path
    const size_t first = line.find(':');
    const size_t second = first == std::string_view::npos ? first : line.find(':', first + 1);
    if (second == std::string_view::npos) continue;
    const std::string_view controllers = line.substr(first + 1, second - first - 1);
    const bool match = controller.empty() ? line.substr(0, first) == "0" && controllers.empty()
                                          : names_controller(controllers, controller);
    if (match) return std::string(line.substr(second + 1));
  }
  return Status::not_found(controller.empty() ? std::string("no cgroup v2 line")
                                              : "no cgroup line for " + std::string(controller));
}

Result<uint64_t> parse_limit(std::string_view text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ')) text.remove_suffix(1);
  if (text == "max") return uint64_t{0};
  auto n = parse_u64(text);
  if (!n.is_ok()) return n.status();
  return *n >= kUnlimitedFrom ? 0 : *n;
}

Result<uint64_t> parse_keyed_bytes(std::string_view text, std::string_view key) {
  while (!text.empty()) {
    const size_t end = std::min(text.find('\n'), text.size());
    std::string_view line = text.substr(0, end);
    text.remove_prefix(std::min(end + 1, text.size()));
    if (!line.starts_with(key) || line.size() == key.size()) continue;
    line.remove_prefix(key.size());
    const bool colon = line.front() == ':';
    if (colon) line.remove_prefix(1);
    if (!colon && line.front() != ' ' && line.front() != '\t') continue;  // a longer key
    line.remove_prefix(std::min(line.find_first_not_of(" \t"), line.size()));
    const bool kb = line.ends_with(" kB");
    if (kb) line.remove_suffix(3);
    auto n = parse_u64(line);
    if (!n.is_ok()) return Status::invalid_argument(std::string(key) + ": " + n.status().message());
    return kb ? *n * 1024 : *n;
  }
  return Status::not_found("no " + std::string(key));
}

Result<std::unique_ptr<MemorySource>> open_memory_source(MemorySourceKind kind,
                                                         const std::string& root, uint64_t budget) {
  auto meminfo = [&] {
    return std::unique_ptr<MemorySource>(std::make_unique<MeminfoSource>(root + "/proc", budget));
  };
  if (kind == MemorySourceKind::kMeminfo) return meminfo();
  auto cgroups = read_text(root + "/proc/self/cgroup");
  if (!cgroups.is_ok()) {
    if (kind == MemorySourceKind::kAuto) return meminfo();
    return cgroups.status();
  }
  if (kind == MemorySourceKind::kAuto) {
    if (has_own_limit(&open_v2, root, *cgroups)) return open_v2(root, *cgroups, budget);
    if (has_own_limit(&open_v1, root, *cgroups)) return open_v1(root, *cgroups, budget);
    return meminfo();
  }
  const Opener open = kind == MemorySourceKind::kCgroupV2 ? &open_v2 : &open_v1;
  auto source = open(root, *cgroups, budget);
  if (!source.is_ok()) return source.status();
  auto reading = (*source)->read();
  if (!reading.is_ok()) return reading.status();
  if (reading->limit_bytes == 0) {
    return Status::failed_precondition("cgroup " + (*source)->path() +
                                       " has no memory limit: set one, or --memory-budget");
  }
  return source;
}

}  // namespace plancache::internal

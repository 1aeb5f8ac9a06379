// The memory sources of the pressure watchdog (server/memory_source.h), read
// from a temporary tree of fake /proc and cgroup files: the parsers, each
// source's figures, and which source `auto` picks.
#include "server/memory_source.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

namespace plancache::internal {
namespace {

namespace fs = std::filesystem;

constexpr uint64_t kMiB = 1ull << 20;

class FakeRoot : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() /
            ("plancache-memsrc-" + std::to_string(::getpid()) + "-" +
             ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    fs::create_directories(root_);
  }
  void TearDown() override { fs::remove_all(root_); }

  void write(const std::string& path, const std::string& text) {
    const fs::path full = root_ / path;
    fs::create_directories(full.parent_path());
    std::ofstream(full) << text;
  }
  // A v1 memory group `group` with usage, limit and memory.stat.
  void v1_group(const std::string& group, uint64_t usage, const std::string& limit,
                const std::string& stat) {
    const std::string dir = "sys/fs/cgroup/memory" + group;
    write(dir + "/memory.usage_in_bytes", std::to_string(usage) + "\n");
    write(dir + "/memory.limit_in_bytes", limit + "\n");
    write(dir + "/memory.stat", stat);
  }
  void meminfo(uint64_t rss_kb, uint64_t available_kb) {
    write("proc/self/status", "Name:\tplancache\nVmPeak:\t  999999 kB\nVmRSS:\t  " +
                                  std::to_string(rss_kb) + " kB\nThreads:\t4\n");
    write("proc/meminfo", "MemTotal:       24683584 kB\nMemFree:        1 kB\nMemAvailable:   " +
                              std::to_string(available_kb) + " kB\n");
  }
  Result<std::unique_ptr<MemorySource>> open(MemorySourceKind kind, uint64_t budget = 0) {
    return open_memory_source(kind, root_.string(), budget);
  }
  fs::path root_;
};

const char kHybridCgroups[] =
    "9:name=systemd:/\n8:pids:/\n4:cpu,memory:/plancache-test-1\n1:cpu:/\n0::/\n";
const char kV1Unlimited[] = "9223372036854771712";

TEST(MemorySourceParsers, FindTheCgroupPathOfTheProcess) {
  EXPECT_EQ(*cgroup_path_of("0::/user.slice/app.service\n", ""), "/user.slice/app.service");
  EXPECT_EQ(*cgroup_path_of(kHybridCgroups, "memory"), "/plancache-test-1");
  EXPECT_EQ(*cgroup_path_of(kHybridCgroups, ""), "/");
  EXPECT_EQ(*cgroup_path_of("5:memory:/a/b", "memory"), "/a/b") << "no final newline";
  EXPECT_EQ(cgroup_path_of("4:cpu:/x\n4:memoryx:/y\n", "memory").status().code(),
            StatusCode::kNotFound)
      << "a controller name is matched whole";
  EXPECT_EQ(cgroup_path_of("garbage\n", "").status().code(), StatusCode::kNotFound);
}

TEST(MemorySourceParsers, ReadLimitsAndKeyedValues) {
  EXPECT_EQ(*parse_limit("max\n"), 0u);
  EXPECT_EQ(*parse_limit("268435456\n"), 256 * kMiB);
  EXPECT_EQ(*parse_limit(kV1Unlimited), 0u) << "v1's 'no limit'";
  EXPECT_EQ(parse_limit("12ab").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(parse_limit("").status().code(), StatusCode::kInvalidArgument);

  const std::string stat =
      "cache 10\ninactive_file_x 7\ninactive_file 4096\ntotal_inactive_file 8192\n";
  EXPECT_EQ(*parse_keyed_bytes(stat, "inactive_file"), 4096u) << "not inactive_file_x";
  EXPECT_EQ(*parse_keyed_bytes(stat, "total_inactive_file"), 8192u);
  EXPECT_EQ(parse_keyed_bytes(stat, "active_file").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(*parse_keyed_bytes("MemAvailable:   1000 kB\n", "MemAvailable"), 1000u * 1024);
  EXPECT_EQ(*parse_keyed_bytes("VmRSS:\t  12 kB\n", "VmRSS"), 12u * 1024);
  EXPECT_EQ(parse_keyed_bytes("VmRSS: lots kB\n", "VmRSS").status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(parse_keyed_bytes("VmRSS:", "VmRSS").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(parse_keyed_bytes("VmRSSx: 5\nVmRSS:7\n", "VmRSS").value(), 7u);
}

TEST(MemorySourceParsers, NameTheKinds) {
  EXPECT_EQ(*parse_memory_source_kind("cgroup-v1"), MemorySourceKind::kCgroupV1);
  EXPECT_EQ(*parse_memory_source_kind("off"), MemorySourceKind::kOff);
  const Status bad = parse_memory_source_kind("cgroup").status();
  EXPECT_NE(bad.message().find("auto, cgroup-v2, cgroup-v1, meminfo or off"), std::string::npos);
}

TEST_F(FakeRoot, CgroupV2TakesTheTightestLimitUpToTheRootAndLeavesOutInactiveFiles) {
  write("proc/self/cgroup", "0::/app/worker\n");
  write("sys/fs/cgroup/app/memory.max", "1073741824\n");
  write("sys/fs/cgroup/app/worker/memory.max", "max\n");
  write("sys/fs/cgroup/app/worker/memory.high", std::to_string(800 * kMiB) + "\n");
  write("sys/fs/cgroup/app/worker/memory.current", std::to_string(300 * kMiB) + "\n");
  write("sys/fs/cgroup/app/worker/memory.stat",
        "anon 1\nfile 2\ninactive_file " + std::to_string(100 * kMiB) + "\n");
  auto source = open(MemorySourceKind::kAuto);
  ASSERT_TRUE(source.is_ok()) << source.status().to_string();
  EXPECT_EQ((*source)->name(), "cgroup-v2");
  EXPECT_EQ((*source)->path(), (root_ / "sys/fs/cgroup/app/worker").string());
  auto r = (*source)->read();
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(r->used_bytes, 200 * kMiB);
  EXPECT_EQ(r->limit_bytes, 800 * kMiB);
  EXPECT_DOUBLE_EQ(r->ratio(), 0.25);

  auto budgeted = open(MemorySourceKind::kAuto, 500 * kMiB);
  EXPECT_EQ((*budgeted)->read()->limit_bytes, 500 * kMiB) << "the budget caps the limit";
}

TEST_F(FakeRoot, CgroupV2InsideAContainerFallsBackToTheMountRoot) {
  write("proc/self/cgroup", "0::/../host/view\n");
  write("sys/fs/cgroup/memory.max", "536870912\n");
  write("sys/fs/cgroup/memory.current", "1000\n");
  auto source = open(MemorySourceKind::kCgroupV2);
  ASSERT_TRUE(source.is_ok()) << source.status().to_string();
  EXPECT_EQ((*source)->path(), (root_ / "sys/fs/cgroup").string());
  EXPECT_EQ((*source)->read()->limit_bytes, 512 * kMiB);
  EXPECT_EQ((*source)->read()->used_bytes, 1000u) << "no memory.stat: nothing subtracted";
}

TEST_F(FakeRoot, CgroupV1OnAHybridHostWithItsHierarchicalLimit) {
  write("proc/self/cgroup", kHybridCgroups);
  v1_group("/plancache-test-1", 200 * kMiB, std::to_string(256 * kMiB),
           "rss 1\nhierarchical_memory_limit " + std::to_string(128 * kMiB) +
               "\ninactive_file 1\ntotal_inactive_file " + std::to_string(50 * kMiB) + "\n");
  auto source = open(MemorySourceKind::kAuto);
  ASSERT_TRUE(source.is_ok()) << source.status().to_string();
  EXPECT_EQ((*source)->name(), "cgroup-v1") << "the v2 hierarchy has no memory controller";
  auto r = (*source)->read();
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(r->used_bytes, 150 * kMiB);
  EXPECT_EQ(r->limit_bytes, 128 * kMiB) << "a parent's limit is tighter";
}

TEST_F(FakeRoot, AutoWithoutACgroupLimitReadsRssAgainstMemAvailable) {
  write("proc/self/cgroup", kHybridCgroups);
  v1_group("/plancache-test-1", 200 * kMiB, kV1Unlimited,
           std::string("hierarchical_memory_limit ") + kV1Unlimited + "\n");
  meminfo(100 * 1024, 300 * 1024);
  auto source = open(MemorySourceKind::kAuto);
  ASSERT_TRUE(source.is_ok()) << source.status().to_string();
  EXPECT_EQ((*source)->name(), "meminfo");
  auto r = (*source)->read();
  ASSERT_TRUE(r.is_ok()) << r.status().to_string();
  EXPECT_EQ(r->used_bytes, 100 * kMiB);
  EXPECT_EQ(r->limit_bytes, 400 * kMiB) << "what the process could reach";

  auto budgeted = open(MemorySourceKind::kAuto, 200 * kMiB);
  EXPECT_EQ((*budgeted)->name(), "meminfo") << "a budget does not make the cgroup's limit";
  EXPECT_EQ((*budgeted)->read()->limit_bytes, 200 * kMiB);
}

TEST_F(FakeRoot, AnExplicitCgroupNeedsALimitOrABudget) {
  write("proc/self/cgroup", kHybridCgroups);
  v1_group("/plancache-test-1", 200 * kMiB, kV1Unlimited, "");
  auto none = open(MemorySourceKind::kCgroupV1);
  EXPECT_EQ(none.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(none.status().message().find("has no memory limit"), std::string::npos);
  auto budgeted = open(MemorySourceKind::kCgroupV1, 300 * kMiB);
  ASSERT_TRUE(budgeted.is_ok()) << budgeted.status().to_string();
  EXPECT_EQ((*budgeted)->read()->limit_bytes, 300 * kMiB);
  EXPECT_EQ((*budgeted)->read()->used_bytes, 200 * kMiB);
  EXPECT_EQ(open(MemorySourceKind::kCgroupV2).status().code(), StatusCode::kNotFound);
}

TEST_F(FakeRoot, NoProcFilesIsAnErrorNamingTheFile) {
  auto source = open(MemorySourceKind::kAuto);
  ASSERT_TRUE(source.is_ok()) << "auto without /proc/self/cgroup: meminfo";
  auto r = (*source)->read();
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(r.status().message().find("proc/self/status"), std::string::npos)
      << r.status().to_string();
  EXPECT_EQ(open(MemorySourceKind::kCgroupV1).status().code(), StatusCode::kUnavailable);

  write("proc/self/status", "VmRSS: many kB\n");
  write("proc/meminfo", "MemAvailable: 1 kB\n");
  r = (*source)->read();
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(r.status().message().find("VmRSS"), std::string::npos) << r.status().to_string();
}

}  // namespace
}  // namespace plancache::internal

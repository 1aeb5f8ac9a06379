// Crash safety at tier level (issue 3 item 6): a child process writes with
// sync_writes = true and reports each acknowledged key on a pipe; the parent
// kill -9s it mid-storm, reopens the store and checks that it opens, that
// every acknowledged write is there with its exact content, and that nothing
// served is corrupt. While the child runs, the parent checks that a second
// process cannot open the store (RocksDB's LOCK).
//
// The child is this same test binary, started with fork() + execve() and a
// gtest filter selecting DiskTierCrashChild.WritesUntilKilled (a plain fork
// would inherit RocksDB's background thread pool without its threads).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <set>
#include <string>
#include <vector>

#include "disk_test_util.h"

extern char** environ;

namespace plancache::testing {
namespace {

constexpr const char* kDirEnv = "PLANCACHE_DISK_CRASH_DIR";
constexpr const char* kFdEnv = "PLANCACHE_DISK_CRASH_FD";
constexpr int kAcksBeforeKill = 200;

CacheKey crash_key(uint64_t i) { return user_key("crash", "k" + std::to_string(i)); }

// Deterministic content of write i: sizes from tiny to 40 KB (zstd kicks in
// above 4 KB), so a torn write would show as a wrong or corrupt value.
std::string crash_value(uint64_t i) {
  std::string pad;
  const size_t n = (i * 7919) % 40'000;
  pad.reserve(n);
  for (size_t j = 0; j < n; ++j) pad.push_back(static_cast<char>('a' + (i + j / 7) % 26));
  return "{\"i\":" + std::to_string(i) + ",\"pad\":\"" + pad + "\"}";
}

// The child: runs only when started by the parent test below.
TEST(DiskTierCrashChild, WritesUntilKilled) {
  const char* dir = std::getenv(kDirEnv);
  const char* fd_text = std::getenv(kFdEnv);
  if (dir == nullptr || fd_text == nullptr) GTEST_SKIP() << "child of DiskTierCrash only";
  const int fd = std::atoi(fd_text);
  DiskTierOptions o;
  o.path = dir;
  o.sync_writes = true;
  o.max_bytes = 0;
  auto tier = new_disk_tier(o);
  ASSERT_TRUE(tier.is_ok()) << tier.status().to_string();
  for (uint64_t i = 0; i < 1'000'000; ++i) {
    ASSERT_TRUE((*tier)->put(crash_key(i), make_entry(bytes(crash_value(i)), 1, 0)).is_ok());
    const std::string ack = std::to_string(i) + "\n";  // one write(): atomic on a pipe
    ASSERT_EQ(write(fd, ack.data(), ack.size()), static_cast<ssize_t>(ack.size()));
  }
  _exit(0);
}

// Reads "i\n" lines from `fd` until `want` acks arrived, EOF, or the deadline.
void read_acks(int fd, size_t want, std::string* buffer, std::set<uint64_t>* acks) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (want == 0 || acks->size() < want) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return;
    pollfd p{.fd = fd, .events = POLLIN, .revents = 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) return;
    char chunk[4096];
    const ssize_t n = read(fd, chunk, sizeof chunk);
    if (n <= 0) return;  // EOF: the child is gone
    buffer->append(chunk, static_cast<size_t>(n));
    size_t nl;
    while ((nl = buffer->find('\n')) != std::string::npos) {
      acks->insert(std::stoull(buffer->substr(0, nl)));
      buffer->erase(0, nl + 1);
    }
  }
}

TEST(DiskTierCrash, KillNineDuringWritesLosesNoAcknowledgedWrite) {
  TempDir dir;
  const std::string store = dir.file("store");
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  // Everything the child needs is prepared before fork(): after it, only
  // async-signal-safe calls until execve().
  std::vector<std::string> env_strings;
  for (char** e = environ; *e != nullptr; ++e) env_strings.emplace_back(*e);
  env_strings.push_back(std::string(kDirEnv) + "=" + store);
  env_strings.push_back(std::string(kFdEnv) + "=" + std::to_string(fds[1]));
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::string arg0 = "disk_tier_tests";
  std::string filter = "--gtest_filter=DiskTierCrashChild.WritesUntilKilled";
  char* argv[] = {arg0.data(), filter.data(), nullptr};
  const int devnull = open("/dev/null", O_WRONLY);
  ASSERT_GE(devnull, 0);

  const pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    close(fds[0]);
    dup2(devnull, STDOUT_FILENO);
    execve("/proc/self/exe", argv, envp.data());
    _exit(127);
  }
  close(fds[1]);
  close(devnull);
  std::string buffer;
  std::set<uint64_t> acks;
  read_acks(fds[0], kAcksBeforeKill, &buffer, &acks);
  {
    // While the child holds the store, another process cannot open it.
    DiskTierOptions o;
    o.path = store;
    auto second = new_disk_tier(o);
    EXPECT_EQ(second.status().code(), StatusCode::kFailedPrecondition);
    EXPECT_NE(second.status().message().find(store), std::string::npos);
  }
  ASSERT_EQ(kill(pid, SIGKILL), 0);
  int status = 0;
  ASSERT_EQ(waitpid(pid, &status, 0), pid);
  read_acks(fds[0], 0, &buffer, &acks);  // acks written before the kill landed
  close(fds[0]);
  ASSERT_GE(acks.size(), static_cast<size_t>(kAcksBeforeKill)) << "the child stopped early";
  EXPECT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "child was not killed";

  DiskTierOptions o;
  o.path = store;
  o.max_bytes = 0;
  auto tier = open_disk(o);
  ASSERT_NE(tier, nullptr);
  for (uint64_t i : acks) {
    ASSERT_EQ(value_of(*tier, crash_key(i)), crash_value(i)) << "acknowledged write " << i;
  }
  // Beyond the acknowledged ones: the write in flight may or may not be
  // there, but whatever is served is intact.
  const uint64_t last = *acks.rbegin();
  uint64_t served = 0;
  for (uint64_t i = 0; i <= last + 50; ++i) {
    const std::string v = value_of(*tier, crash_key(i));
    if (v.empty()) continue;
    ++served;
    EXPECT_EQ(v, crash_value(i)) << i;
  }
  EXPECT_GE(served, acks.size());
  EXPECT_LE(served, acks.size() + 1);  // at most the one write in flight
  const TierStats s = tier->stats();
  EXPECT_EQ(s.corrupt_entries, 0u);
  EXPECT_EQ(s.entries, served);  // counters were persisted with the writes
}

}  // namespace
}  // namespace plancache::testing

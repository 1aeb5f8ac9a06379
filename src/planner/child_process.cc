// run_shell_command: spawn, feed, drain, kill, reap.
//
// Design
// - posix_spawn (vfork-like, cheap even from a large process) of /bin/sh -c
//   with POSIX_SPAWN_SETPGROUP (pgid = the shell's pid), an empty signal
//   mask and default dispositions for the signals a server may block or
//   ignore, stdin/stdout/stderr on pipes, and every other descriptor closed
//   (addclosefrom_np(3)) — our own fds are also O_CLOEXEC, but a library's
//   socket (Asio opens without SOCK_CLOEXEC) must not leak into a planner.
// - One poll() loop with the deadline as its timeout writes stdin in
//   non-blocking chunks and reads stdout/stderr until both reach EOF and the
//   shell has exited. Exit is observed with waitid(WNOWAIT), which leaves
//   the zombie in place: while it is unreaped its pid cannot be reused, so
//   kill(-pid) can only reach our own group. A pidfd (when the kernel has
//   one) wakes poll() at exit; without it poll() naps at most 10 ms.
// - When the shell has exited its group is killed at once: anything still
//   holding the pipes is a leftover of the command. At the deadline or past
//   the stdout limit the group is killed too. Then the shell is reaped with
//   a blocking waitpid, which SIGKILL makes prompt: no zombies.
// - Writing to a pipe whose reader has gone raises SIGPIPE, which would
//   kill the server. The loop blocks SIGPIPE in this thread and consumes
//   the one its own write raised (the write itself fails with EPIPE).
#include "planner/child_process.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <system_error>
#include <utility>

extern char** environ;  // NOLINT: POSIX declares it nowhere else

namespace plancache::internal {
namespace {

using Clock = std::chrono::steady_clock;

std::string errno_text(std::string_view call, int err) {
  return std::string(call) + ": " + std::system_category().message(err);
}

// An owned file descriptor.
class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& other) noexcept : fd_(std::exchange(other.fd_, -1)) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) reset(std::exchange(other.fd_, -1));
    return *this;
  }
  ~Fd() { reset(); }
  int get() const { return fd_; }
  bool is_open() const { return fd_ >= 0; }
  void reset(int fd = -1) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = fd;
  }

 private:
  int fd_ = -1;
};

// A close-on-exec pipe whose ends are both above stderr: a process that
// runs with fd 0, 1 or 2 closed would otherwise get a pipe end there, and
// the spawn's dup2 actions would overwrite one end with another.
Status make_pipe(Fd* read_end, Fd* write_end) {
  std::array<int, 2> fds{};
  if (::pipe2(fds.data(), O_CLOEXEC) != 0) return Status::internal(errno_text("pipe2", errno));
  read_end->reset(fds[0]);
  write_end->reset(fds[1]);
  for (Fd* end : {read_end, write_end}) {
    if (end->get() > 2) continue;
    const int moved = ::fcntl(end->get(), F_DUPFD_CLOEXEC, 3);
    if (moved < 0) return Status::internal(errno_text("fcntl(F_DUPFD_CLOEXEC)", errno));
    end->reset(moved);
  }
  return Status::ok();
}

Status set_nonblocking(const Fd& fd) {
  const int flags = ::fcntl(fd.get(), F_GETFL);
  if (flags < 0 || ::fcntl(fd.get(), F_SETFL, flags | O_NONBLOCK) != 0) {
    return Status::internal(errno_text("fcntl(O_NONBLOCK)", errno));
  }
  return Status::ok();
}

// The parent's ends of the child's standard streams.
struct ChildPipes {
  Fd in;   // write end of the child's stdin
  Fd out;  // read end of its stdout
  Fd err;  // read end of its stderr
};

// posix_spawn's attribute and file-action objects, destroyed on every path.
struct SpawnSetup {
  posix_spawnattr_t attr;
  posix_spawn_file_actions_t actions;
  SpawnSetup() {
    ::posix_spawnattr_init(&attr);
    ::posix_spawn_file_actions_init(&actions);
  }
  ~SpawnSetup() {
    ::posix_spawn_file_actions_destroy(&actions);
    ::posix_spawnattr_destroy(&attr);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;
};

// Starts /bin/sh -c `command` in its own process group.
Result<pid_t> spawn_shell(const std::string& command, ChildPipes* pipes) {
  Fd child_in, child_out, child_err;
  PLANCACHE_RETURN_IF_ERROR(make_pipe(&child_in, &pipes->in));
  PLANCACHE_RETURN_IF_ERROR(make_pipe(&pipes->out, &child_out));
  PLANCACHE_RETURN_IF_ERROR(make_pipe(&pipes->err, &child_err));
  SpawnSetup setup;
  ::posix_spawn_file_actions_adddup2(&setup.actions, child_in.get(), STDIN_FILENO);
  ::posix_spawn_file_actions_adddup2(&setup.actions, child_out.get(), STDOUT_FILENO);
  ::posix_spawn_file_actions_adddup2(&setup.actions, child_err.get(), STDERR_FILENO);
  ::posix_spawn_file_actions_addclosefrom_np(&setup.actions, 3);
  sigset_t none;
  sigemptyset(&none);
  sigset_t defaults;
  sigemptyset(&defaults);
  for (int sig : {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGCHLD, SIGALRM}) {
    sigaddset(&defaults, sig);
  }
  ::posix_spawnattr_setflags(&setup.attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                              POSIX_SPAWN_SETSIGDEF);
  ::posix_spawnattr_setpgroup(&setup.attr, 0);
  ::posix_spawnattr_setsigmask(&setup.attr, &none);
  ::posix_spawnattr_setsigdefault(&setup.attr, &defaults);
  std::string arg0 = "sh", arg1 = "-c", arg2 = command;
  std::array<char*, 4> argv = {arg0.data(), arg1.data(), arg2.data(), nullptr};
  pid_t pid = -1;
  const int rc = ::posix_spawn(&pid, "/bin/sh", &setup.actions, &setup.attr, argv.data(), environ);
  if (rc != 0) return Status::internal(errno_text("posix_spawn /bin/sh", rc));
  return pid;  // the child's ends close here, in the parent only
}

// Blocks SIGPIPE in this thread for its lifetime; on the way out consumes a
// SIGPIPE that became pending meanwhile (raised by our own write).
class SigpipeBlock {
 public:
  SigpipeBlock() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGPIPE);
    ::pthread_sigmask(SIG_BLOCK, &set_, &old_);
    was_pending_ = is_pending();
  }
  ~SigpipeBlock() {
    if (!was_pending_ && is_pending()) {
      timespec zero{};
      ::sigtimedwait(&set_, nullptr, &zero);
    }
    ::pthread_sigmask(SIG_SETMASK, &old_, nullptr);
  }
  SigpipeBlock(const SigpipeBlock&) = delete;
  SigpipeBlock& operator=(const SigpipeBlock&) = delete;

 private:
  static bool is_pending() {
    sigset_t pending;
    sigemptyset(&pending);
    ::sigpending(&pending);
    return sigismember(&pending, SIGPIPE) == 1;
  }
  sigset_t set_;
  sigset_t old_;
  bool was_pending_ = false;
};

// The poll loop of one child: see the design comment above.
class ChildIo {
 public:
  ChildIo(const ChildRun& run, pid_t pid, ChildPipes pipes)
      : run_(run), pid_(pid), pipes_(std::move(pipes)),
        pidfd_(static_cast<int>(::syscall(SYS_pidfd_open, pid, 0))) {}

  // Runs until the child is done or must be killed; then kills what is left
  // of its group and reaps it. Always returns with the child reaped.
  Result<ChildResult> run();

 private:
  enum class Step { kContinue, kDone, kTimedOut, kOversized, kCancelled, kFailed };
  Step step();
  void feed_stdin();
  bool drain(Fd& fd, std::string* into, uint64_t keep, uint64_t limit);
  bool shell_exited() const;
  void kill_group();
  ChildResult reap(ChildResult::End end);

  const ChildRun& run_;
  const pid_t pid_;
  ChildPipes pipes_;
  Fd pidfd_;  // -1 when the kernel has no pidfd_open
  size_t written_ = 0;
  bool exited_ = false;
  bool group_killed_ = false;
  int poll_errno_ = 0;
  std::string out_;
  std::string err_;
};

Result<ChildResult> ChildIo::run() {
  SigpipeBlock sigpipe;
  if (run_.input.empty()) pipes_.in.reset();
  Step result = Step::kContinue;
  while (result == Step::kContinue) result = step();  // each pass polls with the deadline
  kill_group();
  pipes_ = ChildPipes();
  switch (result) {
    case Step::kTimedOut: return reap(ChildResult::End::kTimedOut);
    case Step::kOversized: return reap(ChildResult::End::kOversized);
    case Step::kCancelled: return reap(ChildResult::End::kCancelled);
    case Step::kFailed:
      reap(ChildResult::End::kExited);
      return Status::internal(errno_text("poll", poll_errno_));
    default: return reap(ChildResult::End::kExited);
  }
}

ChildIo::Step ChildIo::step() {
  if (!exited_) exited_ = shell_exited();
  if (exited_) kill_group();  // leftovers of the command may hold the pipes
  if (exited_ && !pipes_.out.is_open() && !pipes_.err.is_open()) return Step::kDone;
  const auto now = Clock::now();
  if (now >= run_.deadline) return Step::kTimedOut;
  if (run_.cancelled != nullptr && run_.cancelled->load(std::memory_order_acquire)) {
    return Step::kCancelled;
  }
  auto wait_ms = std::chrono::ceil<std::chrono::milliseconds>(run_.deadline - now).count();
  // The cancel flag has no descriptor to poll: look at it every 100 ms.
  if (run_.cancelled != nullptr) wait_ms = std::min<decltype(wait_ms)>(wait_ms, 100);
  std::array<pollfd, 4> fds{};
  nfds_t n = 0;
  const auto watch = [&](const Fd& fd, short events) {
    if (fd.is_open()) fds[n++] = pollfd{fd.get(), events, 0};
  };
  watch(pipes_.in, POLLOUT);
  watch(pipes_.out, POLLIN);
  watch(pipes_.err, POLLIN);
  if (!exited_) {
    if (pidfd_.is_open()) {
      watch(pidfd_, POLLIN);
    } else {
      wait_ms = std::min<decltype(wait_ms)>(wait_ms, 10);
    }
  }
  const int ready = ::poll(fds.data(), n, static_cast<int>(std::min<decltype(wait_ms)>(wait_ms, 60'000)));
  if (ready < 0 && errno != EINTR) {
    poll_errno_ = errno;
    return Step::kFailed;
  }
  if (pipes_.in.is_open()) feed_stdin();
  if (!drain(pipes_.out, &out_, run_.max_stdout_bytes + 1, run_.max_stdout_bytes)) {
    return Step::kOversized;
  }
  drain(pipes_.err, &err_, run_.max_stderr_bytes, UINT64_MAX);
  return Step::kContinue;
}

// Writes what the pipe takes now; closes stdin when all is written or the
// reader has gone (EPIPE: the command did not want its input).
void ChildIo::feed_stdin() {
  while (written_ < run_.input.size()) {
    const size_t chunk = std::min<size_t>(run_.input.size() - written_, 64 * 1024);
    const ssize_t n = ::write(pipes_.in.get(), run_.input.data() + written_, chunk);
    if (n > 0) {
      written_ += static_cast<size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      return;
    } else {
      break;  // EPIPE or another error: stop feeding
    }
  }
  pipes_.in.reset();
}

// Reads what `fd` has now, appending up to `keep` bytes to `into` and
// dropping the rest. Closes `fd` at EOF. False when more than `limit` bytes
// have been read in total.
bool ChildIo::drain(Fd& fd, std::string* into, uint64_t keep, uint64_t limit) {
  std::array<char, 64 * 1024> buffer;
  while (fd.is_open()) {
    const ssize_t n = ::read(fd.get(), buffer.data(), buffer.size());
    if (n > 0) {
      const uint64_t room = keep > into->size() ? keep - into->size() : 0;
      into->append(buffer.data(), std::min<uint64_t>(room, static_cast<uint64_t>(n)));
      if (into->size() > limit) return false;
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      return true;
    } else {
      fd.reset();  // EOF (or a read error, treated alike)
    }
  }
  return true;
}

bool ChildIo::shell_exited() const {
  siginfo_t info{};
  return ::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
         info.si_pid == pid_;
}

void ChildIo::kill_group() {
  if (group_killed_) return;
  ::kill(-pid_, SIGKILL);  // the unreaped shell keeps the group id ours
  group_killed_ = true;
}

ChildResult ChildIo::reap(ChildResult::End end) {
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  ChildResult result;
  result.pid = pid_;
  result.out = std::move(out_);
  result.err = std::move(err_);
  result.end = end;
  if (end == ChildResult::End::kExited) {
    if (WIFSIGNALED(status)) {
      result.end = ChildResult::End::kSignaled;
      result.code = WTERMSIG(status);
    } else {
      result.code = WEXITSTATUS(status);
    }
  }
  return result;
}

}  // namespace

Result<ChildResult> run_shell_command(const ChildRun& run) {
  ChildPipes pipes;
  Result<pid_t> pid = spawn_shell(run.command, &pipes);
  if (!pid.is_ok()) return pid.status();
  // Our ends are non-blocking; the child's ends are separate open file
  // descriptions and stay blocking.
  for (const Fd* fd : {&pipes.in, &pipes.out, &pipes.err}) {
    const Status made = set_nonblocking(*fd);
    if (!made.is_ok()) {
      ::kill(-*pid, SIGKILL);
      int status = 0;
      while (::waitpid(*pid, &status, 0) < 0 && errno == EINTR) {
      }
      return made;
    }
  }
  ChildIo io(run, *pid, std::move(pipes));
  return io.run();
}

}  // namespace plancache::internal

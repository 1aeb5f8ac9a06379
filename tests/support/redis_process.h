// Private redis-server processes for tests (header-only).
//
// RedisProcess: one redis-server on 127.0.0.1, a random free port, its own
// temp dir, no persistence; freeze() / thaw() / kill9() / restart() for
// fault tests. RedisClusterProcess: N masters (+ replicas) joined with
// `redis-cli --cluster create`, ready once every node says cluster_state:ok.
// Both stop their servers in the destructor (SIGCONT first if frozen).
//
// Use these for anything that kills, freezes, restarts, flushes or changes
// the auth of a server; the shared fixture (redis_fixture.h) is shared by
// tests running in parallel.
//
// Thread-safety: none; one test thread.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace plancache::test {

// Runs argv (PATH lookup), returns its stdout + stderr; *exit_code if given.
inline std::string run_capture(const std::vector<std::string>& argv, int* exit_code = nullptr) {
  int fds[2];
  if (::pipe(fds) != 0) return "";
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::dup2(fds[1], 1);
    ::dup2(fds[1], 2);
    ::close(fds[0]);
    ::close(fds[1]);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    ::execvp(args[0], args.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(fds[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (exit_code != nullptr) *exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  while (!out.empty() && (out.back() == '\n' || out.back() == '\r')) out.pop_back();
  return out;
}

// Whether nothing listens on 127.0.0.1:port (we can bind it).
inline bool port_is_free(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  const bool ok = ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  ::close(fd);
  return ok;
}

// Whether a RESP server answers PING (any reply, even NOAUTH) on the port.
inline bool redis_answers(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  timeval tv{0, 200'000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = false;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
      ::send(fd, "PING\r\n", 6, MSG_NOSIGNAL) == 6) {
    char c = 0;
    ok = ::recv(fd, &c, 1, 0) == 1 && (c == '+' || c == '-');
  }
  ::close(fd);
  return ok;
}

// Polls `done` every 5 ms until it holds or `timeout` passes.
template <typename F>
bool wait_until(F done, std::chrono::milliseconds timeout = std::chrono::seconds(5)) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

class RedisProcess {
 public:
  // extra_args go to redis-server (e.g. {"--requirepass", "pw"}); a
  // password there should also be given as `password` for cli().
  explicit RedisProcess(std::vector<std::string> extra_args = {}, std::string password = "",
                        int max_port = 55535)
      : extra_(std::move(extra_args)), password_(std::move(password)) {
    char tmpl[] = "/tmp/plancache-redis-XXXXXX";
    if (::mkdtemp(tmpl) != nullptr) dir_ = tmpl;
    std::mt19937 rng(std::random_device{}());
    std::uniform_int_distribution<int> pick(20000, max_port);
    for (int attempt = 0; attempt < 30 && pid_ <= 0; ++attempt) {
      const int port = pick(rng);
      if (!port_is_free(port) || (max_port <= 45535 && !port_is_free(port + 10000))) continue;
      port_ = port;
      if (!spawn()) port_ = 0;
    }
  }
  ~RedisProcess() {
    stop();
    std::error_code ec;
    if (!dir_.empty()) std::filesystem::remove_all(dir_, ec);
  }
  RedisProcess(const RedisProcess&) = delete;
  RedisProcess& operator=(const RedisProcess&) = delete;

  bool ok() const { return pid_ > 0; }
  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  const std::string& dir() const { return dir_; }
  std::string endpoint() const { return "127.0.0.1:" + std::to_string(port_); }
  std::string url() const { return "redis://" + endpoint(); }

  void freeze() {
    if (pid_ > 0 && ::kill(pid_, SIGSTOP) == 0) frozen_ = true;
  }
  void thaw() {
    if (pid_ > 0) ::kill(pid_, SIGCONT);
    frozen_ = false;
  }
  void kill9() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
    frozen_ = false;
  }
  // Starts the server again on the same port (after kill9() or stop()).
  bool restart() {
    kill9();
    for (int attempt = 0; attempt < 100; ++attempt) {
      if (spawn()) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }
  void stop() {
    if (pid_ <= 0) return;
    if (frozen_) thaw();
    ::kill(pid_, SIGTERM);
    if (!wait_until([&] { return ::waitpid(pid_, nullptr, WNOHANG) == pid_; },
                    std::chrono::seconds(5))) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    pid_ = -1;
  }

  // redis-cli against this server: cli({"SET", "k", "v"}) -> "OK".
  std::string cli(const std::vector<std::string>& args) const {
    std::vector<std::string> argv{"redis-cli", "-h", "127.0.0.1", "-p", std::to_string(port_)};
    if (!password_.empty()) argv.insert(argv.end(), {"-a", password_, "--no-auth-warning"});
    argv.insert(argv.end(), args.begin(), args.end());
    return run_capture(argv);
  }

 private:
  bool spawn() {
    std::vector<std::string> argv{"redis-server",
                                  "--port",
                                  std::to_string(port_),
                                  "--bind",
                                  "127.0.0.1",
                                  "--save",
                                  "",
                                  "--appendonly",
                                  "no",
                                  "--dir",
                                  dir_,
                                  "--daemonize",
                                  "no"};
    argv.insert(argv.end(), extra_.begin(), extra_.end());
    const std::string log = dir_ + "/redis.log";
    const pid_t pid = ::fork();
    if (pid == 0) {
      const int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      if (fd >= 0) {
        ::dup2(fd, 1);
        ::dup2(fd, 2);
      }
      std::vector<char*> args;
      for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      ::execvp(args[0], args.data());
      ::_exit(127);
    }
    if (pid < 0) return false;
    const bool up =
        wait_until([&] { return ::waitpid(pid, nullptr, WNOHANG) == pid || redis_answers(port_); },
                   std::chrono::seconds(10));
    if (up && ::waitpid(pid, nullptr, WNOHANG) == 0) {
      pid_ = pid;
      return true;
    }
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    return false;
  }

  std::vector<std::string> extra_;
  std::string password_;
  std::string dir_;
  int port_ = 0;
  pid_t pid_ = -1;
  bool frozen_ = false;
};

// A private Redis Cluster: `masters` masters, `replicas` replicas each.
class RedisClusterProcess {
 public:
  explicit RedisClusterProcess(int masters = 3, int replicas = 0) {
    const std::vector<std::string> args{
        "--cluster-enabled",      "yes",  "--cluster-config-file",      "nodes.conf",
        "--cluster-node-timeout", "5000", "--repl-diskless-sync-delay", "0"};
    std::vector<std::string> create{"redis-cli", "--cluster", "create"};
    for (int i = 0; i < masters * (1 + replicas); ++i) {
      nodes_.push_back(std::make_unique<RedisProcess>(args, "", 45535));
      if (!nodes_.back()->ok()) return;
      create.push_back(nodes_.back()->endpoint());
    }
    create.insert(create.end(), {"--cluster-replicas", std::to_string(replicas), "--cluster-yes"});
    int rc = 0;
    create_log_ = run_capture(create, &rc);
    if (rc != 0) return;
    ok_ = wait_until(
        [&] {
          for (const auto& n : nodes_) {
            if (n->cli({"CLUSTER", "INFO"}).find("cluster_state:ok") == std::string::npos) {
              return false;
            }
          }
          return true;
        },
        std::chrono::seconds(30));
  }

  bool ok() const { return ok_; }
  const std::string& create_log() const { return create_log_; }
  size_t size() const { return nodes_.size(); }
  RedisProcess& node(size_t i) { return *nodes_[i]; }
  // "redis://127.0.0.1:P1,127.0.0.1:P2,..."
  std::string url() const {
    std::string out = "redis://";
    for (size_t i = 0; i < nodes_.size(); ++i) out += (i ? "," : "") + nodes_[i]->endpoint();
    return out;
  }
  // The node whose port is `port`, or null.
  RedisProcess* by_port(int port) {
    for (auto& n : nodes_) {
      if (n->port() == port) return n.get();
    }
    return nullptr;
  }

 private:
  std::vector<std::unique_ptr<RedisProcess>> nodes_;
  std::string create_log_;
  bool ok_ = false;
};

}  // namespace plancache::test

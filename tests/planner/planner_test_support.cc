#include "planner_test_support.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

extern char** environ;  // NOLINT: POSIX declares it nowhere else

namespace plancache::testing {
namespace {

using Clock = std::chrono::steady_clock;

// Waits up to `ms` for `fd` to have `events`.
bool wait_fd(int fd, short events, int ms) {
  pollfd pfd{fd, events, 0};
  return ::poll(&pfd, 1, ms) > 0;
}

int listen_socket(bool listen, uint16_t* port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return -1;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      (listen && ::listen(fd, 64) != 0) ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    return -1;
  }
  *port = ntohs(addr.sin_port);
  return fd;
}

void write_all(int fd, const std::string& data) {
  size_t done = 0;
  while (done < data.size()) {
    const ssize_t n = ::send(fd, data.data() + done, data.size() - done, MSG_NOSIGNAL);
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

// Reads until EOF or 10 s of silence.
std::string read_to_eof(int fd) {
  std::string out;
  char buffer[4096];
  while (wait_fd(fd, POLLIN, 10'000)) {
    const ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n <= 0) break;
    out.append(buffer, static_cast<size_t>(n));
  }
  return out;
}

}  // namespace

std::string example_planner() { return PLANCACHE_EXAMPLE_PLANNER; }

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream out;
  out << in.rdbuf();
  return out.str();
}

bool process_gone(pid_t pid) {
  if (::kill(pid, 0) != 0) return errno == ESRCH;
  // Still there: a zombie (state Z) waiting for its parent counts as gone.
  const std::string stat = read_text("/proc/" + std::to_string(pid) + "/stat");
  const size_t paren = stat.rfind(')');
  return paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] == 'Z';
}

bool wait_process_gone(pid_t pid, int max_ms) {
  for (int waited = 0; waited < max_ms; waited += 10) {
    if (process_gone(pid)) return true;
    ::usleep(10'000);
  }
  return process_gone(pid);
}

int open_fd_count() {
  int n = 0;
  for ([[maybe_unused]] const auto& entry : std::filesystem::directory_iterator("/proc/self/fd")) {
    ++n;
  }
  return n;
}

bool has_no_children() {
  int status = 0;
  return ::waitpid(-1, &status, WNOHANG) < 0 && errno == ECHILD;
}

ExamplePlannerServer::ExamplePlannerServer(std::vector<std::string> args) {
  const std::string port_file = dir_.file("port");
  std::vector<std::string> argv_text = {kPython, example_planner(), "--port", "0",
                                        "--port-file", port_file};
  argv_text.insert(argv_text.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (std::string& a : argv_text) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addclosefrom_np(&actions, 3);
  const int rc = ::posix_spawn(&pid_, kPython, &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (rc != 0) {
    pid_ = -1;
    ADD_FAILURE() << "cannot start " << example_planner() << ": " << rc;
    return;
  }
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  while (Clock::now() < deadline) {
    const std::string text = read_text(port_file);
    if (!text.empty()) {
      port_ = static_cast<uint16_t>(std::stoi(text));
      return;
    }
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      ADD_FAILURE() << "the example planner exited at start (status " << status << ")";
      return;
    }
    ::usleep(10'000);
  }
  ADD_FAILURE() << "the example planner wrote no port file within 10 s";
}

ExamplePlannerServer::~ExamplePlannerServer() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
}

std::string ExamplePlannerServer::url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + path;
}

nlohmann::json ExamplePlannerServer::calls() const {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port_);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return nullptr;
  }
  write_all(fd, "GET /calls HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
  const std::string answer = read_to_eof(fd);
  ::close(fd);
  const size_t body = answer.find("\r\n\r\n");
  if (body == std::string::npos) return nullptr;
  return nlohmann::json::parse(answer.substr(body + 4), nullptr, false);
}

ScriptedPeer::ScriptedPeer(Handler on_connection) : on_connection_(std::move(on_connection)) {
  listen_fd_ = listen_socket(true, &port_);
  if (listen_fd_ < 0) {
    ADD_FAILURE() << "cannot listen on 127.0.0.1";
    return;
  }
  thread_ = std::thread([this] {
    while (!stop_.load()) {
      if (!wait_fd(listen_fd_, POLLIN, 50)) continue;
      const int fd = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC);
      if (fd < 0) continue;
      const int index = accepted_.fetch_add(1);
      on_connection_(fd, index);
      ::close(fd);
    }
  });
}

ScriptedPeer::~ScriptedPeer() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
  if (listen_fd_ >= 0) ::close(listen_fd_);
}

bool ScriptedPeer::read_request(int fd) {
  std::string data;
  char buffer[4096];
  size_t head_end = std::string::npos;
  size_t wanted = 0;
  for (;;) {
    if (head_end == std::string::npos) {
      head_end = data.find("\r\n\r\n");
      if (head_end != std::string::npos) {
        const size_t at = data.find("Content-Length: ");
        if (at != std::string::npos) wanted = std::stoul(data.substr(at + 16));
      }
    }
    if (head_end != std::string::npos && data.size() >= head_end + 4 + wanted) return true;
    if (!wait_fd(fd, POLLIN, 5000)) return false;
    const ssize_t n = ::read(fd, buffer, sizeof(buffer));
    if (n <= 0) return false;
    data.append(buffer, static_cast<size_t>(n));
  }
}

void ScriptedPeer::answer(int fd, const std::string& body, const std::string& headers) {
  write_all(fd, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n" + headers +
                    "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body);
}

RefusingPort::RefusingPort() {
  fd_ = listen_socket(false, &port_);
  if (fd_ < 0) ADD_FAILURE() << "cannot bind 127.0.0.1";
}

RefusingPort::~RefusingPort() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace plancache::testing

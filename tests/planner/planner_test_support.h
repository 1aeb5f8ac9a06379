// Test helpers for the planner tests: the real examples/planner.py as a child
// process (HTTP mode on an ephemeral 127.0.0.1 port), a scripted raw-socket
// HTTP peer for the cases the example cannot produce on cue, temporary
// directories and process/fd checks. Every wait is bounded.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "planner/planner.h"
#include "support/temp_dir.h"

namespace plancache::testing {

// A plan request for `goal` in `ns` with `context_json` (JSON text).
inline internal::PlanRequest request_for(const std::string& goal,
                                         const std::string& ns = "default",
                                         const std::string& context_json = "null") {
  internal::PlanRequest request;
  request.goal = goal;
  request.ns = ns;
  request.context_json = context_json;
  return request;
}

inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Absolute path of examples/planner.py (compile definition).
std::string example_planner();
// The interpreter the tests run the example with.
inline constexpr const char* kPython = "/usr/bin/python3";

// Whole file, or "" when it does not exist.
std::string read_text(const std::string& path);

// True when `pid` no longer runs (gone, or a zombie nobody reaped yet).
bool process_gone(pid_t pid);
// Polls process_gone for up to `max_ms` (bounded; SIGKILL is asynchronous).
bool wait_process_gone(pid_t pid, int max_ms = 5000);
// Entries in /proc/self/fd.
int open_fd_count();
// True when this process has no child at all, running or zombie.
bool has_no_children();

// examples/planner.py --port 0 --port-file F <args...>, killed and reaped by
// the destructor. port() is 0 (and a test failure is recorded) if it did not
// come up within 10 s.
class ExamplePlannerServer {
 public:
  explicit ExamplePlannerServer(std::vector<std::string> args);
  ~ExamplePlannerServer();
  ExamplePlannerServer(const ExamplePlannerServer&) = delete;
  ExamplePlannerServer& operator=(const ExamplePlannerServer&) = delete;

  uint16_t port() const { return port_; }
  std::string url(const std::string& path = "/plan") const;
  // GET /calls: {"calls","connections","open_connections"}; null on failure.
  nlohmann::json calls() const;

 private:
  TempDir dir_;
  pid_t pid_ = -1;
  uint16_t port_ = 0;
};

// A raw HTTP peer on 127.0.0.1: accepts connections on a thread and hands
// each to `on_connection(fd, index)` (index counts from 0). The fd is closed
// after the handler returns. Stops and joins in the destructor.
class ScriptedPeer {
 public:
  using Handler = std::function<void(int fd, int index)>;
  explicit ScriptedPeer(Handler on_connection);
  ~ScriptedPeer();
  ScriptedPeer(const ScriptedPeer&) = delete;
  ScriptedPeer& operator=(const ScriptedPeer&) = delete;

  uint16_t port() const { return port_; }
  int accepted() const { return accepted_.load(); }

  // Reads one request (head and Content-Length body); false on EOF/timeout.
  static bool read_request(int fd);
  // Writes a 200 answer with `body`, keep-alive; `headers` (each line
  // ending in \r\n) are added to the head.
  static void answer(int fd, const std::string& body, const std::string& headers = "");

 private:
  Handler on_connection_;
  int listen_fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepted_{0};
  std::thread thread_;
};

// A port on 127.0.0.1 that refuses connections: bound, never listening,
// held until destroyed so nobody else takes it.
class RefusingPort {
 public:
  RefusingPort();
  ~RefusingPort();
  RefusingPort(const RefusingPort&) = delete;
  RefusingPort& operator=(const RefusingPort&) = delete;
  uint16_t port() const { return port_; }

 private:
  int fd_ = -1;
  uint16_t port_ = 0;
};

}  // namespace plancache::testing

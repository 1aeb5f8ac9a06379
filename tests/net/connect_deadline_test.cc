// BlockingHttpConnection::connect(): the deadline bounds a name lookup that
// hangs and a connect nobody completes; an IP literal is not looked up; a
// refused port is kConnectionLost (retriable), a failed lookup is final.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <vector>

#include "net/blocking_http_connection.h"
#include "net/test_support.h"
#include "planner/planner_test_support.h"

namespace plancache::internal {
namespace {

using net_test::Clock;
using net_test::in;
using plancache::testing::RefusingPort;
using plancache::testing::ScriptedPeer;
using ::testing::HasSubstr;
using Kind = HttpFailure::Kind;
using std::chrono::milliseconds;

// A resolver that blocks until released (or 30 s passed), standing in for a
// DNS server that does not answer: nothing else makes getaddrinfo hang on cue.
class HangingResolver {
 public:
  HostResolver resolver() {
    return [state = state_](const std::string&, uint16_t) -> Result<TcpEndpoints> {
      std::unique_lock<std::mutex> lock(state->mu);
      state->cv.wait_for(lock, std::chrono::seconds(30), [&] { return state->released; });
      return Status::unavailable("released");
    };
  }
  ~HangingResolver() {
    const std::lock_guard<std::mutex> lock(state_->mu);
    state_->released = true;
    state_->cv.notify_all();
  }

 private:
  struct State {
    std::mutex mu;  // guards released
    std::condition_variable cv;
    bool released = false;
  };
  std::shared_ptr<State> state_ = std::make_shared<State>();
};

// A listener whose accept queue is full (backlog 0, never accepting): the
// kernel drops further SYNs, so a connect to it stays pending. Fillers are
// connected until one stays pending, which shows the queue is full.
class FullBacklog {
 public:
  FullBacklog() {
    listen_fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    addr_.sin_family = AF_INET;
    addr_.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr_);
    if (::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr_), sizeof(addr_)) != 0 ||
        ::listen(listen_fd_, 0) != 0 ||
        ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr_), &len) != 0) {
      return;
    }
    for (int i = 0; i < 16 && !full_; ++i) {
      const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      fillers_.push_back(fd);
      ::connect(fd, reinterpret_cast<sockaddr*>(&addr_), sizeof(addr_));
      pollfd p{fd, POLLOUT, 0};
      full_ = ::poll(&p, 1, 200) == 0;  // no handshake in 200 ms: SYNs are dropped
    }
  }
  ~FullBacklog() {
    for (int fd : fillers_) ::close(fd);
    if (listen_fd_ >= 0) ::close(listen_fd_);
  }
  bool full() const { return full_; }
  uint16_t port() const { return ntohs(addr_.sin_port); }

 private:
  int listen_fd_ = -1;
  sockaddr_in addr_{};
  std::vector<int> fillers_;
  bool full_ = false;
};

TEST(BlockingHttpConnectionConnect, AHangingLookupEndsAtTheDeadline) {
  HangingResolver dns;
  BlockingHttpConnection conn(dns.resolver());
  const Clock::time_point start = Clock::now();
  const std::optional<HttpFailure> failure =
      conn.connect("planner.example", 80, start + milliseconds(200));
  const auto waited = Clock::now() - start;
  ASSERT_TRUE(failure.has_value());
  EXPECT_EQ(failure->kind, Kind::kTimedOut);
  EXPECT_EQ(failure->what, "resolving planner.example");
  EXPECT_GE(waited, milliseconds(200));
  EXPECT_LT(waited, std::chrono::seconds(20)) << "it did not wait for the resolver's 30 s";
}

TEST(BlockingHttpConnectionConnect, AConnectNobodyCompletesEndsAtTheDeadline) {
  FullBacklog listener;
  if (!listener.full()) GTEST_SKIP() << "this kernel completed every handshake";
  BlockingHttpConnection conn;
  const Clock::time_point start = Clock::now();
  const std::optional<HttpFailure> failure =
      conn.connect("127.0.0.1", listener.port(), start + milliseconds(300));
  ASSERT_TRUE(failure.has_value());
  EXPECT_EQ(failure->kind, Kind::kTimedOut);
  EXPECT_EQ(failure->what, "connecting");
  EXPECT_GE(Clock::now() - start, milliseconds(300));
}

TEST(BlockingHttpConnectionConnect, AnIpLiteralIsNotLookedUp) {
  std::atomic<int> lookups{0};
  ScriptedPeer peer([](int fd, int) { ScriptedPeer::read_request(fd); });
  BlockingHttpConnection conn([&](const std::string&, uint16_t) -> Result<TcpEndpoints> {
    ++lookups;
    return Status::unavailable("looked up");
  });
  EXPECT_FALSE(conn.connect("127.0.0.1", peer.port(), in(milliseconds(5000))));
  EXPECT_EQ(lookups.load(), 0);
}

TEST(BlockingHttpConnectionConnect, AFailedLookupIsFinal) {
  BlockingHttpConnection conn([](const std::string& host, uint16_t) -> Result<TcpEndpoints> {
    return Status::unavailable("cannot resolve '" + host + "': Host not found");
  });
  const std::optional<HttpFailure> failure =
      conn.connect("nowhere.example", 80, in(milliseconds(5000)));
  ASSERT_TRUE(failure.has_value());
  EXPECT_EQ(failure->kind, Kind::kFailed);
  EXPECT_EQ(failure->what, "cannot resolve 'nowhere.example': Host not found");
}

TEST(BlockingHttpConnectionConnect, ARefusedPortIsALostConnection) {
  RefusingPort refusing;
  BlockingHttpConnection conn;
  const std::optional<HttpFailure> failure =
      conn.connect("127.0.0.1", refusing.port(), in(milliseconds(5000)));
  ASSERT_TRUE(failure.has_value());
  EXPECT_EQ(failure->kind, Kind::kConnectionLost);
  EXPECT_THAT(failure->what, HasSubstr("cannot connect"));
  EXPECT_THAT(failure->what, HasSubstr("refused"));
  EXPECT_FALSE(conn.reusable());
}

TEST(BlockingHttpConnectionConnect, TheSystemResolverFindsLocalhost) {
  Result<TcpEndpoints> found =
      resolve_before(system_resolver(), "localhost", 80, in(milliseconds(5000)));
  ASSERT_TRUE(found.is_ok()) << found.status().to_string();
  EXPECT_FALSE(found->empty());
}

}  // namespace
}  // namespace plancache::internal

// The HTTP planner against the real examples/planner.py (HTTP mode, port 0),
// plus a scripted raw peer for the retry cases the example cannot produce on
// cue. Counts are read from the peers, never inferred from timing.
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <nlohmann/json.hpp>
#include <thread>
#include <vector>

#include "planner/planner.h"
#include "planner_test_support.h"

namespace plancache::internal {
namespace {

using testing::ExamplePlannerServer;
using testing::RefusingPort;
using testing::ScriptedPeer;

std::unique_ptr<Planner> http_planner(const std::string& url, uint32_t timeout_ms = 10'000,
                                      uint32_t max_retries = 2) {
  HttpPlannerOptions options;
  options.url = url;
  options.timeout_ms = timeout_ms;
  options.max_retries = max_retries;
  options.initial_backoff_ms = 1;
  Result<std::unique_ptr<Planner>> made = new_http_planner(options);
  EXPECT_TRUE(made.is_ok()) << made.status().to_string();
  return made.is_ok() ? std::move(made).value() : nullptr;
}

using testing::contains;
using testing::request_for;

TEST(HttpPlanner, AnswerIsTheExamplePlan) {
  ExamplePlannerServer server({"--delay-ms", "0"});
  auto planner = http_planner(server.url());
  Result<std::string> plan = planner->plan(request_for("Deploy the app", "docs", R"({"env":"prod"})"));
  ASSERT_TRUE(plan.is_ok()) << plan.status().to_string();
  const nlohmann::json parsed = nlohmann::json::parse(*plan);
  EXPECT_EQ(parsed["goal"], "Deploy the app");
  EXPECT_EQ(parsed["namespace"], "docs");
  EXPECT_EQ(parsed["planner"], "example");
  ASSERT_TRUE(parsed["tasks"].is_array());
  EXPECT_GE(parsed["tasks"].size(), 3u);
  EXPECT_EQ(parsed["tasks"][0]["id"], 1);
  EXPECT_EQ(parsed.dump(), *plan) << "the answer is compact re-serialised JSON";
  // Deterministic per goal.
  EXPECT_EQ(*planner->plan(request_for("Deploy the app", "docs")), *plan);
}

TEST(HttpPlanner, SequentialCallsReuseOneConnection) {
  ExamplePlannerServer server({"--delay-ms", "0"});
  auto planner = http_planner(server.url());
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(planner->plan(request_for("goal " + std::to_string(i))).is_ok());
  }
  const nlohmann::json calls = server.calls();
  EXPECT_EQ(calls["calls"], 5);
  EXPECT_EQ(calls["connections"], 1);
}

TEST(HttpPlanner, ConcurrentCallsOpenNoMoreConnectionsThanCallers) {
  ExamplePlannerServer server({"--delay-ms", "5"});
  auto planner = http_planner(server.url());
  constexpr int kThreads = 4;
  constexpr int kCallsEach = 5;
  std::vector<std::thread> threads;
  std::vector<int> ok(kThreads, 0);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kCallsEach; ++i) {
        ok[t] += planner->plan(request_for("g" + std::to_string(t * 100 + i))).is_ok() ? 1 : 0;
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(ok[t], kCallsEach);
  const nlohmann::json calls = server.calls();
  EXPECT_EQ(calls["calls"], kThreads * kCallsEach);
  EXPECT_GE(calls["connections"].get<int>(), 1);
  EXPECT_LE(calls["connections"].get<int>(), kThreads);
}

TEST(HttpPlanner, ConnectionIdleClosedByThePlannerIsNotAFailure) {
  ExamplePlannerServer server({"--delay-ms", "0", "--idle-timeout-ms", "50"});
  auto planner = http_planner(server.url(), 10'000, /*max_retries=*/0);
  ASSERT_TRUE(planner->plan(request_for("first")).is_ok());
  bool closed = false;
  for (int i = 0; i < 500 && !closed; ++i) {  // at most 5 s
    closed = server.calls()["open_connections"] == 0;
    if (!closed) ::usleep(10'000);
  }
  ASSERT_TRUE(closed) << "the example planner never closed the idle connection";
  Result<std::string> second = planner->plan(request_for("second"));
  ASSERT_TRUE(second.is_ok()) << second.status().to_string();
  EXPECT_EQ(server.calls()["connections"], 2);
}

TEST(HttpPlanner, StaleKeepAliveIsRetriedOnAFreshConnectionWithoutCounting) {
  // Connection 0 answers once, then takes the next request and closes without
  // answering (an idle timeout racing our reuse). Connection 1 answers.
  ScriptedPeer peer([](int fd, int index) {
    if (!ScriptedPeer::read_request(fd)) return;
    if (index == 0) {
      ScriptedPeer::answer(fd, R"({"n":0})");
      ScriptedPeer::read_request(fd);
      return;
    }
    ScriptedPeer::answer(fd, R"({"n":1})");
  });
  auto planner = http_planner("http://127.0.0.1:" + std::to_string(peer.port()) + "/plan",
                              10'000, /*max_retries=*/0);
  EXPECT_EQ(*planner->plan(request_for("a")), R"({"n":0})");
  Result<std::string> second = planner->plan(request_for("b"));
  ASSERT_TRUE(second.is_ok()) << second.status().to_string();
  EXPECT_EQ(*second, R"({"n":1})");
  EXPECT_EQ(peer.accepted(), 2);
}

TEST(HttpPlanner, RefusedPortIsBadGatewayAfterTheRetries) {
  RefusingPort refusing;
  auto planner = http_planner("http://127.0.0.1:" + std::to_string(refusing.port()) + "/plan",
                              10'000, /*max_retries=*/2);
  Result<std::string> plan = planner->plan(request_for("g"));
  ASSERT_FALSE(plan.is_ok());
  EXPECT_EQ(plan.status().code(), StatusCode::kBadGateway);
  const std::string& message = plan.status().message();
  EXPECT_TRUE(contains(message, planner->describe() + ": ")) << message;
  EXPECT_TRUE(contains(message, "after 3 attempts")) << message;
  EXPECT_TRUE(contains(message, "refused")) << message;
}

TEST(HttpPlanner, ConnectionClosedBeforeAnyAnswerIsRetriedExactlyMaxRetriesTimes) {
  ScriptedPeer peer([](int fd, int) { ScriptedPeer::read_request(fd); });  // then close
  auto planner = http_planner("http://127.0.0.1:" + std::to_string(peer.port()) + "/plan",
                              10'000, /*max_retries=*/3);
  Result<std::string> plan = planner->plan(request_for("g"));
  ASSERT_FALSE(plan.is_ok());
  EXPECT_EQ(plan.status().code(), StatusCode::kBadGateway);
  EXPECT_TRUE(contains(plan.status().message(), "after 4 attempts")) << plan.status().message();
  EXPECT_EQ(peer.accepted(), 4);
}

TEST(HttpPlanner, HangingPlannerTimesOutAndIsNotRetried) {
  ExamplePlannerServer server({"--mode", "hang"});
  auto planner = http_planner(server.url(), /*timeout_ms=*/300, /*max_retries=*/2);
  Result<std::string> plan = planner->plan(request_for("g"));
  ASSERT_FALSE(plan.is_ok());
  EXPECT_EQ(plan.status().code(), StatusCode::kBadGateway);
  EXPECT_TRUE(contains(plan.status().message(), "timed out after 300 ms"))
      << plan.status().message();
  EXPECT_EQ(server.calls()["calls"], 1);
}

TEST(HttpPlanner, CancelAllAbortsACallInProgressAndRefusesLaterCalls) {
  std::atomic<bool> asked{false};
  std::atomic<bool> closed_by_planner{false};
  ScriptedPeer peer([&](int fd, int) {
    if (!ScriptedPeer::read_request(fd)) return;
    asked = true;
    pollfd p{fd, POLLIN, 0};  // never answers; waits (bounded) for the planner to close
    char byte = 0;
    if (::poll(&p, 1, 30'000) == 1 && ::read(fd, &byte, 1) == 0) closed_by_planner = true;
  });
  // Timeout 60 s: only cancel_all() can end this call as kUnavailable.
  auto planner = http_planner("http://127.0.0.1:" + std::to_string(peer.port()) + "/plan",
                              /*timeout_ms=*/60'000);
  Result<std::string> plan = Status::internal("not run");
  std::thread caller([&] { plan = planner->plan(request_for("g")); });
  for (int i = 0; i < 1000 && !asked; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_TRUE(asked) << "the request did not arrive";
  planner->cancel_all();
  caller.join();
  ASSERT_FALSE(plan.is_ok());
  EXPECT_EQ(plan.status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(contains(plan.status().message(), "the server is stopping"))
      << plan.status().message();
  EXPECT_EQ(planner->plan(request_for("h")).status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(peer.accepted(), 1) << "a cancelled planner opens no connection";
  for (int i = 0; i < 1000 && !closed_by_planner; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_TRUE(closed_by_planner) << "cancel_all() closed the connection";
}

TEST(HttpPlanner, GarbageAnswerIsBadGateway) {
  ExamplePlannerServer server({"--mode", "garbage", "--delay-ms", "0"});
  auto planner = http_planner(server.url());
  Result<std::string> plan = planner->plan(request_for("g"));
  ASSERT_FALSE(plan.is_ok());
  EXPECT_EQ(plan.status().code(), StatusCode::kBadGateway);
  EXPECT_TRUE(contains(plan.status().message(), "planner answered with invalid JSON: "))
      << plan.status().message();
  EXPECT_TRUE(contains(plan.status().message(), "this is not JSON")) << plan.status().message();
}

TEST(HttpPlanner, ErrorStatusIsBadGatewayWithStatusAndBodyAndNotRetried) {
  ExamplePlannerServer server({"--mode", "fail", "--delay-ms", "0"});
  auto planner = http_planner(server.url(), 10'000, /*max_retries=*/2);
  Result<std::string> plan = planner->plan(request_for("g"));
  ASSERT_FALSE(plan.is_ok());
  EXPECT_EQ(plan.status().code(), StatusCode::kBadGateway);
  EXPECT_TRUE(contains(plan.status().message(), "HTTP 500")) << plan.status().message();
  EXPECT_TRUE(contains(plan.status().message(), "failed on purpose")) << plan.status().message();
  EXPECT_EQ(server.calls()["calls"], 1);
}

TEST(HttpPlanner, AnswerLargerThanTheLimitIsBadGateway) {
  ExamplePlannerServer server({"--delay-ms", "0", "--pad-bytes", "200000"});
  HttpPlannerOptions options;
  options.url = server.url();
  options.max_answer_bytes = 100'000;
  auto planner = std::move(new_http_planner(options)).value();
  Result<std::string> plan = planner->plan(request_for("g"));
  ASSERT_FALSE(plan.is_ok());
  EXPECT_EQ(plan.status().code(), StatusCode::kBadGateway);
  EXPECT_TRUE(contains(plan.status().message(), "larger than 100000 bytes"))
      << plan.status().message();
}

TEST(HttpPlanner, ContentLengthOverTheLimitIsRefusedBeforeTheBody) {
  // The header and the first body bytes arrive together, the rest never:
  // only refusing the Content-Length fails this call before its 30 s timeout.
  ScriptedPeer peer([](int fd, int) {
    if (!ScriptedPeer::read_request(fd)) return;
    const std::string head = "HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n{\"tasks\":";
    if (::send(fd, head.data(), head.size(), MSG_NOSIGNAL) < 0) return;
    pollfd p{fd, POLLIN, 0};  // waits (bounded) for the planner to close
    ::poll(&p, 1, 30'000);
  });
  HttpPlannerOptions options;
  options.url = "http://127.0.0.1:" + std::to_string(peer.port()) + "/plan";
  options.timeout_ms = 30'000;
  options.max_answer_bytes = 1000;
  auto planner = std::move(new_http_planner(options)).value();
  Result<std::string> plan = planner->plan(request_for("g"));
  ASSERT_FALSE(plan.is_ok());
  EXPECT_EQ(plan.status().code(), StatusCode::kBadGateway);
  EXPECT_TRUE(contains(plan.status().message(), "answer larger than 1000 bytes"))
      << plan.status().message();
  EXPECT_EQ(peer.accepted(), 1) << "a refused answer is not retried";
}

TEST(HttpPlanner, ClosesEverySocketWhenDestroyed) {
  ExamplePlannerServer server({"--delay-ms", "0"});
  const int before = testing::open_fd_count();
  {
    auto planner = http_planner(server.url());
    std::vector<std::thread> threads;
    for (int t = 0; t < 3; ++t) {
      threads.emplace_back([&] { EXPECT_TRUE(planner->plan(request_for("g")).is_ok()); });
    }
    for (auto& thread : threads) thread.join();
    EXPECT_GT(testing::open_fd_count(), before) << "idle connections are kept for reuse";
  }
  EXPECT_EQ(testing::open_fd_count(), before);
}

// The planner's eviction hint rides on a response header beside the plan
// (the body stays the plan itself); a value it does not know is the
// planner's error, 502.
TEST(HttpPlanner, PriorityHeaderIsTheHint) {
  ScriptedPeer peer([](int fd, int) {
    const char* headers[] = {"Plancache-Priority: important\r\n",
                             "plancache-priority: temporary\r\n", "",
                             "Plancache-Priority: urgent\r\n"};
    for (const char* h : headers) {
      if (!ScriptedPeer::read_request(fd)) return;
      ScriptedPeer::answer(fd, R"({"steps":[1]})", h);
    }
  });
  auto planner = http_planner("http://127.0.0.1:" + std::to_string(peer.port()) + "/plan");
  for (EntryPriority want :
       {EntryPriority::kImportant, EntryPriority::kTemporary, EntryPriority::kNormal}) {
    Result<PlannerAnswer> answer = planner->plan_with_hints(request_for("g"));
    ASSERT_TRUE(answer.is_ok()) << answer.status().to_string();
    EXPECT_EQ(answer->plan, R"({"steps":[1]})");
    EXPECT_EQ(answer->priority, want);
  }
  Result<PlannerAnswer> bad = planner->plan_with_hints(request_for("g"));
  ASSERT_FALSE(bad.is_ok());
  EXPECT_EQ(bad.status().code(), StatusCode::kBadGateway);
  EXPECT_TRUE(contains(bad.status().message(), "Plancache-Priority")) << bad.status().to_string();
  EXPECT_TRUE(contains(bad.status().message(), "urgent")) << bad.status().to_string();
}

}  // namespace
}  // namespace plancache::internal

// The command planner against the real examples/planner.py --stdin and small
// shell commands: answers, exit codes, timeouts that kill the whole process
// group, the concurrency bound, and no zombies or leaked descriptors.
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>
#include <vector>

#include "planner/planner.h"
#include "planner_test_support.h"

namespace plancache::internal {
namespace {

using testing::TempDir;

std::string example_command(const std::string& args) {
  return std::string(testing::kPython) + " " + testing::example_planner() + " --stdin " + args;
}

std::unique_ptr<Planner> command_planner(const std::string& command, uint32_t timeout_ms = 10'000,
                                         uint32_t max_concurrent = 8,
                                         uint64_t max_answer_bytes = 64ull << 20) {
  CommandPlannerOptions options;
  options.command = command;
  options.timeout_ms = timeout_ms;
  options.max_concurrent = max_concurrent;
  options.max_answer_bytes = max_answer_bytes;
  Result<std::unique_ptr<Planner>> made = new_command_planner(options);
  EXPECT_TRUE(made.is_ok()) << made.status().to_string();
  return made.is_ok() ? std::move(made).value() : nullptr;
}

using testing::contains;
using testing::request_for;

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) lines.push_back(line);
  }
  return lines;
}

pid_t pid_in(const std::string& path) {
  const std::string text = testing::read_text(path);
  return text.empty() ? -1 : static_cast<pid_t>(std::stol(text));
}

TEST(CommandPlanner, AnswerIsTheExamplePlanAndTheCallIsRecorded) {
  TempDir dir;
  auto planner = command_planner(example_command("--delay-ms 0 --calls-file " + dir.file("calls")));
  PlanRequest request = request_for("Write the docs", "docs");
  request.context_json = R"({"audience":"ops"})";
  Result<std::string> plan = planner->plan(request);
  ASSERT_TRUE(plan.is_ok()) << plan.status().to_string();
  const nlohmann::json parsed = nlohmann::json::parse(*plan);
  EXPECT_EQ(parsed["goal"], "Write the docs");
  EXPECT_EQ(parsed["namespace"], "docs");
  EXPECT_EQ(parsed["planner"], "example");
  EXPECT_EQ(parsed.dump(), *plan);
  EXPECT_EQ(lines_of(testing::read_text(dir.file("calls"))).size(), 1u);
}

TEST(CommandPlanner, StdinCarriesTheWholeRequest) {
  auto planner = command_planner("wc -c");  // answers the byte count: a JSON number
  const PlanRequest request = request_for(std::string(300'000, 'g'));
  Result<std::string> plan = planner->plan(request);
  ASSERT_TRUE(plan.is_ok()) << plan.status().to_string();
  EXPECT_EQ(*plan, std::to_string(planner_request_body(request).size()));
}

TEST(CommandPlanner, CommandThatIgnoresStdinStillAnswers) {
  auto planner = command_planner(R"(echo '{"ignored":"stdin"}')");
  for (int i = 0; i < 5; ++i) {  // our write may meet a closed pipe: EPIPE, never SIGPIPE
    Result<std::string> plan = planner->plan(request_for(std::string(200'000, 'x')));
    ASSERT_TRUE(plan.is_ok()) << plan.status().to_string();
    EXPECT_EQ(*plan, R"({"ignored":"stdin"})");
  }
}

TEST(CommandPlanner, TimeoutKillsTheWholeProcessGroup) {
  TempDir dir;
  // The shell records its pid and a background child's, then becomes the
  // hanging example planner (exec keeps the pid).
  auto planner = command_planner("sleep 600 & echo $! > " + dir.file("bg") + "; echo $$ > " +
                                     dir.file("pid") + "; exec " + example_command("--mode hang"),
                                 /*timeout_ms=*/300);
  Result<std::string> plan = planner->plan(request_for("g"));
  ASSERT_FALSE(plan.is_ok());
  EXPECT_EQ(plan.status().code(), StatusCode::kBadGateway);
  EXPECT_TRUE(contains(plan.status().message(), planner->describe() + ": timed out after 300 ms"))
      << plan.status().message();
  const pid_t pid = pid_in(dir.file("pid"));
  const pid_t bg = pid_in(dir.file("bg"));
  ASSERT_GT(pid, 0) << "the command did not start within its timeout";
  ASSERT_GT(bg, 0);
  EXPECT_TRUE(testing::process_gone(pid)) << "the planner process was reaped";
  EXPECT_TRUE(testing::wait_process_gone(bg)) << "the background child was killed too";
}

TEST(CommandPlanner, CancelAllKillsARunningCommandAndRefusesLaterCalls) {
  TempDir dir;
  // Timeout 60 s: only cancel_all() can end this call as kUnavailable.
  auto planner = command_planner("echo $$ > " + dir.file("pid") + "; exec sleep 600",
                                 /*timeout_ms=*/60'000);
  Result<std::string> plan = Status::internal("not run");
  std::thread caller([&] { plan = planner->plan(request_for("g")); });
  for (int i = 0; i < 1000 && pid_in(dir.file("pid")) <= 0; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const pid_t pid = pid_in(dir.file("pid"));
  ASSERT_GT(pid, 0) << "the command did not start";
  planner->cancel_all();
  caller.join();
  ASSERT_FALSE(plan.is_ok());
  EXPECT_EQ(plan.status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(contains(plan.status().message(), "the server is stopping"))
      << plan.status().message();
  EXPECT_TRUE(testing::process_gone(pid)) << "the command was killed and reaped";
  Result<std::string> later = planner->plan(request_for("h"));
  EXPECT_EQ(later.status().code(), StatusCode::kUnavailable);
}

TEST(CommandPlanner, LeftoversOfAFinishedCommandAreKilledAndDoNotHoldTheAnswer) {
  TempDir dir;
  // `sleep` keeps the stdout pipe open; the answer must not wait for it.
  auto planner = command_planner("sleep 600 & echo $! > " + dir.file("bg") + R"(; echo '{"ok":1}')",
                                 /*timeout_ms=*/20'000);
  Result<std::string> plan = planner->plan(request_for("g"));
  ASSERT_TRUE(plan.is_ok()) << plan.status().to_string();
  EXPECT_EQ(*plan, R"({"ok":1})");
  const pid_t bg = pid_in(dir.file("bg"));
  ASSERT_GT(bg, 0);
  EXPECT_TRUE(testing::wait_process_gone(bg));
}

TEST(CommandPlanner, NonZeroExitIsBadGatewayWithCodeAndStderr) {
  auto planner = command_planner(example_command("--mode fail --delay-ms 0"));
  Result<std::string> plan = planner->plan(request_for("g"));
  ASSERT_FALSE(plan.is_ok());
  EXPECT_EQ(plan.status().code(), StatusCode::kBadGateway);
  EXPECT_TRUE(contains(plan.status().message(), "exited with code 1: ")) << plan.status().message();
  EXPECT_TRUE(contains(plan.status().message(), "failed on purpose")) << plan.status().message();

  auto missing = command_planner("no-such-planner-command-here");
  Result<std::string> none = missing->plan(request_for("g"));
  ASSERT_FALSE(none.is_ok());
  EXPECT_TRUE(contains(none.status().message(), "exited with code 127")) << none.status().message();
}

TEST(CommandPlanner, KilledBySignalIsBadGateway) {
  auto planner = command_planner("echo dying >&2; kill -TERM $$");
  Result<std::string> plan = planner->plan(request_for("g"));
  ASSERT_FALSE(plan.is_ok());
  EXPECT_TRUE(contains(plan.status().message(), "killed by signal 15: dying"))
      << plan.status().message();
}

TEST(CommandPlanner, GarbageAnswerIsBadGateway) {
  auto planner = command_planner(example_command("--mode garbage --delay-ms 0"));
  Result<std::string> plan = planner->plan(request_for("g"));
  ASSERT_FALSE(plan.is_ok());
  EXPECT_EQ(plan.status().code(), StatusCode::kBadGateway);
  EXPECT_TRUE(contains(plan.status().message(), "planner answered with invalid JSON: "))
      << plan.status().message();
}

TEST(CommandPlanner, AnswerLargerThanTheLimitKillsTheCommand) {
  TempDir dir;
  auto planner = command_planner("echo $$ > " + dir.file("pid") + "; exec yes",
                                 /*timeout_ms=*/20'000, 8, /*max_answer_bytes=*/100'000);
  Result<std::string> plan = planner->plan(request_for("g"));
  ASSERT_FALSE(plan.is_ok());
  EXPECT_EQ(plan.status().code(), StatusCode::kBadGateway);
  EXPECT_TRUE(contains(plan.status().message(), "larger than 100000 bytes (command killed)"))
      << plan.status().message();
  const pid_t pid = pid_in(dir.file("pid"));
  ASSERT_GT(pid, 0);
  EXPECT_TRUE(testing::process_gone(pid));

  auto padded = command_planner(example_command("--delay-ms 0 --pad-bytes 200000"), 20'000, 8,
                                100'000);
  EXPECT_EQ(padded->plan(request_for("g")).status().code(), StatusCode::kBadGateway);
}

TEST(CommandPlanner, NoMoreThanMaxConcurrentRunAtOnce) {
  TempDir dir;
  constexpr int kCalls = 6;
  auto planner = command_planner(example_command("--delay-ms 150 --calls-file " + dir.file("calls")),
                                 20'000, /*max_concurrent=*/2);
  std::vector<std::thread> threads;
  std::vector<int> ok(kCalls, 0);
  for (int i = 0; i < kCalls; ++i) {
    threads.emplace_back([&, i] { ok[i] = planner->plan(request_for("g" + std::to_string(i))).is_ok(); });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(std::count(ok.begin(), ok.end(), 1), kCalls);
  // Each line holds one run's [start, end] (monotonic clock, shared by all
  // processes). A slot is released only after its run exited, so with two
  // slots no instant lies inside three runs.
  std::vector<std::pair<double, double>> runs;
  for (const std::string& line : lines_of(testing::read_text(dir.file("calls")))) {
    const nlohmann::json call = nlohmann::json::parse(line);
    runs.emplace_back(call["start"].get<double>(), call["end"].get<double>());
  }
  ASSERT_EQ(runs.size(), static_cast<size_t>(kCalls));
  for (const auto& run : runs) {
    const double start = run.first;
    const auto running = std::count_if(runs.begin(), runs.end(), [&](const auto& other) {
      return other.first <= start && start <= other.second;
    });
    EXPECT_LE(running, 2) << "more than max_concurrent commands ran at once";
  }
}

TEST(CommandPlanner, LeavesNoZombiesAndNoDescriptors) {
  const int before = testing::open_fd_count();
  {
    auto planner = command_planner(R"(cat >/dev/null; echo '{"n":1}')", 10'000, 3);
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t) {
      threads.emplace_back([&] {
        for (int i = 0; i < 5; ++i) EXPECT_TRUE(planner->plan(request_for("g")).is_ok());
      });
    }
    for (auto& thread : threads) thread.join();
  }
  EXPECT_EQ(testing::open_fd_count(), before);
  EXPECT_TRUE(testing::has_no_children());
}

}  // namespace
}  // namespace plancache::internal

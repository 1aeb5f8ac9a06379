// The planner request document, answer normalisation, URL parsing and the
// factories' argument checks: no processes, no sockets.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "planner/planner.h"
#include "planner/planner_json.h"
#include "planner/planner_url.h"

namespace plancache::internal {
namespace {

TEST(PlannerRequestBody, HasGoalContextNamespaceInThatOrder) {
  PlanRequest request;
  request.goal = "Deploy \"the\" app";
  request.context_json = R"({"env":"prod","n":[1,2]})";
  request.ns = "docs";
  EXPECT_EQ(planner_request_body(request),
            R"({"goal":"Deploy \"the\" app","context":{"env":"prod","n":[1,2]},"namespace":"docs"})");
}

TEST(PlannerRequestBody, AnIncrementalRequestCarriesItsMemberLast) {
  PlanRequest request;
  request.goal = "g";
  request.incremental_json =
      R"({"previous":{"goal":"g","context":null,"plan":[1]},"changes":[],"impact":0})";
  EXPECT_EQ(planner_request_body(request),
            R"({"goal":"g","context":null,"namespace":"default","incremental":)"
            R"({"previous":{"goal":"g","context":null,"plan":[1]},"changes":[],"impact":0}})");
}

TEST(PlannerRequestBody, DefaultsAndBrokenContextGiveNull) {
  PlanRequest request;
  request.goal = "g";
  EXPECT_EQ(planner_request_body(request), R"({"goal":"g","context":null,"namespace":"default"})");
  request.context_json = "{not json";
  EXPECT_EQ(planner_request_body(request), R"({"goal":"g","context":null,"namespace":"default"})");
}

TEST(PlannerAnswer, IsReserialisedCompactly) {
  Result<std::string> answer = normalize_planner_answer(" {\n \"tasks\" : [ 1 , 2 ] }\n", "p");
  ASSERT_TRUE(answer.is_ok()) << answer.status().to_string();
  EXPECT_EQ(*answer, R"({"tasks":[1,2]})");
}

TEST(PlannerAnswer, InvalidJsonIsBadGatewayNamingThePlanner) {
  for (const char* text : {"", "not json", "{\"a\":", "{} trailing", "\"\xff\""}) {
    Result<std::string> answer = normalize_planner_answer(text, "command 'x'");
    ASSERT_FALSE(answer.is_ok()) << text;
    EXPECT_EQ(answer.status().code(), StatusCode::kBadGateway);
    EXPECT_EQ(answer.status().message().rfind("command 'x': planner answered with invalid JSON: ", 0),
              0u)
        << answer.status().message();
  }
}

TEST(PlannerAnswer, TooDeepIsRejected) {
  const std::string deep = std::string(1000, '[') + std::string(1000, ']');
  EXPECT_EQ(normalize_planner_answer(deep, "p").status().code(), StatusCode::kBadGateway);
}

TEST(Excerpt, TrimsEscapesAndCuts) {
  EXPECT_EQ(excerpt("  \n"), "(empty)");
  EXPECT_EQ(excerpt("\n line one\nline two \n"), "line one line two");
  EXPECT_EQ(excerpt("abcdef", 3), "abc...");
  EXPECT_EQ(excerpt("a\x01z"), "a\\x01z");
}

TEST(PlannerUrl, AcceptsHostPortAndPath) {
  struct Case {
    const char* text;
    const char* host;
    uint16_t port;
    const char* target;
    const char* canonical;
  };
  const Case cases[] = {
      {"http://127.0.0.1:9000/plan", "127.0.0.1", 9000, "/plan", "http://127.0.0.1:9000/plan"},
      {"http://planner", "planner", 80, "/", "http://planner:80/"},
      {"HTTP://h:1/a/b?model=x", "h", 1, "/a/b?model=x", "http://h:1/a/b?model=x"},
      {"http://[::1]:8080/p", "::1", 8080, "/p", "http://[::1]:8080/p"},
      {"http://h?q=1", "h", 80, "/?q=1", "http://h:80/?q=1"},
  };
  for (const Case& c : cases) {
    Result<PlannerUrl> url = parse_planner_url(c.text);
    ASSERT_TRUE(url.is_ok()) << c.text << ": " << url.status().to_string();
    EXPECT_EQ(url->host, c.host);
    EXPECT_EQ(url->port, c.port);
    EXPECT_EQ(url->target, c.target);
    EXPECT_EQ(url->to_string(), c.canonical);
  }
}

TEST(PlannerUrl, RejectsWhatItDoesNotSpeak) {
  const std::pair<const char*, const char*> cases[] = {
      {"https://h/plan", "https is not supported"},
      {"ftp://h", "unsupported scheme 'ftp'"},
      {"h:80/plan", "missing scheme"},
      {"http://", "missing host"},
      {"http://:80", "missing host"},
      {"http://h:0", "port must be"},
      {"http://h:99999", "port must be"},
      {"http://h:x", "port must be"},
      {"http://user:pw@h", "user info"},
      {"http://h/p#frag", "fragments"},
      {"http://h/a b", "whitespace"},
      {"http://[::1", "unterminated"},
      {"", "empty"},
  };
  for (const auto& [text, problem] : cases) {
    Result<PlannerUrl> url = parse_planner_url(text);
    ASSERT_FALSE(url.is_ok()) << text;
    EXPECT_EQ(url.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(url.status().message().find(problem), std::string::npos)
        << text << " -> " << url.status().message();
  }
}

TEST(PlannerFactories, ValidateTheirOptions) {
  HttpPlannerOptions http;
  http.url = "https://h/plan";
  EXPECT_EQ(new_http_planner(http).status().code(), StatusCode::kInvalidArgument);
  http.url = "http://127.0.0.1:9/plan";
  http.timeout_ms = 0;
  EXPECT_EQ(new_http_planner(http).status().code(), StatusCode::kInvalidArgument);
  http.timeout_ms = 10;
  Result<std::unique_ptr<Planner>> made = new_http_planner(http);
  ASSERT_TRUE(made.is_ok());
  EXPECT_EQ((*made)->describe(), "http://127.0.0.1:9/plan");

  CommandPlannerOptions command;
  EXPECT_EQ(new_command_planner(command).status().code(), StatusCode::kInvalidArgument);
  command.command = "cat";
  command.max_concurrent = 0;
  EXPECT_EQ(new_command_planner(command).status().code(), StatusCode::kInvalidArgument);
  command.max_concurrent = 1;
  Result<std::unique_ptr<Planner>> made_command = new_command_planner(command);
  ASSERT_TRUE(made_command.is_ok());
  EXPECT_EQ((*made_command)->describe(), "command 'cat'");
}

}  // namespace
}  // namespace plancache::internal

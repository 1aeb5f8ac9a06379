#include "cli/command_support.h"

#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>

namespace plancache::cli {

void add_client_flags(CLI::App& cmd, ClientFlags* flags) {
  cmd.add_option("--server", flags->server,
                 "URL of the plancache server (env PLANCACHE_SERVER; default " +
                     std::string(kDefaultServer) + ")")
      ->option_text("URL");
  cmd.add_option("--token", flags->token,
                 "bearer token sent as 'Authorization: Bearer TOKEN' (env PLANCACHE_TOKEN)")
      ->option_text("TOKEN");
  cmd.add_option("--timeout-s", flags->timeout_s,
                 "give up on the server after this many seconds (default 10)")
      ->check(CLI::PositiveNumber)
      ->option_text("SECONDS");
}

Result<Client> Client::create(const ClientFlags& flags, const EnvLookup& env) {
  std::string server = flags.server;
  if (server.empty()) server = env("PLANCACHE_SERVER").value_or(std::string(kDefaultServer));
  std::string token = flags.token;
  if (token.empty()) token = env("PLANCACHE_TOKEN").value_or("");
  if (token.find_first_of("\r\n") != std::string::npos) {
    return Status::invalid_argument("the token must not contain line breaks");
  }
  Result<ServerUrl> url = parse_server_url(server);
  if (!url.is_ok()) return url.status();
  if (!std::isfinite(flags.timeout_s) || flags.timeout_s <= 0 || flags.timeout_s > 86'400) {
    return Status::invalid_argument("--timeout-s must be between 0 and 86400 seconds");
  }
  const auto timeout = std::chrono::milliseconds(
      std::max<int64_t>(1, static_cast<int64_t>(std::llround(flags.timeout_s * 1000))));
  return Client(HttpClient(std::move(url).value(), timeout), std::move(token));
}

HttpRequest Client::make_request(HttpMethod method, std::string path,
                            const nlohmann::json& body) const {
  return raw_request(method, std::move(path), body.is_null() ? std::string() : body.dump());
}

HttpRequest Client::raw_request(HttpMethod method, std::string path, std::string body) const {
  HttpRequest request;
  request.method = method;
  request.path = std::move(path);
  request.body = std::move(body);
  request.bearer_token = token_;
  return request;
}

bool stderr_is_terminal(const std::ostream& stream) {
  return &stream == &std::cerr && ::isatty(STDERR_FILENO) == 1;
}

std::optional<Answer> Client::call(HttpMethod method, std::string path,
                                   const nlohmann::json& body, std::ostream& err) const {
  return to_answer(http_.send(make_request(method, std::move(path), body)), err);
}

std::optional<Answer> Client::call(HttpConnection& connection, HttpMethod method,
                                   std::string path, const nlohmann::json& body,
                                   std::ostream& err) const {
  return to_answer(connection.send(make_request(method, std::move(path), body)), err);
}

std::optional<Answer> Client::to_answer(Result<HttpResponse> response, std::ostream& err) const {
  if (!response.is_ok()) {
    err << "cannot reach plancache server at " << http_.url().to_string() << ": "
        << response.status().message() << "\n";
    return std::nullopt;
  }
  Answer answer;
  answer.status = response->status;
  answer.raw = std::move(response->body);
  answer.body = nlohmann::json::parse(answer.raw, nullptr, /*allow_exceptions=*/false);
  if (answer.body.is_discarded()) answer.body = nullptr;
  return answer;
}

int report_server_error(const Answer& answer, std::ostream& err) {
  const nlohmann::json* error = nullptr;
  if (answer.body.is_object()) {
    auto it = answer.body.find("error");
    if (it != answer.body.end() && it->is_object()) error = &*it;
  }
  if (error != nullptr) {
    const std::string code = error->value("code", std::string("unknown"));
    const std::string message = error->value("message", std::string());
    err << "error: " << code << ": " << message << "\n";
    return kExitFailure;
  }
  std::string snippet = answer.raw.substr(0, 200);
  err << "error: the server answered HTTP " << answer.status;
  if (!snippet.empty()) err << ": " << snippet;
  err << "\n";
  return kExitFailure;
}

int usage_error(std::ostream& err, std::string_view cmd, std::string_view problem) {
  err << "error: " << problem << "\nRun 'plancache " << cmd
      << (cmd.empty() ? "" : " ") << "--help' for more information.\n";
  return kExitUsage;
}

Result<nlohmann::json> parse_json_text(std::string_view text, std::string_view what) {
  try {
    return nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error& e) {
    // e.what() = "[json.exception.parse_error.101] parse error at line 1, ...".
    std::string reason = e.what();
    const size_t bracket = reason.find("] ");
    if (bracket != std::string::npos) reason.erase(0, bracket + 2);
    return Status::invalid_argument(std::string(what) + " is not valid JSON: " + reason);
  }
}

Result<nlohmann::json> read_json_file(const std::string& path, std::istream& in) {
  std::string text;
  if (path == "-") {
    text.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    if (in.bad()) return Status::invalid_argument("cannot read the plan from standard input");
    return parse_json_text(text, "the plan read from standard input");
  }
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    return Status::invalid_argument("cannot open plan file '" + path +
                                    "': " + std::strerror(errno));
  }
  std::ostringstream buffer;
  buffer << file.rdbuf();
  if (file.bad()) return Status::invalid_argument("cannot read plan file '" + path + "'");
  return parse_json_text(buffer.str(), "plan file '" + path + "'");
}

}  // namespace plancache::cli

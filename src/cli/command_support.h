// What the client commands share: the --server/--token/--timeout-s flags, a
// Client that sends JSON to the server and reports failures the same way
// everywhere, and the helpers that phrase usage errors.
//
// Message formats (stable; tests and scripts match them):
//   usage:       "error: <problem>\nRun 'plancache <cmd> --help' for more information."
//   server:      "error: <code>: <message>"        (from {"error":{code,message}})
//   unreachable: "cannot reach plancache server at <url>: <reason>"
//
// Thread-safety: Client is immutable after create(); call() is const.
#pragma once

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

#include "cli/cli.h"
#include "cli/http_client.h"
#include "plancache/status.h"

namespace plancache::cli {

inline constexpr std::string_view kDefaultServer = "http://127.0.0.1:8080";

// A subcommand as registered on the root app: CLI11 fills its flags while
// parsing, then run() executes it if it was the one selected.
struct Command {
  CLI::App* app = nullptr;  // owned by the root CLI::App
  std::function<int(const CliIo&)> run;
};

// Flags of every client command. Precedence: flag, then the env var
// (PLANCACHE_SERVER, PLANCACHE_TOKEN), then the default.
struct ClientFlags {
  std::string server;      // Default: kDefaultServer
  std::string token;       // Default: none (no Authorization header)
  double timeout_s = 10;   // whole-exchange timeout. Default: 10 s
};

void add_client_flags(CLI::App& cmd, ClientFlags* flags);

// A server's answer: the status and the body parsed as JSON (discarded when
// the body is empty or not JSON; `raw` keeps the bytes).
struct Answer {
  int status = 0;
  nlohmann::json body;
  std::string raw;
  bool ok() const { return status >= 200 && status < 300; }
};

class Client {
 public:
  // Resolves the flags against `env`; an invalid URL or token gives
  // kInvalidArgument naming the problem.
  static Result<Client> create(const ClientFlags& flags, const EnvLookup& env);

  // Sends `body` (omitted when null) to `path`. Returns any answer, 2xx or
  // not. On a transport failure prints the "cannot reach" line on `err` and
  // returns nullopt (the command then exits kExitFailure).
  std::optional<Answer> call(HttpMethod method, std::string path, const nlohmann::json& body,
                             std::ostream& err) const;

  // A keep-alive connection to the server (HttpConnection), for a series of
  // calls from one thread.
  HttpConnection connect() const { return HttpConnection(http_); }

  // call() over `connection`, which stays open between calls.
  std::optional<Answer> call(HttpConnection& connection, HttpMethod method, std::string path,
                             const nlohmann::json& body, std::ostream& err) const;

  const ServerUrl& url() const { return http_.url(); }

  // The request call() sends, its body already JSON text ("" = none), for
  // a caller that sends it itself (`bench`: prebuilt bodies, no parsing).
  HttpRequest raw_request(HttpMethod method, std::string path, std::string body) const;

 private:
  Client(HttpClient http, std::string token) : http_(std::move(http)), token_(std::move(token)) {}

  HttpRequest make_request(HttpMethod method, std::string path, const nlohmann::json& body) const;
  std::optional<Answer> to_answer(Result<HttpResponse> response, std::ostream& err) const;

  HttpClient http_;
  std::string token_;
};

// Prints a non-2xx answer as "error: <code>: <message>" (or the HTTP status
// and body when the body is not the §3 error shape). Returns kExitFailure.
int report_server_error(const Answer& answer, std::ostream& err);

// true when `stream` is the process's std::cerr and that is a terminal
// (tests pass string streams): where progress bars are drawn.
bool stderr_is_terminal(const std::ostream& stream);

// Prints a usage error for command `cmd` and returns kExitUsage.
int usage_error(std::ostream& err, std::string_view cmd, std::string_view problem);

// Parses `text` as JSON. On failure returns kInvalidArgument:
// "<what> is not valid JSON: parse error at line L, column C: <reason>".
Result<nlohmann::json> parse_json_text(std::string_view text, std::string_view what);

// Reads `path` ("-" = `in`) and parses it as JSON; errors name the file.
Result<nlohmann::json> read_json_file(const std::string& path, std::istream& in);

}  // namespace plancache::cli

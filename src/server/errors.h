// How a Status becomes an HTTP answer: the one table mapping StatusCode to an
// HTTP status, and the error body {"error":{"code":"...","message":"..."}}
// that every 4xx / 5xx of the server carries (SPEC §3).
//
// Thread-safety: pure functions.
#pragma once

// clang-format off
#include <ostream>  // first: Boost 1.74's boost/utility/string_view.hpp needs it
// clang-format on

#include <boost/beast/http/status.hpp>
#include <string>
#include <string_view>

#include "plancache/status.h"

namespace plancache::internal {

// invalid_argument → 400, not_found → 404, failed_precondition → 409,
// resource_exhausted → 413, unavailable → 503, ... (see errors.cc).
// REQUIRES: code != kOk.
boost::beast::http::status http_status_for(StatusCode code);

// {"error":{"code":"<status_code_name>","message":"<message>"}}. `code` is
// usually status_code_name(); the HTTP layer uses a few names of its own
// ("method_not_allowed", "header_too_large") where no StatusCode fits.
std::string error_body(std::string_view code, std::string_view message);
inline std::string error_body(const Status& status) {
  return error_body(status_code_name(status.code()), status.message());
}

// `text` as a JSON string literal, quotes included. Bytes that are not valid
// UTF-8 are replaced (U+FFFD) so that the output is always valid JSON.
std::string json_quote(std::string_view text);
void append_json_quoted(std::string& out, std::string_view text);

}  // namespace plancache::internal

#include "server/errors.h"

#include <nlohmann/json.hpp>

namespace plancache::internal {

namespace http = boost::beast::http;

http::status http_status_for(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return http::status::ok;
    case StatusCode::kInvalidArgument:
      return http::status::bad_request;
    case StatusCode::kNotFound:
      return http::status::not_found;
    case StatusCode::kFailedPrecondition:
      return http::status::conflict;
    case StatusCode::kResourceExhausted:
      return http::status::payload_too_large;
    case StatusCode::kUnavailable:
      return http::status::service_unavailable;
    case StatusCode::kDeadlineExceeded:
      return http::status::gateway_timeout;
    case StatusCode::kDataLoss:
      return http::status::internal_server_error;
    case StatusCode::kUnauthenticated:
      return http::status::unauthorized;
    case StatusCode::kPermissionDenied:
      return http::status::forbidden;
    case StatusCode::kBadGateway:
      return http::status::bad_gateway;
    case StatusCode::kInternal:
      return http::status::internal_server_error;
  }
  return http::status::internal_server_error;
}

std::string json_quote(std::string_view text) {
  return nlohmann::json(std::string(text))
      .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void append_json_quoted(std::string& out, std::string_view text) { out += json_quote(text); }

std::string error_body(std::string_view code, std::string_view message) {
  std::string out = R"({"error":{"code":)";
  append_json_quoted(out, code);
  out += R"(,"message":)";
  append_json_quoted(out, message);
  out += "}}";
  return out;
}

}  // namespace plancache::internal

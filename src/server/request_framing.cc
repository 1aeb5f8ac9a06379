#include "server/request_framing.h"

#include <boost/beast/core/string.hpp>
#include <boost/beast/http/rfc7230.hpp>
#include <string>
#include <vector>

namespace plancache::internal {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;

// The transfer codings of every Transfer-Encoding field, in order.
// False when a field is not a valid token list.
bool transfer_codings(const HttpRequest& head, std::vector<std::string>* codings) {
  for (auto it = head.find(http::field::transfer_encoding);
       it != head.end() && it->name() == http::field::transfer_encoding; ++it) {
    const http::opt_token_list list{it->value()};
    if (!http::validate_list(list)) return false;
    size_t before = codings->size();
    for (const auto& coding : list) codings->emplace_back(coding.data(), coding.size());
    if (codings->size() == before) return false;  // an empty field
  }
  return true;
}

std::string joined(const std::vector<std::string>& codings) {
  std::string out;
  for (const std::string& c : codings) {
    if (!out.empty()) out += ", ";
    out += c;
  }
  return out;
}

}  // namespace

Status check_request_framing(const HttpRequest& head) {
  if (head.version() >= 11) {
    const size_t hosts = head.count(http::field::host);
    if (hosts == 0) return Status::invalid_argument("HTTP/1.1 request without a Host header");
    if (hosts > 1) {
      return Status::invalid_argument("HTTP/1.1 request with " + std::to_string(hosts) +
                                      " Host headers (exactly one is allowed)");
    }
  }
  if (head.count(http::field::transfer_encoding) == 0) return Status::ok();
  std::vector<std::string> codings;
  if (!transfer_codings(head, &codings)) {
    return Status::invalid_argument("malformed Transfer-Encoding header");
  }
  if (head.version() < 11) {
    return Status::invalid_argument("Transfer-Encoding is not allowed in an HTTP/1.0 request");
  }
  if (codings.size() != 1 || !beast::iequals(codings.front(), "chunked")) {
    return Status::invalid_argument("unsupported Transfer-Encoding '" + joined(codings) +
                                    "': only 'chunked' is accepted");
  }
  return Status::ok();
}

}  // namespace plancache::internal

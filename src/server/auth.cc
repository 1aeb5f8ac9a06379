#include "server/auth.h"

#include <openssl/crypto.h>

#include <cctype>

#include "core/hashing.h"

namespace plancache::internal {
namespace {

namespace http = boost::beast::http;

// Compares digests rather than the tokens so that neither the content nor
// the length of the expected token leaks through timing.
bool token_equals(std::string_view given, std::string_view expected) {
  const std::string a = sha256_hex(given);
  const std::string b = sha256_hex(expected);
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

bool iequals_prefix(std::string_view text, std::string_view prefix) {
  if (text.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[i])) != prefix[i]) return false;
  }
  return true;
}

}  // namespace

Status authorize(Guard guard, const HttpRequest& req, const AuthTokens& tokens) {
  if (guard == Guard::kNone) return Status::ok();
  const bool admin_only = guard == Guard::kAdmin && !tokens.admin.empty();
  if (!admin_only && tokens.api.empty()) return Status::ok();

  const auto header = req.find(http::field::authorization);
  if (header == req.end()) {
    return Status::unauthenticated("missing 'Authorization: Bearer <token>' header");
  }
  const std::string_view value(header->value().data(), header->value().size());
  constexpr std::string_view kScheme = "bearer ";
  if (!iequals_prefix(value, kScheme) || value.size() == kScheme.size()) {
    return Status::unauthenticated("the Authorization header must be 'Bearer <token>'");
  }
  const std::string_view token = value.substr(kScheme.size());
  if (admin_only) {
    if (token_equals(token, tokens.admin)) return Status::ok();
    return Status::permission_denied("wrong admin token");
  }
  if (token_equals(token, tokens.api) ||
      (!tokens.admin.empty() && token_equals(token, tokens.admin))) {
    return Status::ok();
  }
  return Status::permission_denied("wrong API token");
}

}  // namespace plancache::internal

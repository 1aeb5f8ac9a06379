// Bearer-token checks for the admin and API tokens (SPEC §3).
//
// Thread-safety: pure function.
#pragma once

#include "plancache/status.h"
#include "server/handlers/handlers.h"
#include "server/router.h"

namespace plancache::internal {

// The two tokens (ServerConfig::admin_token, api_token); "" = none.
struct AuthTokens {
  std::string admin;
  std::string api;
};

// OK when `req` may reach a route guarded by `guard`:
//  - kNone: always;
//  - kAdmin: `Authorization: Bearer <admin_token>` when an admin token is
//    set, otherwise as kApi;
//  - kApi: when an API token is set, the API or the admin token.
// Errors: unauthenticated (401) without a bearer token, permission_denied
// (403) with a wrong one. Tokens are compared in constant time.
Status authorize(Guard guard, const HttpRequest& req, const AuthTokens& tokens);

}  // namespace plancache::internal

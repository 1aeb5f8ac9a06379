// Framing checks on a request head, made as soon as the head is parsed and
// before any of the body is read (RFC 9112 §3.2, §6.1, §6.3).
//
// Beast's parser treats a Transfer-Encoding whose last coding is not
// "chunked" (`xchunked`, `identity`, `chunked, gzip`) as "no body", so the
// body a client sent would be parsed as a second request: the classic
// request-smuggling desync when plancache sits behind a proxy that reads the
// same bytes differently. RFC 9112 §6.3 says such a request is answered 400
// and the connection closed; this check is where that is decided.
//
// Thread-safety: pure functions.
#pragma once

#include "plancache/status.h"
#include "server/handlers/handlers.h"

namespace plancache::internal {

// OK when `head` frames its body unambiguously:
//  - a Transfer-Encoding (all its fields together) is exactly "chunked"
//    (case-insensitive), and only in HTTP/1.1;
//  - an HTTP/1.1 request has exactly one Host field.
// Errors: invalid_argument naming the problem (answer 400 and close).
Status check_request_framing(const HttpRequest& head);

}  // namespace plancache::internal

// Strict UTF-8 validation shared by the key builder and the JSON canonicaliser.
//
// "Strict" is RFC 3629: no overlong forms, no UTF-16 surrogates
// (U+D800..U+DFFF), nothing above U+10FFFF. NUL (U+0000) is valid UTF-8;
// callers that forbid it check separately.
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace plancache::internal {

// Byte offset of the first byte that does not start a well-formed UTF-8
// sequence, or std::string_view::npos when `text` is entirely valid.
size_t find_invalid_utf8(std::string_view text);

inline bool is_valid_utf8(std::string_view text) {
  return find_invalid_utf8(text) == std::string_view::npos;
}

// `text` made safe to show in an error message: printable ASCII is kept,
// every other byte becomes "\xNN". At most `max_bytes` input bytes are shown
// (then "..."). Error messages end up in JSON responses, which must be UTF-8.
std::string printable_ascii(std::string_view text, size_t max_bytes = 80);

}  // namespace plancache::internal

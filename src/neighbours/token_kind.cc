// Piece classification. The rules run in a fixed order, most specific
// first: a url or email, a date, a version, a number, a path, a symbol, a
// plain word, and anything else that mixes letters with digits or marks is an
// identifier. The order only decides the kind (and so the name of a veto);
// the veto compares numbers by canonical value and everything else but words
// by exact text, so a misfiled piece is still compared strictly.
#include "neighbours/token_kind.h"

#include <algorithm>
#include <cstddef>

namespace plancache::internal {
namespace {

bool digit(char c) { return c >= '0' && c <= '9'; }
bool upper(char c) { return c >= 'A' && c <= 'Z'; }
bool lower(char c) { return c >= 'a' && c <= 'z'; }
bool alpha(char c) { return upper(c) || lower(c); }
bool non_ascii(char c) { return static_cast<unsigned char>(c) >= 0x80; }
bool alnum(char c) { return alpha(c) || digit(c) || non_ascii(c); }

size_t count_digits(std::string_view s, size_t i) {
  size_t n = 0;
  while (i + n < s.size() && digit(s[i + n])) ++n;
  return n;
}

size_t count_alpha(std::string_view s, size_t i) {
  size_t n = 0;
  while (i + n < s.size() && alpha(s[i + n])) ++n;
  return n;
}

bool is_url_or_email(std::string_view s) {
  if (s.find("://") != std::string_view::npos) return true;
  if (s.size() > 4 && (s.starts_with("www.") || s.starts_with("WWW."))) return true;
  const size_t at = s.find('@');
  if (at == std::string_view::npos || at == 0) return false;
  const size_t dot = s.find('.', at);
  return dot != std::string_view::npos && dot + 1 < s.size();
}

bool is_iso_date(std::string_view s) {
  return s.size() >= 10 && count_digits(s, 0) == 4 && s[4] == '-' && count_digits(s, 5) == 2 &&
         s[7] == '-' && count_digits(s, 8) == 2 && (s.size() == 10 || s[10] == 'T' || s[10] == 't');
}

// d/m/y, m/d/y or y/m/d with / . or - as the separator.
bool is_numeric_date(std::string_view s) {
  const size_t a = count_digits(s, 0);
  if (a == 0 || a > 4 || a == 3 || a >= s.size()) return false;
  const char sep = s[a];
  if (sep != '/' && sep != '.' && sep != '-') return false;
  const size_t b = count_digits(s, a + 1);
  if (b == 0 || b > 2 || a + 1 + b >= s.size() || s[a + 1 + b] != sep) return false;
  const size_t c = count_digits(s, a + 2 + b);
  if (a + 2 + b + c != s.size()) return false;
  // "1.2.10" is a version: a dot or dash date needs a four-digit year.
  if (sep != '/') return a == 4 || c == 4;
  return a == 4 || c == 2 || c == 4;
}

bool am_pm(std::string_view rest) {
  return rest == "am" || rest == "pm" || rest == "AM" || rest == "PM";
}

bool is_time(std::string_view s) {
  const size_t h = count_digits(s, 0);
  if (h == 0 || h > 2) return false;
  if (am_pm(s.substr(h))) return true;
  size_t i = h;
  for (int group = 0; group < 2 && i < s.size() && s[i] == ':'; ++group) {
    if (count_digits(s, i + 1) != 2) return false;
    i += 3;
  }
  return i > h && (i == s.size() || am_pm(s.substr(i)));
}

bool is_year(std::string_view s) {
  if (count_digits(s, 0) != 4 || (s.size() != 4 && s.substr(4) != "s")) return false;
  return (s[0] == '1' && s[1] == '9') || (s[0] == '2' && s[1] == '0');
}

// After the numeric part of a version: nothing, or a [-+.] tail ("-rc1").
bool version_tail(std::string_view rest) {
  return rest.empty() || ((rest[0] == '-' || rest[0] == '+' || rest[0] == '.') && rest.size() > 1 &&
                          alnum(rest[1]));
}

// Digit groups joined by dots from s[i]; returns the end, counts the dots.
size_t dotted_digits(std::string_view s, size_t i, int* dots) {
  *dots = 0;
  size_t n = count_digits(s, i);
  if (n == 0) return i;
  i += n;
  while (i + 1 < s.size() && s[i] == '.' && (n = count_digits(s, i + 1)) > 0) {
    i += 1 + n;
    ++*dots;
  }
  return i;
}

bool is_version(std::string_view s) {
  int dots = 0;
  if ((s[0] == 'v' || s[0] == 'V') && s.size() > 1 && digit(s[1])) {
    return version_tail(s.substr(dotted_digits(s, 1, &dots)));
  }
  if (digit(s[0])) {
    const size_t end = dotted_digits(s, 0, &dots);
    return dots == 2 && version_tail(s.substr(end));  // 4 groups is an IPv4 address
  }
  const size_t letters = count_alpha(s, 0);
  if (letters < 2) return false;
  const size_t end = dotted_digits(s, letters, &dots);
  return dots >= 1 && version_tail(s.substr(end));
}

// Length of a currency sign at the start of s ($ € £ ¥ ₹), or 0.
size_t currency_prefix(std::string_view s) {
  if (s.starts_with("$")) return 1;
  for (std::string_view sign : {"\u20ac", "\u00a3", "\u00a5", "\u20b9"}) {
    if (s.starts_with(sign)) return sign.size();
  }
  return 0;
}

bool is_number(std::string_view s) {
  size_t i = currency_prefix(s);
  if (i < s.size() && (s[i] == '+' || s[i] == '-') && i + 1 < s.size() && digit(s[i + 1])) ++i;
  if (i >= s.size() || !digit(s[i])) return false;
  int dots = 0;
  while (i < s.size()) {
    if (digit(s[i])) {
      ++i;
    } else if (s[i] == ',' && count_digits(s, i + 1) == 3 && dots == 0) {
      i += 4;  // a thousands group; "1,2,3" is a list, not 123
    } else if (s[i] == '.' && i + 1 < s.size() && digit(s[i + 1])) {
      if (++dots > 1) return false;  // 1.2.3.4 is not one number
      ++i;
    } else {
      break;
    }
  }
  const std::string_view suffix = s.substr(i);
  if (suffix.empty() || suffix == "%") return true;
  return suffix.size() <= 4 && count_alpha(suffix, 0) == suffix.size();
}

bool is_path(std::string_view s) {
  if (!std::any_of(s.begin(), s.end(), alnum)) return false;
  if (s[0] == '/' || s[0] == '\\' || s[0] == '~' || s.starts_with("./") || s.starts_with("../")) {
    return true;
  }
  if (s.size() > 2 && alpha(s[0]) && s[1] == ':' && (s[2] == '\\' || s[2] == '/')) return true;
  if (s.find_first_of("/\\") != std::string_view::npos) return true;
  if (s.size() > 1 && s[0] == '.' && alnum(s[1])) return true;  // a dotfile: .env
  const size_t dot = s.rfind('.');
  if (dot == std::string_view::npos || dot == 0 || !alnum(s[dot - 1])) return false;
  const std::string_view ext = s.substr(dot + 1);
  return !ext.empty() && ext.size() <= 6 && std::all_of(ext.begin(), ext.end(), alnum) &&
         std::any_of(ext.begin(), ext.end(), alpha);
}

bool is_plain_word(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    if (!(alpha(s[i]) || non_ascii(s[i]) || s[i] == '\'')) return false;
    if (i > 0 && lower(s[i - 1]) && upper(s[i])) return false;  // camelCase
  }
  return true;
}

}  // namespace

TokenKind classify_piece(std::string_view s) {
  if (is_url_or_email(s)) return TokenKind::kIdentifier;
  if (is_iso_date(s) || is_numeric_date(s) || is_time(s) || is_year(s)) return TokenKind::kDate;
  if (is_version(s)) return TokenKind::kVersion;
  if (is_number(s)) return TokenKind::kNumber;
  if (is_path(s)) return TokenKind::kPath;
  if (!std::any_of(s.begin(), s.end(), alnum)) return TokenKind::kSymbol;
  if (is_plain_word(s)) return TokenKind::kWord;
  return TokenKind::kIdentifier;
}

std::string canonical_number(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    const bool group_comma =
        c == ',' && i > 0 && digit(s[i - 1]) && i + 1 < s.size() && digit(s[i + 1]);
    if (group_comma) continue;
    out += upper(c) ? static_cast<char>(c - 'A' + 'a') : c;
  }
  return out;
}

}  // namespace plancache::internal

// Suffix rules of word_forms.h. They follow English spelling rules closely
// enough for goal text: "-es" only after a sibilant or "o" (boxes, patches,
// heroes; not notes → "not"), "-s" not after s/u/i/a/o (class, status,
// redis, alias, macos), "-ing"/"-ed" may have dropped a final "e"
// (configuring → configure) or doubled a consonant (running → run).
#include "neighbours/word_forms.h"

#include <algorithm>

#include "neighbours/lexicon.h"

namespace plancache::internal {
namespace {

bool is_lower_ascii_word(std::string_view w) {
  return std::all_of(w.begin(), w.end(), [](char c) { return c >= 'a' && c <= 'z'; });
}

bool is_vowel(char c) { return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u'; }

bool has_vowel(std::string_view w) {
  return std::any_of(w.begin(), w.end(), [](char c) { return is_vowel(c) || c == 'y'; });
}

// "runn" → "run": a doubled final consonant, as spelling adds before -ing/-ed.
bool doubled_consonant(std::string_view s) {
  const size_t n = s.size();
  return n >= 3 && s[n - 1] == s[n - 2] && !is_vowel(s[n - 1]);
}

void add_base(std::vector<std::string>* out, std::string base) {
  if (base.size() < 3 || !has_vowel(base)) return;
  // "noted" must not reduce to "not", nor "nones" to "none".
  if (is_stopword(base) || base == "not" || base == "none" || base == "non") return;
  if (std::find(out->begin(), out->end(), base) == out->end()) out->push_back(std::move(base));
}

bool sibilant_or_o(std::string_view stem) {
  return stem.ends_with("s") || stem.ends_with("x") || stem.ends_with("z") ||
         stem.ends_with("ch") || stem.ends_with("sh") || stem.ends_with("o");
}

bool plural_s_allowed(std::string_view w) {
  if (!w.ends_with("s") || w.size() < 4) return false;
  const char before = w[w.size() - 2];
  return before != 's' && before != 'u' && before != 'i' && before != 'a' && before != 'o';
}

// Bases of a word ending in -ing or -ed, once the suffix is cut to `stem`.
void add_verb_bases(std::vector<std::string>* out, std::string_view stem) {
  add_base(out, std::string(stem));
  add_base(out, std::string(stem) + "e");
  if (doubled_consonant(stem)) add_base(out, std::string(stem.substr(0, stem.size() - 1)));
}

// After cutting -ing/-ed for the scorer: "runn" → "run" (but "fill",
// "pass", "buzz" keep their natural double letter), "us" → "use".
void undo_verb_spelling(std::string* s) {
  const char last = s->empty() ? '\0' : s->back();
  if (s->size() >= 4 && doubled_consonant(*s) && last != 'l' && last != 's' && last != 'z' &&
      last != 'f') {
    s->pop_back();
  }
  if (s->size() < 3) *s += 'e';
}

}  // namespace

std::vector<std::string> inflection_bases(std::string_view w, bool past_tense) {
  std::vector<std::string> out{std::string(w)};
  if (w.size() < 4 || !is_lower_ascii_word(w) || is_inflection_exception(w)) return out;
  const size_t n = w.size();
  if (w.ends_with("ies") || (past_tense && w.ends_with("ied"))) {
    add_base(&out, std::string(w.substr(0, n - 3)) + "y");
  }
  if (w.ends_with("es") && sibilant_or_o(w.substr(0, n - 2))) {
    add_base(&out, std::string(w.substr(0, n - 2)));
  }
  if (plural_s_allowed(w)) add_base(&out, std::string(w.substr(0, n - 1)));
  if (w.ends_with("ing") && n >= 5) add_verb_bases(&out, w.substr(0, n - 3));
  if (past_tense && w.ends_with("ed") && !w.ends_with("eed")) {
    add_verb_bases(&out, w.substr(0, n - 2));
  }
  return out;
}

std::string light_stem(std::string_view w) {
  if (w.size() < 4 || !is_lower_ascii_word(w) || is_inflection_exception(w)) {
    return std::string(w);
  }
  std::string s(w);
  const auto cut = [&s](size_t k) { s.resize(s.size() - k); };
  if (s.ends_with("ies") || s.ends_with("ied")) {
    cut(3);
    s += 'y';
  } else if (s.ends_with("es") && sibilant_or_o(std::string_view(s).substr(0, s.size() - 2))) {
    cut(2);
  } else if (plural_s_allowed(s)) {
    cut(1);
  } else if (s.ends_with("ing") && s.size() >= 5) {
    cut(3);
    undo_verb_spelling(&s);
  } else if (s.ends_with("ed") && !s.ends_with("eed")) {
    cut(2);
    undo_verb_spelling(&s);
  }
  if (s.size() >= 4 && s.ends_with("e")) cut(1);
  return s;
}

}  // namespace plancache::internal

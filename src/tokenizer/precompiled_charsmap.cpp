#include "tokenizer/precompiled_charsmap.h"

#include <utf8proc.h>

#include "tokenizer/base64.h"
#include "tokenizer/normalizer.h"
#include "tokenizer/utf8.h"

namespace autoglm::text {

namespace {

// darts-clone unit fields (a unit is a node: label, leaf flag and offset to its children; the
// child reached through a leaf flag holds the value).
bool has_leaf(uint32_t u) { return ((u >> 8) & 1u) != 0; }
uint32_t value(uint32_t u) { return u & 0x7FFFFFFFu; }
uint32_t label(uint32_t u) { return u & 0x800000FFu; }
size_t offset(uint32_t u) { return static_cast<size_t>(u >> 10) << ((u & (1u << 9)) >> 6); }

uint32_t read_le32(std::string_view b, size_t at) {
  return static_cast<uint32_t>(static_cast<uint8_t>(b[at])) |
         static_cast<uint32_t>(static_cast<uint8_t>(b[at + 1])) << 8 |
         static_cast<uint32_t>(static_cast<uint8_t>(b[at + 2])) << 16 |
         static_cast<uint32_t>(static_cast<uint8_t>(b[at + 3])) << 24;
}

bool is_continuation(char c) { return (static_cast<uint8_t>(c) & 0xC0) == 0x80; }

}  // namespace

Result<PrecompiledCharsmap> PrecompiledCharsmap::from_bytes(std::string_view blob, std::string_view what) {
  const std::string where(what);
  if (blob.size() < 4) {
    return CorruptFile(where + ": " + std::to_string(blob.size()) + " bytes, shorter than the 4-byte trie size");
  }
  const uint32_t trie_bytes = read_le32(blob, 0);
  // HF reads trie_size / 4 units; a remainder (not a multiple of 4) is left to the strings.
  const size_t n_units = trie_bytes / 4;
  if (n_units > (blob.size() - 4) / 4) {
    return CorruptFile(where + ": trie of " + std::to_string(trie_bytes) + " bytes runs past the end of the " +
                       std::to_string(blob.size()) + "-byte charsmap");
  }
  if (n_units == 0) return CorruptFile(where + ": the trie is empty (it needs a root unit)");
  PrecompiledCharsmap m;
  m.units_.resize(n_units);
  for (size_t i = 0; i < n_units; ++i) m.units_[i] = read_le32(blob, 4 + 4 * i);
  m.strings_ = std::string(blob.substr(4 + 4 * n_units));
  if (!utf8::is_valid(m.strings_)) return CorruptFile(where + ": the replacement strings are not valid UTF-8");
  return m;
}

Result<PrecompiledCharsmap> PrecompiledCharsmap::from_base64(std::string_view b64, std::string_view what) {
  std::optional<std::string> blob = base64_decode(b64);
  if (!blob) return CorruptFile(std::string(what) + ": not valid base64");
  return from_bytes(*blob, what);
}

std::optional<std::string_view> PrecompiledCharsmap::transform(std::string_view chunk) const {
  // darts-clone's common prefix search, stopped at its first (shortest) result.
  size_t pos = offset(units_[0]);
  for (char ch : chunk) {
    const auto c = static_cast<uint8_t>(ch);
    if (c == 0) break;
    pos ^= c;
    if (pos >= units_.size()) return std::nullopt;
    const uint32_t u = units_[pos];
    if (label(u) != c) return std::nullopt;
    pos ^= offset(u);
    if (!has_leaf(u)) continue;
    if (pos >= units_.size()) return std::nullopt;
    const size_t at = value(units_[pos]);
    if (at > strings_.size() || (at < strings_.size() && is_continuation(strings_[at]))) return std::nullopt;
    const size_t end = strings_.find('\0', at);
    return std::string_view(strings_).substr(at, end == std::string::npos ? std::string::npos : end - at);
  }
  return std::nullopt;
}

std::string PrecompiledCharsmap::normalize(std::string_view s) const {
  std::string out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    // One extended grapheme cluster: [start, i).
    const size_t start = i;
    char32_t prev;
    i += next_char(s.substr(i), &prev);
    utf8proc_int32_t state = 0;
    while (i < s.size()) {
      char32_t c;
      const size_t len = next_char(s.substr(i), &c);
      if (utf8proc_grapheme_break_stateful(static_cast<utf8proc_int32_t>(prev), static_cast<utf8proc_int32_t>(c),
                                           &state)) {
        break;
      }
      prev = c;
      i += len;
    }
    const std::string_view cluster = s.substr(start, i - start);
    if (cluster.size() < 6) {
      if (std::optional<std::string_view> t = transform(cluster)) {
        out += *t;
        continue;
      }
    }
    for (size_t k = 0; k < cluster.size();) {
      char32_t c;
      const std::string_view part = cluster.substr(k, next_char(cluster.substr(k), &c));
      const std::optional<std::string_view> t = transform(part);
      out += t ? *t : part;
      k += part.size();
    }
  }
  return out;
}

}  // namespace autoglm::text

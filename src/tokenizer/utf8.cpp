#include "tokenizer/utf8.h"

#include <cstdint>

namespace autoglm::utf8 {

namespace {

// Allowed range of the second byte for a lead byte (Unicode table 3-7); the later bytes of a
// sequence are always 80..BF.
bool second_byte_ok(uint8_t lead, uint8_t b) {
  switch (lead) {
    case 0xE0: return b >= 0xA0 && b <= 0xBF;
    case 0xED: return b >= 0x80 && b <= 0x9F;
    case 0xF0: return b >= 0x90 && b <= 0xBF;
    case 0xF4: return b >= 0x80 && b <= 0x8F;
    default: return b >= 0x80 && b <= 0xBF;
  }
}

size_t expected_len(uint8_t lead) {
  if (lead < 0x80) return 1;
  if (lead >= 0xC2 && lead <= 0xDF) return 2;
  if (lead >= 0xE0 && lead <= 0xEF) return 3;
  if (lead >= 0xF0 && lead <= 0xF4) return 4;
  return 0;  // continuation byte, C0/C1, F5..FF: never a lead
}

}  // namespace

CharInfo classify(std::string_view s) {
  if (s.empty()) return {Lead::kInvalid, 1};
  const auto lead = static_cast<uint8_t>(s[0]);
  const size_t need = expected_len(lead);
  if (need == 0) return {Lead::kInvalid, 1};
  for (size_t i = 1; i < need; ++i) {
    if (i >= s.size()) return {Lead::kTruncated, i};
    const auto b = static_cast<uint8_t>(s[i]);
    const bool ok = i == 1 ? second_byte_ok(lead, b) : (b >= 0x80 && b <= 0xBF);
    if (!ok) return {Lead::kInvalid, 1};
  }
  return {Lead::kComplete, need};
}

size_t char_len(std::string_view s) {
  const CharInfo c = classify(s);
  return c.kind == Lead::kComplete ? c.len : 1;
}

void append_sanitized(std::string_view s, std::string* out) {
  size_t i = 0;
  while (i < s.size()) {
    const CharInfo c = classify(s.substr(i));
    if (c.kind == Lead::kComplete) {
      out->append(s.substr(i, c.len));
      i += c.len;
    } else {
      out->append(kReplacement);
      ++i;
    }
  }
}

std::string sanitize(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  append_sanitized(s, &out);
  return out;
}

bool is_valid(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const CharInfo c = classify(s.substr(i));
    if (c.kind != Lead::kComplete) return false;
    i += c.len;
  }
  return true;
}

}  // namespace autoglm::utf8

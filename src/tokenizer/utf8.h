// Strict UTF-8 helpers shared by the tokenizers and the streaming decoder. "Strict" follows
// Unicode's well-formed byte sequences: no overlong forms, no surrogates (ED A0..BF), nothing
// above U+10FFFF.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace autoglm::utf8 {

inline constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// What starts at s[0]: a complete well-formed character (its length, 1..4), a well-formed
// prefix cut short by the end of s (more bytes could complete it), or an invalid byte.
enum class Lead { kComplete, kTruncated, kInvalid };
struct CharInfo {
  Lead kind;
  size_t len;  // kComplete: bytes of the character; otherwise 1 (or the prefix length for kTruncated)
};
CharInfo classify(std::string_view s);

// Length of the character at s[0]: its byte count when well-formed, else 1 (an invalid or
// truncated byte counts as one character). s must be non-empty.
size_t char_len(std::string_view s);

// Appends s to out with every byte that does not belong to a well-formed character replaced by
// U+FFFD (one replacement per byte, as SentencePiece's decoder does).
void append_sanitized(std::string_view s, std::string* out);
std::string sanitize(std::string_view s);

bool is_valid(std::string_view s);

}  // namespace autoglm::utf8

// Standard base64 (RFC 4648 alphabet, '=' padding) decoding, strict as Rust's base64 crate
// STANDARD engine that Hugging Face tokenizers reads tokenizer.json blobs with: no whitespace,
// padding to a multiple of 4, and unused trailing bits must be zero.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace autoglm::text {

// The decoded bytes, or nullopt when `in` is not canonical base64.
std::optional<std::string> base64_decode(std::string_view in);

}  // namespace autoglm::text

// Limits for untrusted JSON text (request bodies, tokenizer.json), checked before parsing:
// nlohmann's parser is iterative, but very deep documents are slow to build and destroy, and
// recursive readers downstream would walk every level.
#pragma once

#include <cstddef>
#include <string_view>

namespace autoglm {

// True when no part of `text` lies inside more than `max_depth` open arrays/objects. Brackets in
// strings (escapes included) do not count; a stray closing bracket never lowers the depth below
// zero. It does not otherwise validate the JSON. Linear time, no allocation.
bool json_nesting_within(std::string_view text, size_t max_depth);

}  // namespace autoglm

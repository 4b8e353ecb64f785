// Sandbox limits of the chat-template renderer. A template that exceeds one fails with an
// OutOfRange status naming the limit; the defaults leave real templates far below them.
#pragma once

#include <cstdint>

namespace autoglm::tmpl {

struct Limits {
  uint64_t max_steps = 1'000'000;          // evaluation steps (nodes, loop iterations, string work)
  uint32_t max_call_depth = 64;            // macro recursion
  uint32_t max_nesting = 128;              // nesting of blocks and sub-expressions in the source
  uint64_t max_output_bytes = 8u << 20;    // rendered text, and any single string built on the way
  uint64_t max_source_bytes = 1u << 20;    // template text
};

}  // namespace autoglm::tmpl

// Sequence: one request's state inside the scheduler: its tokens, KV block table, sampler,
// streaming decoder and the text held back while it might be the start of a stop string.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "autoglm/serving.h"
#include "kv/sequence_kv.h"
#include "runtime/sampler.h"
#include "tokenizer/tokenizer.h"

namespace autoglm {

struct Sequence {
  uint64_t id = 0;
  CompletionRequest req;
  EventSink sink;
  std::vector<TokenId> tokens;          // prompt, then generated tokens
  int32_t n_prompt = 0;
  int32_t n_generated = 0;
  int32_t cached_prompt = 0;            // prompt tokens whose KV was reused
  bool admitted_once = false;
  bool cancelled = false;
  kv::SequenceKV kv;                    // n_cached(): tokens whose KV is written
  std::vector<uint64_t> block_hashes;   // chain hashes of the full blocks registered so far
  std::unique_ptr<Sampler> sampler;
  std::unique_ptr<StreamDecoder> decoder;
  std::string held;                     // decoded text not yet sent (stop-string lookahead)
  std::unordered_map<TokenId, int32_t> counts;  // generated token counts (presence/frequency)

  int32_t n_computed() const { return kv.n_cached(); }
  int32_t pending() const { return static_cast<int32_t>(tokens.size()) - n_computed(); }
};

}  // namespace autoglm

// StepContext: what one engine step needs besides the graph: the paged KV cache and, for
// each token of the batch, its sequence and position. Attention nodes read it.
#pragma once

#include <cstdint>
#include <vector>

#include "kv/kv_cache.h"
#include "kv/sequence_kv.h"

namespace autoglm::graph {

struct StepContext {
  kv::KVCache* cache = nullptr;
  std::vector<kv::SequenceKV*> seqs;  // sequences taking part in this step
  std::vector<int32_t> token_seq;     // per token: index into seqs
  std::vector<int32_t> positions;     // per token: its position in its sequence
};

}  // namespace autoglm::graph

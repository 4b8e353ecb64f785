// Batched decode for `autoglm bench --batch`: B independent sequences, each after a prompt of
// its own (short, or bench -d's depth), decoded together by the ServingEngine (one token per sequence per engine
// step), timed over the steps where all B are decoding.
#pragma once

#include <cstdint>
#include <vector>

#include "autoglm/serving.h"

namespace autoglm::cli {

// Serving options that let `max_batch` sequences of `prompt_tokens` + `n_gen` (+ slack) tokens
// run together from the first step to the last, with no preemption.
ServingOptions batched_serving_options(int max_batch, int64_t prompt_tokens, int64_t n_gen);

// Prompt of sequence i: BOS and a few letters, or `depth` tokens where depth > 0 (bench -d),
// different for every i (no shared prefix).
std::vector<int32_t> batched_prompt(const ServingEngine& eng, int i, int64_t depth);

// Aggregate decode tokens/s of `batch` sequences decoding n_gen steps together after prompts
// of `depth` tokens (0: a few).
// Unavailable when the sequences did not decode together for n_gen steps (not admitted at once).
Result<double> batched_decode_tps(ServingEngine& eng, int batch, int64_t depth, int64_t n_gen);

}  // namespace autoglm::cli

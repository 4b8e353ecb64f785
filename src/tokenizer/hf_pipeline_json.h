// tokenizer.json -> HfPipelineTokenizer (hf_pipeline_tokenizer.h) for model.type "Unigram",
// "WordLevel", and "BPE" that is not byte-level (Llama-2-style: byte_fallback, <0xNN> tokens,
// Metaspace or Prepend/Replace normalizers). Called by load_hf_tokenizer_json.
//
// Sections: added_tokens; normalizer (hf_json_fields.h); pre_tokenizer null, WhitespaceSplit,
// Metaspace (replacement, prepend_scheme or the older add_prefix_space, split) or a Sequence of
// one of them; post_processor (TemplateProcessing, ...); decoder null, Metaspace, or a Sequence of
// Replace (literal), ByteFallback, Fuse and Strip(' ', 1, 0) after Fuse. Anything else is
// Unsupported naming it; wrong types, ids out of range or repeated, an empty vocabulary are
// CorruptFile naming the field.
#pragma once

#include <memory>

#include <nlohmann/json_fwd.hpp>

#include "tokenizer/tokenizer.h"

namespace autoglm {

Result<std::unique_ptr<Tokenizer>> make_pipeline_from_hf_json(const nlohmann::json& root);

}  // namespace autoglm

// Hugging Face tokenizer.json -> Tokenizer, so a safetensors folder loads without conversion.
//
// Reads added_tokens (id, content, special, single_word, lstrip, rstrip, normalized), normalizer,
// pre_tokenizer, model, post_processor (TemplateProcessing, BertProcessing, RobertaProcessing,
// Sequence: which special tokens add_special puts around the text), decoder and truncation
// (max_length, as HF's Tokenizer.from_file applies it; padding is left to the caller), and builds
// the tokenizer for model.type: "WordPiece" here (wordpiece_tokenizer.h), byte-level "BPE" in
// hf_bpe.cpp, other "BPE" (Llama-2-style byte_fallback), "Unigram" and "WordLevel" in
// hf_pipeline_json.cpp.
//
// The file is untrusted: invalid JSON, nesting deeper than 256, a missing field or one of the wrong
// type, ids out of range or repeated give CorruptFile naming the field; a valid section this
// engine does not implement gives Unsupported naming it. Nothing throws past these functions.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "tokenizer/tokenizer.h"

namespace autoglm {

Result<std::unique_ptr<Tokenizer>> load_hf_tokenizer(const std::string& tokenizer_json_path);
// The same from the file's text.
Result<std::unique_ptr<Tokenizer>> load_hf_tokenizer_json(std::string_view json_text);

}  // namespace autoglm

// Tokenizer interface. A tokenizer is built from a model file's vocabulary; user text is
// encoded with special-token parsing off unless the caller asks for it.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "autoglm/status.h"

namespace autoglm {
namespace gguf { class File; }

using TokenId = int32_t;

// llama.cpp's token types (tokenizer.ggml.token_type).
enum class TokenType : int32_t {
  kUndefined = 0, kNormal = 1, kUnknown = 2, kControl = 3, kUserDefined = 4, kUnused = 5, kByte = 6
};

struct Vocab {
  std::string model;                  // tokenizer.ggml.model: "llama", "gpt2", "bert", ...
  std::string pre;                    // tokenizer.ggml.pre
  std::vector<std::string> tokens;    // token text as stored (SPM uses U+2581 for space)
  std::vector<float> scores;          // empty when the file has none
  std::vector<TokenType> types;       // kNormal when the file has none
  std::vector<std::string> merges;    // BPE merges "left right", lowest rank first (tokenizer.ggml.merges)
  TokenId bos = -1, eos = -1, unk = -1, pad = -1;
  bool add_bos = false;
  bool add_eos = false;
  bool add_space_prefix = true;

  // Reads tokenizer.ggml.* from a GGUF file. NotFound when the file has no tokenizer.ggml.model;
  // CorruptFile naming the key on a missing/empty token list, wrong value types, array lengths
  // that differ from the token count, token types out of range, special ids outside the vocabulary
  // (-1 and 0xFFFFFFFF mean "none"). Unstored flags take llama.cpp's defaults ("llama": add_bos,
  // add_space_prefix, bos/eos/unk = 1/2/0).
  static Result<Vocab> from_gguf(const gguf::File& file);
  size_t size() const { return tokens.size(); }
};

class Tokenizer {
 public:
  virtual ~Tokenizer() = default;
  const Vocab& vocab() const { return vocab_; }
  size_t n_vocab() const { return vocab_.tokens.size(); }

  // Text -> ids. add_special: prepend BOS (and append EOS) as the vocabulary says.
  // parse_special: recognise control token texts inside `text`. User-defined tokens are always
  // recognised, as SentencePiece and llama.cpp do.
  virtual std::vector<TokenId> encode(std::string_view text, bool add_special, bool parse_special = false) const = 0;
  // The bytes one token stands for (SPM: U+2581 -> ' ', <0xNN> -> that byte; control tokens
  // -> "" unless render_special).
  virtual std::string token_to_piece(TokenId id, bool render_special = false) const = 0;
  // Ids -> text, as the reference decoder (SentencePiece) does: the leading space the encoder
  // added is stripped, and bytes of byte tokens that do not form well-formed UTF-8 become U+FFFD
  // (one per byte); ill-formed bytes inside a (hostile) vocabulary's token text too, so the result
  // is always valid UTF-8. Out-of-range ids decode to nothing.
  std::string decode(const std::vector<TokenId>& ids, bool render_special = false) const;

  // How decode() and StreamDecoder see one token.
  struct DecodePiece {
    std::string text;          // surface; for a byte token the one raw byte
    bool is_byte = false;      // consecutive byte pieces are validated as UTF-8 together
    bool transparent = false;  // control tokens: do not end the start-of-text window
    bool strip_space = false;  // drops one leading ' ' when it is the first non-transparent piece
    // When set and this is the first non-transparent piece: its text is at_start_text instead
    // (HF's Metaspace decoder treats the first token apart; used instead of strip_space).
    bool has_start_text = false;
    std::string at_start_text;
  };
  virtual DecodePiece decode_piece(TokenId id, bool render_special) const;

 protected:
  explicit Tokenizer(Vocab v) : vocab_(std::move(v)) {}
  Vocab vocab_;
};

// Picks the implementation from the vocabulary (Unsupported for unknown models).
Result<std::unique_ptr<Tokenizer>> make_tokenizer(Vocab vocab);
Result<std::unique_ptr<Tokenizer>> make_tokenizer(const gguf::File& file);

// Streaming detokenizer: push tokens one at a time; returns only complete UTF-8 text, so a
// character split across byte tokens is never emitted in halves. Strips the leading space the
// same way decode() does: the concatenation of every push() and a final flush() equals
// decode() of all ids, byte for byte.
class StreamDecoder {
 public:
  explicit StreamDecoder(const Tokenizer& tok, bool render_special = false);
  std::string push(TokenId id);
  std::string flush();  // whatever is left (an unfinished character becomes U+FFFD per byte)

 private:
  const Tokenizer& tok_;
  bool render_special_;
  bool at_start_ = true;
  std::string pending_;
};

}  // namespace autoglm

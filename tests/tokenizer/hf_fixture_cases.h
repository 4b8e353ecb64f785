// Checks a tokenizer against a fixture of Hugging Face tokenizers' own results
// (scripts/gen_hf_llama2_fixtures.py's format, also used by gen_hf_trained_fixtures.py):
//   name TAB hex(text) TAB ids TAB ids_no_special TAB hex(decode) TAB hex(decode_skip) TAB ids_with_special
// "=" in a column: the same as the column it derives from (text for decode).
#pragma once

#include <functional>
#include <map>
#include <string>

#include "tok_test_util.h"
#include "tokenizer/tokenizer.h"

namespace autoglm::test {

// Runs every case whose name `tokenizer_for` knows (nullptr: skipped); returns the count per name
// in *counts. Lossless cases (decode == text) also check the streaming decoder.
inline void check_hf_cases(const std::string& tsv, const std::function<const Tokenizer*(const std::string&)>& tokenizer_for,
                           std::map<std::string, int>* counts) {
  for (const std::string& line : split(tsv, '\n')) {
    if (line.empty() || line[0] == '#') continue;
    const std::vector<std::string> f = split(line, '\t');
    ASSERT_EQ(f.size(), 7u) << line.substr(0, 80);
    const Tokenizer* tok = tokenizer_for(f[0]);
    if (tok == nullptr) continue;
    const int n = (*counts)[f[0]]++;
    const std::string text = from_hex(f[1]);
    const std::vector<TokenId> ids = parse_ids(f[2]);
    const std::vector<TokenId> plain = f[3] == "=" ? ids : parse_ids(f[3]);
    const std::string dec = f[4] == "=" ? text : from_hex(f[4]);
    const std::string dec_skip = f[5] == "=" ? dec : from_hex(f[5]);
    const std::vector<TokenId> with_special = f[6] == "=" ? ids : parse_ids(f[6]);
    const std::string where = f[0] + " case " + std::to_string(n) + " '" + text + "'";
    EXPECT_EQ(tok->encode(text, false, true), ids) << where;
    EXPECT_EQ(tok->encode(text, false, false), plain) << where;
    EXPECT_EQ(tok->encode(text, true, true), with_special) << where;
    EXPECT_EQ(tok->decode(ids, true), dec) << where;
    EXPECT_EQ(tok->decode(ids, false), dec_skip) << where;
    if (dec == text) {
      StreamDecoder stream(*tok, true);
      std::string streamed;
      for (TokenId id : ids) streamed += stream.push(id);
      streamed += stream.flush();
      EXPECT_EQ(streamed, text) << where;
    }
  }
}

}  // namespace autoglm::test

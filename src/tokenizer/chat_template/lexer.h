// Lexer of the chat-template Jinja subset. Applies the Hugging Face environment's whitespace
// rules while it reads: trim_blocks (drop the newline after a block or comment tag), lstrip_blocks
// (drop spaces/tabs before a block or comment tag that starts its line), `-` and `+` markers, and
// Jinja's removal of one trailing newline of the source.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "autoglm/status.h"

namespace autoglm::tmpl {

enum class Tok { kText, kVarBegin, kVarEnd, kBlockBegin, kBlockEnd, kName, kString, kInt, kFloat, kOp, kEof };

struct Token {
  Tok kind = Tok::kEof;
  std::string text;  // text / name / decoded string literal / operator / number spelling
  int64_t i = 0;
  double d = 0;
  int line = 1;
  int col = 1;
};

// "line L, column C: msg" as an InvalidArgument status.
Status template_error(int line, int col, const std::string& msg);

Result<std::vector<Token>> lex_template(std::string_view source);

}  // namespace autoglm::tmpl

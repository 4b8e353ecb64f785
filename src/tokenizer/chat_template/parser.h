// Parser of the chat-template Jinja subset: tokens -> statement tree. Nesting of blocks and
// expressions is bounded (max_nesting), so hostile input cannot exhaust the stack.
#pragma once

#include <cstdint>
#include <vector>

#include "autoglm/status.h"
#include "tokenizer/chat_template/ast.h"
#include "tokenizer/chat_template/lexer.h"

namespace autoglm::tmpl {

Result<Body> parse_template(const std::vector<Token>& tokens, uint32_t max_nesting);

}  // namespace autoglm::tmpl

// Chat messages -> prompt token ids. The template's own markers (<|im_start|>, ...) become control
// tokens; text a user typed never does, even if it spells a control token's text.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "autoglm/serving.h"
#include "autoglm/status.h"

namespace autoglm::server {

// Renders a validated messages array ({"role","content"} objects) into prompt text, ending with the
// assistant's turn opener.
using ChatRenderer = std::function<Result<std::string>(const nlohmann::json& messages)>;

// Tokenizes the rendered chat. When no message spells a control token, the whole text is tokenized
// with control-token parsing on (exactly what the template's authors expect); otherwise the template
// is rendered around placeholders and each message's text is tokenized with parsing off.
Result<std::vector<int32_t>> tokenize_chat(const ServingEngine& engine, const ChatRenderer& render,
                                           const nlohmann::json& messages);

}  // namespace autoglm::server

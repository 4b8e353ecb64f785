// GET /: a small self-contained chat page (inline HTML + JS) that streams from /v1/chat/completions.
#pragma once

namespace autoglm::server {

const char* chat_page_html();

}  // namespace autoglm::server

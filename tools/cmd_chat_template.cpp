// autoglm chat-template: print the prompt a model's chat template renders for a conversation.
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "args.h"
#include "autoglm/chat.h"
#include "commands.h"

namespace autoglm::cli {

int cmd_chat_template(int argc, char** argv) {
  const char* usage =
      "usage: autoglm chat-template [--model PATH] --messages JSON|@FILE [--no-generation-prompt]\n"
      "                             [--template NAME_OR_FILE]\n"
      "  --model      GGUF file (tokenizer.chat_template) or Hugging Face folder / tokenizer_config.json\n"
      "  --template   used when the model has no template: chatml, llama3, gemma, phi3, glm4, or a file\n";
  Args args;
  if (!args.parse(argc, argv, {"--model", "--messages", "--template"}, {"--no-generation-prompt", "--help", "-h"})) {
    std::fprintf(stderr, "autoglm chat-template: %s\n", args.error().c_str());
    return 2;
  }
  if (args.has("--help") || args.has("-h")) {
    std::fputs(usage, stdout);
    return 0;
  }
  if (!args.get("--messages") || !args.positional().empty() || (!args.get("--model") && !args.get("--template"))) {
    std::fputs(usage, stderr);
    return 2;
  }
  std::string messages = *args.get("--messages");
  if (!messages.empty() && messages[0] == '@') {
    std::ifstream f(messages.substr(1), std::ios::binary);
    if (!f) {
      std::fprintf(stderr, "autoglm chat-template: cannot read '%s'\n", messages.c_str() + 1);
      return 1;
    }
    std::stringstream ss;
    ss << f.rdbuf();
    messages = ss.str();
  }
  auto prompt = render_chat_template(args.get("--model").value_or(""), args.get("--template").value_or(""), messages,
                                     !args.has("--no-generation-prompt"));
  if (!prompt.ok()) {
    std::fprintf(stderr, "autoglm chat-template: %s\n", prompt.status().to_string().c_str());
    return 1;
  }
  std::fwrite(prompt->data(), 1, prompt->size(), stdout);
  return 0;
}

}  // namespace autoglm::cli

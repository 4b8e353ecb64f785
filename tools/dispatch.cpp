#include <cstdio>
#include <string_view>

#include "commands.h"

namespace autoglm::cli {
namespace {

constexpr const char* kUsage =
    "usage: autoglm <command> [options]\n"
    "\n"
    "commands:\n"
    "  run        generate text from a prompt (--model PATH [--prompt TEXT] [--n-predict N] ...)\n"
    "  inspect    print a model file's metadata and tensor table (PATH)\n"
    "  tokenize   print the token ids of a text (--model PATH TEXT)\n"
    "  bench      prompt/generation speed, peak memory, bandwidth roofline (--model PATH [-p N] [-n N])\n"
    "  gen-random random-weight GGUF of a real model's shape (--shape NAME --type TYPE --output F)\n"
    "  serve      OpenAI-compatible HTTP server (--model PATH [--port N] [--parallel N] ...)\n"
    "  perplexity how well a model predicts a text file (--model PATH --file F [--window N])\n"
    "  chat-template  render a conversation with the model's chat template (--model PATH --messages JSON)\n"
    "\n"
    "run 'autoglm <command> --help' for a command's options\n";

}  // namespace

int dispatch(int argc, char** argv) {
  if (argc < 2) {
    std::fputs(kUsage, stderr);
    return 2;
  }
  std::string_view cmd = argv[1];
  if (cmd == "run") return cmd_run(argc - 1, argv + 1);
  if (cmd == "inspect") return cmd_inspect(argc - 1, argv + 1);
  if (cmd == "tokenize") return cmd_tokenize(argc - 1, argv + 1);
  if (cmd == "bench") return cmd_bench(argc - 1, argv + 1);
  if (cmd == "gen-random") return cmd_gen_random(argc - 1, argv + 1);
  if (cmd == "serve") return cmd_serve(argc - 1, argv + 1);
  if (cmd == "perplexity") return cmd_perplexity(argc - 1, argv + 1);
  if (cmd == "chat-template") return cmd_chat_template(argc - 1, argv + 1);
  if (cmd == "--help" || cmd == "-h" || cmd == "help") {
    std::fputs(kUsage, stdout);
    return 0;
  }
  std::fprintf(stderr, "autoglm: unknown command '%s'\n%s", argv[1], kUsage);
  return 2;
}

}  // namespace autoglm::cli

// autoglm tokenize: token ids of a text, one line, space separated.
#include <cstdio>
#include <string>

#include "args.h"
#include "autoglm/tokenizer.h"
#include "commands.h"

namespace autoglm::cli {

int cmd_tokenize(int argc, char** argv) {
  Args args;
  if (!args.parse(argc, argv, {"--model"}, {"--no-bos", "--parse-special", "--show-pieces", "--help", "-h"})) {
    std::fprintf(stderr, "autoglm tokenize: %s\n", args.error().c_str());
    return 2;
  }
  const char* usage = "usage: autoglm tokenize --model PATH [--no-bos] [--parse-special] [--show-pieces] TEXT\n";
  if (args.has("--help") || args.has("-h")) {
    std::fputs(usage, stdout);
    return 0;
  }
  if (!args.get("--model") || args.positional().size() != 1) {
    std::fputs(usage, stderr);
    return 2;
  }
  auto tok = AutoTokenizer::from_pretrained(*args.get("--model"));
  if (!tok.ok()) {
    std::fprintf(stderr, "autoglm tokenize: %s\n", tok.status().to_string().c_str());
    return 1;
  }
  const auto ids = tok->encode(args.positional()[0], !args.has("--no-bos"), args.has("--parse-special"));
  std::string line;
  for (size_t i = 0; i < ids.size(); ++i) {
    if (i) line += ' ';
    line += std::to_string(ids[i]);
  }
  std::printf("%s\n", line.c_str());
  if (args.has("--show-pieces")) {
    for (int32_t id : ids) std::printf("%6d  '%s'\n", id, tok->token_text(id).c_str());
  }
  return 0;
}

}  // namespace autoglm::cli

// autoglm tokenize: token ids of a text, one line, space separated.
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "args.h"
#include "autoglm/tokenizer.h"
#include "commands.h"

namespace autoglm::cli {

int cmd_tokenize(int argc, char** argv) {
  Args args;
  if (!args.parse(argc, argv, {"--model", "--file"},
                  {"--no-bos", "--no-special", "--parse-special", "--show-pieces", "--detokenize", "--help", "-h"})) {
    std::fprintf(stderr, "autoglm tokenize: %s\n", args.error().c_str());
    return 2;
  }
  const char* usage =
      "usage: autoglm tokenize --model PATH [--no-special] [--parse-special] [--show-pieces] TEXT | --file F\n"
      "       autoglm tokenize --model PATH --detokenize ID [ID ...] | --file F\n"
      "PATH is a GGUF file, a tokenizer.json or a folder holding one. --no-special (alias --no-bos) adds no\n"
      "BOS/EOS/CLS/SEP; --parse-special recognises control-token texts in TEXT.\n";
  if (args.has("--help") || args.has("-h")) {
    std::fputs(usage, stdout);
    return 0;
  }
  const bool from_file = args.get("--file").has_value();
  if (!args.get("--model") || (from_file ? !args.positional().empty()
                                         : (args.has("--detokenize") ? args.positional().empty()
                                                                     : args.positional().size() != 1))) {
    std::fputs(usage, stderr);
    return 2;
  }
  std::string input;
  if (from_file) {
    std::ifstream in(*args.get("--file"), std::ios::binary);
    if (!in) {
      std::fprintf(stderr, "autoglm tokenize: cannot read %s\n", args.get("--file")->c_str());
      return 1;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    input = ss.str();
  }
  auto tok = AutoTokenizer::from_pretrained(*args.get("--model"));
  if (!tok.ok()) {
    std::fprintf(stderr, "autoglm tokenize: %s\n", tok.status().to_string().c_str());
    return 1;
  }
  if (args.has("--detokenize")) {
    std::vector<std::string> words = args.positional();
    if (from_file) {
      std::stringstream ss(input);
      words.clear();
      for (std::string w; ss >> w;) words.push_back(w);
    }
    std::vector<int32_t> ids;
    for (const std::string& w : words) {
      char* end = nullptr;
      errno = 0;
      const long long v = std::strtoll(w.c_str(), &end, 10);
      if (w.empty() || *end != '\0' || errno == ERANGE || v < 0 || v >= tok->vocab_size()) {
        std::fprintf(stderr, "autoglm tokenize: '%s' is not a token id of this vocabulary (0..%lld)\n", w.c_str(),
                     static_cast<long long>(tok->vocab_size() - 1));
        return 1;
      }
      ids.push_back(static_cast<int32_t>(v));
    }
    const std::string text = tok->decode(ids);
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fputc('\n', stdout);
    return 0;
  }
  const bool add_special = !args.has("--no-bos") && !args.has("--no-special");
  const auto ids = tok->encode(from_file ? input : args.positional()[0], add_special, args.has("--parse-special"));
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

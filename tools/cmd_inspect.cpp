// autoglm inspect: a model file's metadata and tensor table.
#include <cstdio>

#include "args.h"
#include "autoglm/model_file.h"
#include "commands.h"

namespace autoglm::cli {

int cmd_inspect(int argc, char** argv) {
  Args args;
  if (!args.parse(argc, argv, {}, {"--help", "-h"})) {
    std::fprintf(stderr, "autoglm inspect: %s\n", args.error().c_str());
    return 2;
  }
  if (args.has("--help") || args.has("-h") || args.positional().size() != 1) {
    std::fputs("usage: autoglm inspect PATH\n", args.positional().size() == 1 ? stdout : stderr);
    return args.positional().size() == 1 ? 0 : 2;
  }
  auto s = inspect_model_file(args.positional()[0]);
  if (!s.ok()) {
    std::fprintf(stderr, "autoglm inspect: %s\n", s.status().to_string().c_str());
    return 1;
  }
  std::printf("file: %s\nformat: %s, %llu bytes, alignment %llu, data at offset %llu\n", args.positional()[0].c_str(),
              s->format.c_str(), static_cast<unsigned long long>(s->file_size),
              static_cast<unsigned long long>(s->alignment), static_cast<unsigned long long>(s->data_offset));
  std::printf("\nmetadata (%zu keys):\n", s->metadata.size());
  for (const auto& [k, v] : s->metadata) std::printf("  %s = %s\n", k.c_str(), v.c_str());
  std::printf("\ntensors (%zu):\n", s->tensors.size());
  uint64_t total = 0;
  for (const TensorSummary& t : s->tensors) {
    std::string shape = "[";
    for (size_t i = 0; i < t.shape.size(); ++i) shape += (i ? ", " : "") + std::to_string(t.shape[i]);
    shape += "]";
    std::printf("  %-40s %-6s %-20s offset %-12llu %llu bytes\n", t.name.c_str(), t.type.c_str(), shape.c_str(),
                static_cast<unsigned long long>(t.offset), static_cast<unsigned long long>(t.nbytes));
    total += t.nbytes;
  }
  std::printf("\ntotal tensor bytes: %llu\n", static_cast<unsigned long long>(total));
  return 0;
}

}  // namespace autoglm::cli

// libFuzzer entry point for the GGUF reader. Not part of the default build; build with clang:
//   clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -Isrc -Iinclude \
//       tests/fuzz/gguf_fuzz.cpp src/formats/*.cpp src/core/dtype.cpp src/core/status.cpp \
//       src/core/tensor.cpp -o gguf_fuzz
//   mkdir -p corpus && cp ../shared/models/stories260K/stories260K.gguf corpus/ && ./gguf_fuzz corpus
// Any input must give a Status, never a crash, a sanitizer report or unbounded memory.
#include <cstddef>
#include <cstdint>

#include "formats/gguf.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace autoglm::gguf;
  auto r = File::from_bytes(data, size);
  if (!r.ok()) return 0;
  const File& f = **r;
  // Touch everything an accepted file promises: metadata, display, every tensor byte range.
  size_t sink = 0;
  for (const auto& [key, v] : f.metadata()) {
    sink += v.to_display_string(4).size();
    sink += f.get_int(key).has_value() + f.get_float(key).has_value() + f.get_bool(key).has_value();
    sink += f.get_string(key).has_value() + (f.get_string_array(key) != nullptr);
    sink += f.get_float_array(key).has_value() + f.get_int_array(key).has_value();
  }
  for (const TensorInfo& t : f.tensors()) {
    autoglm::Tensor view = f.tensor_view(t);
    sink += static_cast<size_t>(view.nbytes() == t.nbytes);
    const auto* p = static_cast<const uint8_t*>(view.data());
    sink += p[0] + p[t.nbytes - 1];
  }
  volatile size_t keep = sink;
  (void)keep;
  return 0;
}

// Helpers for model tests: fixture paths, golden ids, and rewriting a GGUF with changes.
#pragma once

#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "formats/gguf.h"

namespace autoglm::testing {

inline std::string stories_path() { return std::string(AUTOGLM_SHARED_MODELS) + "/stories260K/stories260K.gguf"; }

inline std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// The integers of the first JSON array that follows "key": in text (enough for our fixtures).
inline std::vector<int32_t> json_int_array(const std::string& text, const std::string& key) {
  std::vector<int32_t> out;
  size_t p = text.find("\"" + key + "\"");
  if (p == std::string::npos) return out;
  p = text.find('[', p);
  size_t e = text.find(']', p);
  std::stringstream ss(text.substr(p + 1, e - p - 1));
  std::string item;
  while (std::getline(ss, item, ',')) out.push_back(std::stoi(item));
  return out;
}

// Rewrites a GGUF file: metadata passes through `edit_kv` (return false to drop a key; it
// may change the value), tensors named in `drop` are left out; `extra` adds keys.
struct GgufEdit {
  std::function<bool(const std::string&, gguf::Value&)> edit_kv = [](const std::string&, gguf::Value&) { return true; };
  std::set<std::string> drop_tensors;
  std::vector<std::pair<std::string, gguf::Value>> extra;
  // Replace a tensor's shape (outermost-first) while keeping its bytes when sizes allow.
  std::function<void(const std::string&, std::vector<int64_t>&)> edit_shape = [](const std::string&, std::vector<int64_t>&) {};
};

inline std::string write_edited(const std::string& src, const GgufEdit& edit, const std::string& name) {
  auto f = gguf::File::open(src).value();
  gguf::Writer w;
  for (const auto& [k, v] : f->metadata()) {
    gguf::Value copy = v;
    if (edit.edit_kv(k, copy)) w.add_value(k, copy);
  }
  for (const auto& [k, v] : edit.extra) w.add_value(k, v);
  for (const auto& t : f->tensors()) {
    if (edit.drop_tensors.count(t.name)) continue;
    std::vector<int64_t> shape = t.shape();
    edit.edit_shape(t.name, shape);
    w.add_tensor(t.name, t.type, shape, t.data, t.nbytes);
  }
  // Per process: ctest runs each test case as its own process, two at a time, and a file
  // rewritten while another process has it mapped kills that process.
  const std::string path = ::testing::TempDir() + "/" + name + "." + std::to_string(::getpid()) + ".gguf";
  Status st = w.write(path);
  if (!st.ok()) ADD_FAILURE() << st.to_string();
  return path;
}

}  // namespace autoglm::testing

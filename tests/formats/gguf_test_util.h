// Helpers for GGUF tests: a byte-level image builder (so a test can corrupt exactly one field)
// and assertions on the reader's Status.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <vector>

#include "formats/gguf.h"

namespace autoglm::gguf::testing {

class Bytes {
 public:
  template <typename T>
  Bytes& put(T v) {
    append(&v, sizeof(T));
    return *this;
  }
  // resize + memcpy rather than insert: GCC 12 -O3 warns (-Wnonnull) on vector::insert here.
  void append(const void* p, size_t n) {
    if (n == 0) return;
    const size_t at = b.size();
    b.resize(at + n);
    std::memcpy(b.data() + at, p, n);
  }
  Bytes& u8(uint8_t v) { return put(v); }
  Bytes& u32(uint32_t v) { return put(v); }
  Bytes& u64(uint64_t v) { return put(v); }
  Bytes& str(const std::string& s) {
    u64(s.size());
    append(s.data(), s.size());
    return *this;
  }
  Bytes& raw(const std::vector<uint8_t>& v) {
    append(v.data(), v.size());
    return *this;
  }
  std::vector<uint8_t> b;
};

// An encoded key/value pair: key, type id, payload.
inline std::vector<uint8_t> kv(const std::string& key, uint32_t type, const std::vector<uint8_t>& payload) {
  return Bytes().str(key).u32(type).raw(payload).b;
}
inline std::vector<uint8_t> kv_u32(const std::string& key, uint32_t v) { return kv(key, 4, Bytes().u32(v).b); }
inline std::vector<uint8_t> kv_str(const std::string& key, const std::string& v) {
  return kv(key, 8, Bytes().str(v).b);
}

struct RawTensor {
  std::string name;
  std::vector<uint64_t> ne;  // innermost first, as stored
  uint32_t type = 0;         // ggml type id
  uint64_t offset = 0;
};

// A GGUF image put together field by field; build() lays it out like a real file.
struct RawImage {
  uint32_t magic = 0x46554747;
  uint32_t version = 3;
  std::optional<uint64_t> n_tensors, n_kv;  // override the real counts
  std::vector<std::vector<uint8_t>> kvs;
  std::vector<RawTensor> tensors;
  uint64_t alignment = 32;                // where the data section starts (add the kv yourself)
  std::optional<uint64_t> data_bytes;     // default: up to the end of the last tensor

  std::vector<uint8_t> build() const {
    Bytes out;
    out.u32(magic).u32(version).u64(n_tensors.value_or(tensors.size())).u64(n_kv.value_or(kvs.size()));
    for (const auto& k : kvs) out.raw(k);
    uint64_t end = 0;
    for (const RawTensor& t : tensors) {
      out.str(t.name).u32(static_cast<uint32_t>(t.ne.size()));
      for (uint64_t d : t.ne) out.u64(d);
      out.u32(t.type).u64(t.offset);
      auto info = dtype_info_from_id(t.type);
      if (info && !t.ne.empty()) {
        uint64_t n = 1;
        for (uint64_t d : t.ne) n *= d;
        uint64_t bytes = n / static_cast<uint64_t>(info->block_size) * info->type_size;
        if (t.offset + bytes > end && bytes < (1u << 20)) end = t.offset + bytes;
      }
    }
    if (!tensors.empty()) {
      while (out.b.size() % alignment != 0) out.u8(0);
    }
    const uint64_t n = data_bytes.value_or(end);
    for (uint64_t i = 0; i < n; ++i) out.u8(static_cast<uint8_t>(i * 7 + 1));
    return out.b;
  }
};

inline Result<std::unique_ptr<File>> parse(const std::vector<uint8_t>& b) { return File::from_bytes(b.data(), b.size()); }

// Expects the image to be rejected with `code` and a message containing `needle`.
#define EXPECT_GGUF_ERROR(image_, code_, needle_)                                                     \
  do {                                                                                             \
    auto r_ = ::autoglm::gguf::testing::parse(image_);                                              \
    ASSERT_FALSE(r_.ok()) << "accepted a bad image";                                               \
    EXPECT_EQ(r_.status().code(), code_) << r_.status().to_string();                                \
    EXPECT_NE(r_.status().message().find(needle_), std::string::npos) << r_.status().to_string();   \
  } while (0)

}  // namespace autoglm::gguf::testing

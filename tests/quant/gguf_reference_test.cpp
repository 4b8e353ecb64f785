// Bit-exact agreement with an independent reference: tests/data/quant_reference.bin holds random
// block bytes with gguf-py's dequantization, and float rows with gguf-py's quantization
// (scripts/gen_quant_fixtures.py). AUTOGLM_QUANT_FIXTURE overrides the file (the Python test uses
// it to check freshly generated data).
#include <gtest/gtest.h>

#include <bit>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "quant/quant.h"

namespace autoglm::quant {
namespace {

struct Record {
  uint32_t kind = 0;  // 0: bytes -> floats (dequantize), 1: floats -> bytes (quantize)
  DType type = DType::F32;
  std::vector<uint8_t> bytes;
  std::vector<float> values;
};

class Reader {
 public:
  explicit Reader(std::vector<uint8_t> data) : data_(std::move(data)) {}
  bool read(void* dst, size_t n) {
    if (n > data_.size() - pos_) return false;
    std::memcpy(dst, data_.data() + pos_, n);
    pos_ += n;
    return true;
  }
  bool at_end() const { return pos_ == data_.size(); }

 private:
  std::vector<uint8_t> data_;
  size_t pos_ = 0;
};

std::string fixture_path() {
  const char* env = std::getenv("AUTOGLM_QUANT_FIXTURE");
  if (env != nullptr && *env != '\0') return env;
  return std::string(AUTOGLM_TEST_DATA) + "/quant_reference.bin";
}

// Parses the whole fixture; any malformed field fails the test with a message.
std::vector<Record> load_records() {
  std::ifstream f(fixture_path(), std::ios::binary);
  EXPECT_TRUE(f.good()) << "cannot open " << fixture_path();
  Reader r(std::vector<uint8_t>(std::istreambuf_iterator<char>(f), {}));
  char magic[8];
  uint32_t count = 0;
  std::vector<Record> out;
  if (!r.read(magic, 8) || std::memcmp(magic, "AGQREF01", 8) != 0 || !r.read(&count, 4)) {
    ADD_FAILURE() << "bad fixture header";
    return out;
  }
  for (uint32_t i = 0; i < count; ++i) {
    uint32_t hdr[4];
    if (!r.read(hdr, sizeof(hdr))) {
      ADD_FAILURE() << "truncated record " << i;
      return {};
    }
    Record rec;
    rec.kind = hdr[0];
    auto info = dtype_info_from_id(hdr[1]);
    if (!info || hdr[2] % info->block_size != 0 || hdr[3] != row_size(info->type, hdr[2])) {
      ADD_FAILURE() << "bad record " << i << " (type " << hdr[1] << ")";
      return {};
    }
    rec.type = info->type;
    rec.bytes.resize(hdr[3]);
    rec.values.resize(hdr[2]);
    if (!r.read(rec.bytes.data(), rec.bytes.size()) || !r.read(rec.values.data(), rec.values.size() * 4)) {
      ADD_FAILURE() << "truncated record " << i;
      return {};
    }
    out.push_back(std::move(rec));
  }
  EXPECT_TRUE(r.at_end()) << "trailing bytes in fixture";
  return out;
}

bool same_float(float a, float b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  return std::bit_cast<uint32_t>(a) == std::bit_cast<uint32_t>(b);
}

TEST(GgufReference, DequantizeMatchesGgufPyBitExactly) {
  const auto records = load_records();
  int checked = 0;
  for (const Record& rec : records) {
    if (rec.kind != 0) continue;
    SCOPED_TRACE(dtype_name(rec.type));
    ASSERT_NE(type_traits(rec.type), nullptr);
    const auto n = static_cast<int64_t>(rec.values.size());
    std::vector<float> got(rec.values.size());
    dequantize_row(rec.type, rec.bytes.data(), got.data(), n);
    int mismatches = 0;
    for (int64_t i = 0; i < n; ++i) {
      if (!same_float(got[i], rec.values[i]) && ++mismatches <= 5) {
        ADD_FAILURE() << "element " << i << ": ours " << got[i] << " gguf-py " << rec.values[i];
      }
    }
    EXPECT_EQ(mismatches, 0);
    ++checked;
  }
  // F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K..Q6_K, IQ4_NL, IQ4_XS, IQ2_XXS, IQ2_XS, IQ2_S, IQ3_XXS,
  // IQ3_S, IQ1_S, IQ1_M
  EXPECT_EQ(checked, 21);
}

TEST(GgufReference, QuantizeMatchesGgufPyBytes) {
  const auto records = load_records();
  int checked = 0;
  for (const Record& rec : records) {
    if (rec.kind != 1) continue;
    SCOPED_TRACE(dtype_name(rec.type));
    std::vector<uint8_t> got(rec.bytes.size());
    quantize_row(rec.type, rec.values.data(), got.data(), static_cast<int64_t>(rec.values.size()));
    const size_t bs = dtype_info(rec.type).type_size;
    int mismatches = 0;
    for (size_t b = 0; b < got.size() / bs; ++b) {
      if (std::memcmp(got.data() + b * bs, rec.bytes.data() + b * bs, bs) != 0 && ++mismatches <= 5) {
        ADD_FAILURE() << "block " << b << " differs";
      }
    }
    EXPECT_EQ(mismatches, 0);
    ++checked;
  }
  EXPECT_EQ(checked, 7);  // F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0
}

}  // namespace
}  // namespace autoglm::quant

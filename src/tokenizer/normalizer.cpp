#include "tokenizer/normalizer.h"

#include <utf8proc.h>

#include <algorithm>

#include "tokenizer/precompiled_charsmap.h"
#include "tokenizer/utf8.h"

namespace autoglm::text {

namespace {

constexpr char32_t kReplacementChar = 0xFFFD;

utf8proc_category_t category(char32_t c) {
  return static_cast<utf8proc_category_t>(utf8proc_category(static_cast<utf8proc_int32_t>(c)));
}

// utf8proc decomposes (and with `compose`, recomposes) UTF-8; our input is always well-formed
// here because decode_utf8 replaced every bad byte.
CodePoints run_utf8proc(std::u32string_view cps, utf8proc_option_t decompose_opts, bool compose) {
  const std::string s = encode_utf8(cps);
  const auto* p = reinterpret_cast<const utf8proc_uint8_t*>(s.data());
  const auto len = static_cast<utf8proc_ssize_t>(s.size());
  std::vector<utf8proc_int32_t> buf(cps.size() + 16);
  utf8proc_ssize_t n = utf8proc_decompose(p, len, buf.data(), static_cast<utf8proc_ssize_t>(buf.size()), decompose_opts);
  if (n > static_cast<utf8proc_ssize_t>(buf.size())) {
    buf.resize(static_cast<size_t>(n));
    n = utf8proc_decompose(p, len, buf.data(), static_cast<utf8proc_ssize_t>(buf.size()), decompose_opts);
  }
  if (n < 0) return CodePoints(cps);  // cannot happen on well-formed input; keep the text as it is
  if (compose) {
    const utf8proc_ssize_t m = utf8proc_normalize_utf32(buf.data(), n, static_cast<utf8proc_option_t>(
                                                                            UTF8PROC_STABLE | UTF8PROC_COMPOSE));
    if (m >= 0) n = m;
  }
  CodePoints out;
  out.reserve(static_cast<size_t>(n));
  for (utf8proc_ssize_t i = 0; i < n; ++i) out.push_back(static_cast<char32_t>(buf[static_cast<size_t>(i)]));
  return out;
}

void apply_bert(const BertNormalizerOptions& o, CodePoints* cps) {
  CodePoints out;
  out.reserve(cps->size());
  for (char32_t c : *cps) {
    if (o.clean_text) {
      if (c == 0 || c == kReplacementChar || is_control(c)) continue;
      if (is_whitespace(c)) c = U' ';
    }
    if (o.handle_chinese_chars && is_chinese_char(c)) {
      out.push_back(U' ');
      out.push_back(c);
      out.push_back(U' ');
    } else {
      out.push_back(c);
    }
  }
  if (o.strip_accents) {
    out = normalize(out, NormForm::kNFD);
    std::erase_if(out, is_nonspacing_mark);
  }
  if (o.lowercase) {
    CodePoints lower;
    lower.reserve(out.size());
    for (char32_t c : out) append_lowercase(c, &lower);
    out = std::move(lower);
  }
  *cps = std::move(out);
}

void apply_nmt(CodePoints* cps) {
  CodePoints out;
  out.reserve(cps->size());
  for (char32_t c : *cps) {
    if ((c >= 0x01 && c <= 0x08) || c == 0x0B || (c >= 0x0E && c <= 0x1F) || c == 0x7F || c == 0x8F || c == 0x9F) {
      continue;
    }
    const bool space = c == 0x09 || c == 0x0A || c == 0x0C || c == 0x0D || c == 0x1680 ||
                       (c >= 0x200B && c <= 0x200F) || c == 0x2028 || c == 0x2029 || c == 0x2581 || c == 0xFEFF ||
                       c == 0xFFFD;
    out.push_back(space ? U' ' : c);
  }
  *cps = std::move(out);
}

}  // namespace

size_t next_char(std::string_view s, char32_t* cp) {
  const auto b0 = static_cast<uint8_t>(s[0]);
  if (b0 < 0x80) {
    *cp = b0;
    return 1;
  }
  const utf8::CharInfo c = utf8::classify(s);
  if (c.kind != utf8::Lead::kComplete) {
    *cp = kReplacementChar;
    return 1;
  }
  char32_t v = c.len == 2 ? (b0 & 0x1Fu) : c.len == 3 ? (b0 & 0x0Fu) : (b0 & 0x07u);
  for (size_t k = 1; k < c.len; ++k) v = (v << 6) | (static_cast<uint8_t>(s[k]) & 0x3Fu);
  *cp = v;
  return c.len;
}

CodePoints decode_utf8(std::string_view s) {
  CodePoints out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    char32_t cp;
    i += next_char(s.substr(i), &cp);
    out.push_back(cp);
  }
  return out;
}

void append_utf8(char32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    if (cp >= 0xD800 && cp <= 0xDFFF) cp = kReplacementChar;  // never write a surrogate
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp <= 0x10FFFF) {
    out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    append_utf8(kReplacementChar, out);
  }
}

std::string encode_utf8(std::u32string_view cps) {
  std::string out;
  out.reserve(cps.size());
  for (char32_t c : cps) append_utf8(c, &out);
  return out;
}

bool is_whitespace(char32_t c) {
  // Unicode's White_Space property (stable since Unicode 6.3), which includes \t \n \r.
  if (c == U' ' || (c >= 0x09 && c <= 0x0D)) return true;
  if (c < 0x85) return false;
  return c == 0x85 || c == 0xA0 || c == 0x1680 || (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 ||
         c == 0x202F || c == 0x205F || c == 0x3000;
}

bool is_control(char32_t c) {
  // Not Cn: HF keeps unassigned code points (and its Unicode tables are newer than utf8proc's,
  // so "unassigned" would differ anyway).
  if (c == U'\t' || c == U'\n' || c == U'\r') return false;
  switch (category(c)) {
    case UTF8PROC_CATEGORY_CC:
    case UTF8PROC_CATEGORY_CF:
    case UTF8PROC_CATEGORY_CS:
    case UTF8PROC_CATEGORY_CO:
      return true;
    default:
      return false;
  }
}

bool is_punctuation(char32_t c) {
  if ((c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126)) return true;
  switch (category(c)) {
    case UTF8PROC_CATEGORY_PC:
    case UTF8PROC_CATEGORY_PD:
    case UTF8PROC_CATEGORY_PS:
    case UTF8PROC_CATEGORY_PE:
    case UTF8PROC_CATEGORY_PI:
    case UTF8PROC_CATEGORY_PF:
    case UTF8PROC_CATEGORY_PO:
      return true;
    default:
      return false;
  }
}

bool is_chinese_char(char32_t c) {
  // HF's ranges: BERT's, except that 2B820..2B91F is left out (checked against tokenizers 0.23).
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) || (c >= 0x20000 && c <= 0x2A6DF) ||
         (c >= 0x2A700 && c <= 0x2B73F) || (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B920 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

bool is_nonspacing_mark(char32_t c) { return category(c) == UTF8PROC_CATEGORY_MN; }

bool is_combining_mark(char32_t c) {
  const utf8proc_category_t cat = category(c);
  return cat == UTF8PROC_CATEGORY_MN || cat == UTF8PROC_CATEGORY_MC || cat == UTF8PROC_CATEGORY_ME;
}

void append_lowercase(char32_t c, CodePoints* out) {
  // The one unconditional multi-character lower-case mapping in SpecialCasing.txt; utf8proc
  // gives the simple (one-character) mappings, which equal the full ones everywhere else.
  if (c == 0x0130) {
    out->push_back(U'i');
    out->push_back(0x0307);
    return;
  }
  const utf8proc_int32_t l = utf8proc_tolower(static_cast<utf8proc_int32_t>(c));
  out->push_back(l < 0 ? c : static_cast<char32_t>(l));
}

CodePoints normalize(std::u32string_view cps, NormForm form) {
  const auto base = static_cast<utf8proc_option_t>(UTF8PROC_STABLE | UTF8PROC_DECOMPOSE);
  const auto compat = static_cast<utf8proc_option_t>(base | UTF8PROC_COMPAT);
  switch (form) {
    case NormForm::kNFD: return run_utf8proc(cps, base, false);
    case NormForm::kNFC: return run_utf8proc(cps, base, true);
    case NormForm::kNFKD: return run_utf8proc(cps, compat, false);
    case NormForm::kNFKC: return run_utf8proc(cps, compat, true);
  }
  return CodePoints(cps);
}

void Normalizer::apply(CodePoints* cps) const {
  for (const Step& s : steps_) {
    switch (s.kind) {
      case Kind::kBert:
        apply_bert(s.bert, cps);
        break;
      case Kind::kLowercase: {
        CodePoints lower;
        lower.reserve(cps->size());
        for (char32_t c : *cps) append_lowercase(c, &lower);
        *cps = std::move(lower);
        break;
      }
      case Kind::kStripAccents:
        std::erase_if(*cps, is_combining_mark);
        break;
      case Kind::kForm:
        *cps = normalize(*cps, s.form);
        break;
      case Kind::kStrip: {
        size_t b = 0, e = cps->size();
        if (s.strip_left) while (b < e && is_whitespace((*cps)[b])) ++b;
        if (s.strip_right) while (e > b && is_whitespace((*cps)[e - 1])) --e;
        *cps = cps->substr(b, e - b);
        break;
      }
      case Kind::kPrepend:
        if (!cps->empty()) cps->insert(0, s.content);
        break;
      case Kind::kReplace: {
        CodePoints out;
        out.reserve(cps->size());
        size_t i = 0;
        while (i < cps->size()) {
          if (cps->compare(i, s.pattern.size(), s.pattern) == 0) {
            out += s.content;
            i += s.pattern.size();
          } else {
            out.push_back((*cps)[i++]);
          }
        }
        *cps = std::move(out);
        break;
      }
      case Kind::kReplaceRun: {
        CodePoints out;
        out.reserve(cps->size());
        const char32_t c = s.pattern[0];
        for (size_t i = 0; i < cps->size();) {
          size_t run = 0;
          while (i + run < cps->size() && (*cps)[i + run] == c) ++run;
          if (run == 0) {
            out.push_back((*cps)[i++]);
          } else {
            if (run >= s.min_run) out += s.content;
            else out.append(run, c);
            i += run;
          }
        }
        *cps = std::move(out);
        break;
      }
      case Kind::kNmt:
        apply_nmt(cps);
        break;
      case Kind::kPrecompiled:
        *cps = decode_utf8(s.charsmap->normalize(encode_utf8(*cps)));
        break;
    }
  }
}

void Normalizer::add_prepend(std::string_view content) {
  Step s{Kind::kPrepend, {}};
  s.content = decode_utf8(content);
  steps_.push_back(std::move(s));
}

void Normalizer::add_replace(std::string_view pattern, std::string_view content) {
  Step s{Kind::kReplace, {}};
  s.pattern = decode_utf8(pattern);
  s.content = decode_utf8(content);
  if (!s.pattern.empty()) steps_.push_back(std::move(s));  // an empty pattern matches nowhere
}

void Normalizer::add_replace_run(char32_t c, size_t min_run, std::string_view content) {
  Step s{Kind::kReplaceRun, {}};
  s.pattern = CodePoints(1, c);
  s.content = decode_utf8(content);
  s.min_run = min_run < 1 ? 1 : min_run;
  steps_.push_back(std::move(s));
}

void Normalizer::add_precompiled(std::shared_ptr<const PrecompiledCharsmap> charsmap) {
  Step s{Kind::kPrecompiled, {}};
  s.charsmap = std::move(charsmap);
  steps_.push_back(std::move(s));
}

std::string Normalizer::apply(std::string_view utf8) const {
  CodePoints cps = decode_utf8(utf8);
  apply(&cps);
  return encode_utf8(cps);
}

}  // namespace autoglm::text

#include "tokenizer/pretokenizer.h"

#include <utf8proc.h>

#include <algorithm>
#include <array>
#include <utility>

#include "tokenizer/utf8.h"

namespace autoglm {

namespace {

constexpr uint32_t kBadByte = 0xFFFFFFFF;  // an ill-formed UTF-8 byte: matches no class

enum : uint8_t { kL = 1, kN = 2, kS = 4, kP = 8 };

struct Ch {
  uint32_t cp;
  uint32_t off;  // byte offset inside the piece
  uint8_t cls;
};

bool is_white_space(uint32_t cp) {
  if (cp == 0x20 || (cp >= 0x09 && cp <= 0x0D)) return true;
  if (cp < 0x85) return false;
  return cp == 0x85 || cp == 0xA0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 ||
         cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

uint8_t classify(uint32_t cp) {
  if (cp == kBadByte) return 0;
  if (cp < 0x80) {  // fast path for ASCII
    if ((cp | 0x20) >= 'a' && (cp | 0x20) <= 'z') return kL;
    if (cp >= '0' && cp <= '9') return kN;
    if (is_white_space(cp)) return kS;
    if (cp < 0x20 || cp == 0x7F) return 0;
    // ASCII punctuation in category P: everything printable but $ + < = > ^ ` | ~ (symbols).
    switch (cp) {
      case '$': case '+': case '<': case '=': case '>': case '^': case '`': case '|': case '~':
        return 0;
      default:
        return kP;
    }
  }
  if (is_white_space(cp)) return kS;
  switch (utf8proc_category(static_cast<utf8proc_int32_t>(cp))) {
    case UTF8PROC_CATEGORY_LU: case UTF8PROC_CATEGORY_LL: case UTF8PROC_CATEGORY_LT:
    case UTF8PROC_CATEGORY_LM: case UTF8PROC_CATEGORY_LO:
      return kL;
    case UTF8PROC_CATEGORY_ND: case UTF8PROC_CATEGORY_NL: case UTF8PROC_CATEGORY_NO:
      return kN;
    case UTF8PROC_CATEGORY_PC: case UTF8PROC_CATEGORY_PD: case UTF8PROC_CATEGORY_PS:
    case UTF8PROC_CATEGORY_PE: case UTF8PROC_CATEGORY_PI: case UTF8PROC_CATEGORY_PF:
    case UTF8PROC_CATEGORY_PO:
      return kP;
    default:
      return 0;
  }
}

// The text's characters; an ill-formed byte is one character. byte_view: one character per byte,
// its GPT-2 byte-level code point.
void decode(std::string_view s, bool byte_view, std::vector<Ch>* out) {
  out->clear();
  for (size_t i = 0; i < s.size();) {
    uint32_t cp;
    size_t len = 1;
    const auto b0 = static_cast<uint8_t>(s[i]);
    if (byte_view) {
      cp = byte_to_codepoint(b0);
    } else if (b0 < 0x80) {
      cp = b0;
    } else {
      const utf8::CharInfo c = utf8::classify(s.substr(i));
      if (c.kind != utf8::Lead::kComplete) {
        cp = kBadByte;
      } else {
        len = c.len;
        cp = b0 & (0xFF >> (len + 1));
        for (size_t k = 1; k < len; ++k) cp = (cp << 6) | (static_cast<uint8_t>(s[i + k]) & 0x3F);
      }
    }
    out->push_back({cp, static_cast<uint32_t>(i), classify(cp)});
    i += len;
  }
}

bool is_cr_lf(uint32_t cp) { return cp == '\r' || cp == '\n'; }
bool is_other(const Ch& c) { return (c.cls & (kL | kN | kS)) == 0; }  // [^\s\p{L}\p{N}]

template <typename Pred>
size_t run_end(const Ch* c, size_t i, size_t n, Pred pred) {
  while (i < n && pred(c[i])) ++i;
  return i;
}
size_t class_run_end(const Ch* c, size_t i, size_t n, uint8_t cls) {
  return run_end(c, i, n, [cls](const Ch& x) { return (x.cls & cls) != 0; });
}

// 's|'t|'re|'ve|'m|'ll|'d; fold: (?i:...), where Unicode case folding also maps U+017F (long s)
// to s.
size_t contraction(const Ch* c, size_t i, size_t n, bool fold) {
  if (c[i].cp != '\'' || i + 1 >= n) return 0;
  auto at = [&](size_t k) {
    uint32_t cp = c[k].cp;
    if (fold && cp >= 'A' && cp <= 'Z') cp += 'a' - 'A';
    if (fold && cp == 0x17F) cp = 's';
    return cp;
  };
  const uint32_t a = at(i + 1);
  if (a == 's' || a == 't' || a == 'm' || a == 'd') return 2;
  if (i + 2 < n) {
    const uint32_t b = at(i + 2);
    if ((a == 'r' && b == 'e') || (a == 'v' && b == 'e') || (a == 'l' && b == 'l')) return 3;
  }
  return 0;
}

// \s+(?!\S)|\s+ at a whitespace character: the run, less its last character when a non-space
// follows and the run is longer than one.
size_t space_run(const Ch* c, size_t i, size_t n) {
  const size_t k = class_run_end(c, i, n, kS);
  if (k == n || k - i == 1) return k - i;
  return k - 1 - i;
}

size_t match_gpt2(const Ch* c, size_t i, size_t n) {
  if (size_t m = contraction(c, i, n, false)) return m;
  const size_t j = c[i].cp == ' ' && i + 1 < n ? i + 1 : i;  // " ?"
  if (c[j].cls & kL) return class_run_end(c, j, n, kL) - i;
  if (c[j].cls & kN) return class_run_end(c, j, n, kN) - i;
  if (is_other(c[j])) return run_end(c, j, n, is_other) - i;
  if (c[i].cls & kS) return space_run(c, i, n);
  return 0;
}

size_t match_llama3(const Ch* c, size_t i, size_t n, size_t max_digits) {
  if (size_t m = contraction(c, i, n, true)) return m;
  // [^\r\n\p{L}\p{N}]?\p{L}+
  if (c[i].cls & kL) return class_run_end(c, i, n, kL) - i;
  if (!is_cr_lf(c[i].cp) && (c[i].cls & kN) == 0 && i + 1 < n && (c[i + 1].cls & kL)) {
    return class_run_end(c, i + 1, n, kL) - i;
  }
  if (c[i].cls & kN) return std::min(class_run_end(c, i, n, kN) - i, max_digits);
  // ' ?[^\s\p{L}\p{N}]+[\r\n]*'
  const size_t j = c[i].cp == ' ' && i + 1 < n ? i + 1 : i;
  if (is_other(c[j])) {
    const size_t k = run_end(c, j, n, is_other);
    return run_end(c, k, n, [](const Ch& x) { return is_cr_lf(x.cp); }) - i;
  }
  if ((c[i].cls & kS) == 0) return 0;
  // \s*[\r\n]+: backtracking leaves \s* ending at the run's last CR/LF.
  const size_t k = class_run_end(c, i, n, kS);
  for (size_t p = k; p > i; --p) {
    if (is_cr_lf(c[p - 1].cp)) return p - i;
  }
  return space_run(c, i, n);
}

// \s?X+ for a class X.
template <typename Pred>
size_t space_then_run(const Ch* c, size_t i, size_t n, Pred pred) {
  const size_t j = (c[i].cls & kS) && i + 1 < n ? i + 1 : i;
  if (!pred(c[j])) return 0;
  return run_end(c, j, n, pred) - i;
}

// DeepSeek LLM's enumerated letter ranges (its tokenizer.json lists them instead of \p{L}).
constexpr std::pair<uint32_t, uint32_t> kDeepseekCasedRanges[] = {
    {0x0041, 0x005A}, {0x0061, 0x007A}, {0x00B5, 0x00B5}, {0x00C0, 0x00D6}, {0x00D8, 0x00F6},
    {0x00F8, 0x01BA}, {0x01BC, 0x01BF}, {0x01C4, 0x0293}, {0x0295, 0x02AF}, {0x0370, 0x0373},
    {0x0376, 0x0376}, {0x0377, 0x0377}, {0x037B, 0x037D}, {0x037F, 0x037F}, {0x0386, 0x0386},
    {0x0388, 0x038A}, {0x038C, 0x038C}, {0x038E, 0x03A1}, {0x03A3, 0x03F5}, {0x03F7, 0x0481},
    {0x048A, 0x052F}, {0x0531, 0x0556}, {0x10A0, 0x10C5}, {0x13A0, 0x13F5}, {0x13F8, 0x13FD},
    {0x1C90, 0x1CBA}, {0x1CBD, 0x1CBF}, {0x1D00, 0x1D2B}, {0x1D6B, 0x1D77}, {0x1D79, 0x1D9A},
    {0x1E00, 0x1F15}, {0x1F18, 0x1F1D}, {0x1F20, 0x1F45}, {0x1F48, 0x1F4D}, {0x1F50, 0x1F57},
    {0x1F59, 0x1F59}, {0x1F5B, 0x1F5B}, {0x1F5D, 0x1F5D}, {0x1F5F, 0x1F7D}, {0x1F80, 0x1FB4},
    {0x1FB6, 0x1FBC}, {0x1FBE, 0x1FBE}, {0x1FC2, 0x1FC4}, {0x1FC6, 0x1FCC}, {0x1FD0, 0x1FD3},
    {0x1FD6, 0x1FDB}, {0x1FE0, 0x1FEC}, {0x1FF2, 0x1FF4}, {0x1FF6, 0x1FFC}, {0x2102, 0x2102},
    {0x2107, 0x2107}, {0x210A, 0x2113}, {0x2115, 0x2115}, {0x2119, 0x211D}, {0x2124, 0x2124},
    {0x2126, 0x2126}, {0x2128, 0x2128}, {0x212A, 0x212D}, {0x212F, 0x2134}, {0x2139, 0x2139},
    {0x213C, 0x213F}, {0x2145, 0x2149}, {0x214E, 0x214E}, {0x2183, 0x2183}, {0x2184, 0x2184},
    {0x2C00, 0x2C7B}, {0x2C7E, 0x2CE4}, {0x2CEB, 0x2CEE}, {0x2CF2, 0x2CF2}, {0x2CF3, 0x2CF3},
    {0xA640, 0xA66D}, {0xA680, 0xA69B}, {0xA722, 0xA76F}, {0xA771, 0xA787}, {0xA78B, 0xA78E},
    {0xAB70, 0xABBF}, {0xFB00, 0xFB06}, {0xFB13, 0xFB17}, {0xFF21, 0xFF3A}, {0xFF41, 0xFF5A},
    {0x10400, 0x1044F}, {0x104B0, 0x104D3}, {0x104D8, 0x104FB}, {0x10C80, 0x10CB2}, {0x10CC0, 0x10CF2},
    {0x118A0, 0x118DF}, {0x1E900, 0x1E943},
};
// [!-/:-~！-／：-～‘-‟　-。]
constexpr std::pair<uint32_t, uint32_t> kDeepseekPunctRanges[] = {
    {0x21, 0x2F}, {0x3A, 0x7E}, {0xFF01, 0xFF0F}, {0xFF1A, 0xFF5E}, {0x2018, 0x201F}, {0x3000, 0x3002},
};
// [一-龥ࠀ-一가-퟿]
constexpr std::pair<uint32_t, uint32_t> kDeepseekCjkRanges[] = {{0x4E00, 0x9FA5}, {0x0800, 0x4E00}, {0xAC00, 0xD7FF}};

template <size_t N>
bool in_ranges(uint32_t cp, const std::pair<uint32_t, uint32_t> (&ranges)[N]) {
  for (const auto& [lo, hi] : ranges) {
    if (cp >= lo && cp <= hi) return true;
  }
  return false;
}

bool is_deepseek_cased(const Ch& c) {
  // Sorted by start: binary search for the last range starting at or before cp.
  const auto* end = std::end(kDeepseekCasedRanges);
  const auto* it = std::upper_bound(std::begin(kDeepseekCasedRanges), end, c.cp,
                                    [](uint32_t cp, const std::pair<uint32_t, uint32_t>& r) { return cp < r.first; });
  return it != std::begin(kDeepseekCasedRanges) && c.cp <= (it - 1)->second;
}

bool is_falcon_punct(const Ch& c) {
  if (c.cls & kP) return true;
  switch (c.cp) {
    case '$': case '+': case '<': case '=': case '>': case '^': case '~': case '|': case '`':
      return true;
    default:
      return false;
  }
}

bool is_ascii_digit(const Ch& c) { return c.cp >= '0' && c.cp <= '9'; }

// Length in characters of the rule's match starting at c[i] (0: none). On no match, *skip says
// how many characters from i cannot start one either (keeps whitespace runs linear).
size_t match(PreRule rule, const Ch* c, size_t i, size_t n, size_t* skip) {
  *skip = 1;
  switch (rule) {
    case PreRule::kGpt2: return match_gpt2(c, i, n);
    case PreRule::kLlama3: return match_llama3(c, i, n, 3);
    case PreRule::kQwen2: return match_llama3(c, i, n, 1);
    case PreRule::kDigit: return (c[i].cls & kN) ? 1 : 0;
    case PreRule::kDigitRun: return class_run_end(c, i, n, kN) - i;
    case PreRule::kThreeDigits:
      return i + 2 < n && is_ascii_digit(c[i]) && is_ascii_digit(c[i + 1]) && is_ascii_digit(c[i + 2]) ? 3 : 0;
    case PreRule::kFalconPunct: return run_end(c, i, n, is_falcon_punct) - i;
    case PreRule::kPunctAlone: return is_falcon_punct(c[i]) ? 1 : 0;
    case PreRule::kNewline: return is_cr_lf(c[i].cp) ? 1 : 0;
    case PreRule::kSpaceLetters:
      return space_then_run(c, i, n, [](const Ch& x) { return (x.cls & kL) != 0; });
    case PreRule::kSpacePunct:
      return space_then_run(c, i, n, [](const Ch& x) { return (x.cls & kP) != 0; });
    case PreRule::kDeepseekCased: return space_then_run(c, i, n, is_deepseek_cased);
    case PreRule::kDeepseekPunct:
      return space_then_run(c, i, n, [](const Ch& x) { return in_ranges(x.cp, kDeepseekPunctRanges); });
    case PreRule::kTrailingSpace: {
      // Oniguruma's $ (Ruby syntax) also matches before any '\n': the longest whitespace run that
      // ends at the piece's end or right before a '\n'.
      if ((c[i].cls & kS) == 0) return 0;
      const size_t k = class_run_end(c, i, n, kS);
      if (k == n) return n - i;
      for (size_t e = k - 1; e > i; --e) {
        if (c[e].cp == '\n') return e - i;
      }
      *skip = k - i;
      return 0;
    }
    case PreRule::kDeepseekCjk:
      return run_end(c, i, n, [](const Ch& x) { return in_ranges(x.cp, kDeepseekCjkRanges); }) - i;
  }
  return 0;
}

void append_utf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    out->push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

std::string ranges_class(const std::pair<uint32_t, uint32_t>* begin, const std::pair<uint32_t, uint32_t>* end) {
  std::string s;
  for (const auto* r = begin; r != end; ++r) {
    const auto put = [&s](uint32_t cp) {
      if (cp < 0x10000) {
        append_utf8(cp, &s);
      } else {
        s.push_back(static_cast<char>(0xF0 | (cp >> 18)));
        s.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
        s.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
        s.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
      }
    };
    put(r->first);
    if (r->second != r->first) {
      s.push_back('-');
      put(r->second);
    }
  }
  return s;
}

struct ByteMap {
  std::array<uint32_t, 256> to_cp{};
  std::array<int16_t, 324> to_byte{};  // the image lies below U+0144
  ByteMap() {
    to_byte.fill(-1);
    uint32_t next = 256;
    for (int b = 0; b < 256; ++b) {
      const bool self = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      to_cp[static_cast<size_t>(b)] = self ? static_cast<uint32_t>(b) : next++;
      to_byte[to_cp[static_cast<size_t>(b)]] = static_cast<int16_t>(b);
    }
  }
};

const ByteMap& byte_map() {
  static const ByteMap m;
  return m;
}

}  // namespace

uint32_t byte_to_codepoint(uint8_t b) { return byte_map().to_cp[b]; }

int codepoint_to_byte(uint32_t cp) { return cp < byte_map().to_byte.size() ? byte_map().to_byte[cp] : -1; }

void append_byte_level(std::string_view bytes, std::string* out) {
  for (char c : bytes) append_utf8(byte_to_codepoint(static_cast<uint8_t>(c)), out);
}

Result<PreTokenizer> PreTokenizer::for_ggml_pre(std::string_view pre) {
  using R = PreRule;
  auto make = [](std::initializer_list<R> rules) {
    std::vector<Step> steps;
    for (R r : rules) steps.push_back({r, false});
    return PreTokenizer(std::move(steps));
  };
  // GPT-2's regex; GPT-NeoX/MPT/OLMo/Phi-2 tokenizers reuse it.
  if (pre.empty() || pre == "default" || pre == "gpt-2" || pre == "gpt2" || pre == "mpt" || pre == "gpt-neox" ||
      pre == "olmo" || pre == "phi-2") {
    return make({R::kGpt2});
  }
  if (pre == "llama3" || pre == "llama-bpe" || pre == "llama-v3" || pre == "smaug-bpe" || pre == "dbrx" ||
      pre == "chatglm4" || pre == "glm4") {
    return make({R::kLlama3});
  }
  if (pre == "qwen2") return make({R::kQwen2});
  // Digits(individual_digits) then ByteLevel.
  if (pre == "starcoder" || pre == "refact" || pre == "smollm" || pre == "command-r" || pre == "codeshell") {
    return make({R::kDigit, R::kGpt2});
  }
  if (pre == "falcon") return make({R::kFalconPunct, R::kGpt2, R::kThreeDigits});
  if (pre == "deepseek-coder") {
    return make({R::kNewline, R::kSpaceLetters, R::kSpacePunct, R::kDeepseekCjk, R::kDigit});
  }
  if (pre == "deepseek-llm") {
    return make({R::kNewline, R::kDeepseekCased, R::kDeepseekPunct, R::kTrailingSpace, R::kDeepseekCjk,
                 R::kDigitRun});
  }
  return Unsupported("pre-tokenizer '" + std::string(pre) + "' is not supported");
}

Result<PreRule> PreTokenizer::rule_for_regex(std::string_view regex) {
  static const std::vector<std::pair<std::string, PreRule>> known = [] {
    const std::string gpt2 = R"('s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S))";
    const std::string cl100k_head = R"((?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|)";
    const std::string cl100k_tail = R"(| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+)";
    return std::vector<std::pair<std::string, PreRule>>{
        {gpt2 + R"(|\s+)", PreRule::kGpt2},
        {gpt2, PreRule::kGpt2},
        {cl100k_head + R"(\p{N}{1,3})" + cl100k_tail, PreRule::kLlama3},
        {cl100k_head + R"(\p{N})" + cl100k_tail, PreRule::kQwen2},
        {R"(\p{N})", PreRule::kDigit},
        {R"(\p{N}+)", PreRule::kDigitRun},
        {"[0-9][0-9][0-9]", PreRule::kThreeDigits},
        {"[\r\n]", PreRule::kNewline},
        {R"(\s?\p{L}+)", PreRule::kSpaceLetters},
        {R"(\s?\p{P}+)", PreRule::kSpacePunct},
        {R"(\s?[)" + ranges_class(std::begin(kDeepseekCasedRanges), std::end(kDeepseekCasedRanges)) + "]+",
         PreRule::kDeepseekCased},
        {R"(\s?[!-/:-~)" "\xEF\xBC\x81-\xEF\xBC\x8F\xEF\xBC\x9A-\xEF\xBD\x9E\xE2\x80\x98-\xE2\x80\x9F"
         "\xE3\x80\x80-\xE3\x80\x82]+",
         PreRule::kDeepseekPunct},
        {R"(\s+$)", PreRule::kTrailingSpace},
        {"[\xE4\xB8\x80-\xE9\xBE\xA5\xE0\xA0\x80-\xE4\xB8\x80\xEA\xB0\x80-\xED\x9F\xBF]+", PreRule::kDeepseekCjk},
    };
  }();
  for (const auto& [text, rule] : known) {
    if (text == regex) return rule;
  }
  return Unsupported("pre-tokenizer regex is not supported: " + std::string(regex.substr(0, 200)));
}

void PreTokenizer::split(std::string_view text, std::vector<std::string_view>* pieces) const {
  pieces->clear();
  if (text.empty()) return;
  pieces->push_back(text);
  std::vector<std::string_view> next;
  std::vector<Ch> chars;
  for (const Step& step : steps_) {
    next.clear();
    for (std::string_view piece : *pieces) {
      decode(piece, step.byte_view, &chars);
      const size_t n = chars.size();
      auto sub = [&](size_t a, size_t b) {
        const size_t end = b < n ? chars[b].off : piece.size();
        return piece.substr(chars[a].off, end - chars[a].off);
      };
      size_t gap = 0;
      for (size_t i = 0; i < n;) {
        size_t skip = 1;
        const size_t m = match(step.rule, chars.data(), i, n, &skip);
        if (m == 0) {
          i += skip;
          continue;
        }
        if (gap < i) next.push_back(sub(gap, i));
        next.push_back(sub(i, i + m));
        i += m;
        gap = i;
      }
      if (gap < n) next.push_back(sub(gap, n));
    }
    pieces->swap(next);
  }
}

}  // namespace autoglm

#include "tokenizer/chat_template/text.h"

#include <utf8proc.h>

#include "tokenizer/utf8.h"

namespace autoglm::tmpl::text {
namespace {

struct Char {
  int32_t cp;  // -1 for an invalid byte
  size_t off;
  size_t len;
};

std::vector<Char> decode(std::string_view s) {
  std::vector<Char> out;
  out.reserve(s.size());
  size_t i = 0;
  while (i < s.size()) {
    const utf8::CharInfo ci = utf8::classify(s.substr(i));
    if (ci.kind != utf8::Lead::kComplete) {
      out.push_back({-1, i, 1});
      ++i;
      continue;
    }
    const auto* p = reinterpret_cast<const unsigned char*>(s.data() + i);
    int32_t cp;
    switch (ci.len) {
      case 1: cp = p[0]; break;
      case 2: cp = ((p[0] & 0x1F) << 6) | (p[1] & 0x3F); break;
      case 3: cp = ((p[0] & 0x0F) << 12) | ((p[1] & 0x3F) << 6) | (p[2] & 0x3F); break;
      default: cp = ((p[0] & 0x07) << 18) | ((p[1] & 0x3F) << 12) | ((p[2] & 0x3F) << 6) | (p[3] & 0x3F); break;
    }
    out.push_back({cp, i, ci.len});
    i += ci.len;
  }
  return out;
}

void put(const Char& c, std::string_view src, int32_t mapped, std::string* out) {
  if (c.cp < 0 || mapped == c.cp) {
    out->append(src.substr(c.off, c.len));
    return;
  }
  utf8proc_uint8_t buf[4];
  const auto n = utf8proc_encode_char(mapped, buf);
  out->append(reinterpret_cast<const char*>(buf), static_cast<size_t>(n));
}

bool is_space_cp(int32_t cp) {
  if (cp < 0) return false;
  if ((cp >= 0x09 && cp <= 0x0D) || (cp >= 0x1C && cp <= 0x20) || cp == 0x85 || cp == 0xA0) return true;
  if (cp < 0x80) return false;
  const auto cat = utf8proc_category(cp);
  return cat == UTF8PROC_CATEGORY_ZS || cat == UTF8PROC_CATEGORY_ZL || cat == UTF8PROC_CATEGORY_ZP;
}

bool is_cased_letter(int32_t cp) {
  if (cp < 0) return false;
  const auto cat = utf8proc_category(cp);
  return cat == UTF8PROC_CATEGORY_LU || cat == UTF8PROC_CATEGORY_LL || cat == UTF8PROC_CATEGORY_LT;
}

}  // namespace

std::vector<size_t> char_offsets(std::string_view s) {
  std::vector<size_t> offs;
  offs.reserve(s.size() + 1);
  for (const Char& c : decode(s)) offs.push_back(c.off);
  offs.push_back(s.size());
  return offs;
}

size_t char_count(std::string_view s) {
  size_t n = 0;
  for (size_t i = 0; i < s.size(); ++n) i += utf8::char_len(s.substr(i));
  return n;
}

std::string upper(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (const Char& c : decode(s)) {
    if (c.cp == 0xDF) {  // Python's full case mapping: ß -> SS
      out += "SS";
      continue;
    }
    put(c, s, c.cp < 0 ? c.cp : utf8proc_toupper(c.cp), &out);
  }
  return out;
}

std::string lower(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (const Char& c : decode(s)) put(c, s, c.cp < 0 ? c.cp : utf8proc_tolower(c.cp), &out);
  return out;
}

std::string title(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  bool prev_cased = false;
  for (const Char& c : decode(s)) {
    const bool cased = is_cased_letter(c.cp);
    int32_t m = c.cp;
    if (cased) m = prev_cased ? utf8proc_tolower(c.cp) : utf8proc_totitle(c.cp);
    put(c, s, m, &out);
    prev_cased = cased;
  }
  return out;
}

std::string capitalize(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  bool first = true;
  for (const Char& c : decode(s)) {
    int32_t m = c.cp;
    if (c.cp >= 0) m = first ? utf8proc_totitle(c.cp) : utf8proc_tolower(c.cp);
    put(c, s, m, &out);
    first = false;
  }
  return out;
}

std::string strip(std::string_view s, const std::string* chars, bool left, bool right) {
  const std::vector<Char> cs = decode(s);
  std::vector<Char> set;
  if (chars) set = decode(*chars);
  auto strippable = [&](const Char& c) {
    if (!chars) return is_space_cp(c.cp);
    for (const Char& x : set) {
      if (x.len == c.len && s.substr(c.off, c.len) == std::string_view(*chars).substr(x.off, x.len)) return true;
    }
    return false;
  };
  size_t b = 0;
  size_t e = cs.size();
  if (left) {
    while (b < e && strippable(cs[b])) ++b;
  }
  if (right) {
    while (e > b && strippable(cs[e - 1])) --e;
  }
  if (b == e) return {};
  const size_t from = cs[b].off;
  const size_t to = cs[e - 1].off + cs[e - 1].len;
  return std::string(s.substr(from, to - from));
}

std::vector<std::string> split(std::string_view s, const std::string* sep, long long maxsplit) {
  std::vector<std::string> out;
  if (sep) {
    size_t start = 0;
    while (maxsplit < 0 || static_cast<long long>(out.size()) < maxsplit) {
      const size_t f = s.find(*sep, start);
      if (f == std::string_view::npos) break;
      out.emplace_back(s.substr(start, f - start));
      start = f + sep->size();
    }
    out.emplace_back(s.substr(start));
    return out;
  }
  const std::vector<Char> cs = decode(s);
  size_t i = 0;
  while (i < cs.size()) {
    while (i < cs.size() && is_space_cp(cs[i].cp)) ++i;
    if (i >= cs.size()) break;
    if (maxsplit >= 0 && static_cast<long long>(out.size()) >= maxsplit) {
      // The rest, with trailing whitespace stripped (Python keeps it as one piece).
      std::string rest(s.substr(cs[i].off));
      out.push_back(strip(rest, nullptr, false, true));
      break;
    }
    size_t j = i;
    while (j < cs.size() && !is_space_cp(cs[j].cp)) ++j;
    const size_t end = j < cs.size() ? cs[j].off : s.size();
    out.emplace_back(s.substr(cs[i].off, end - cs[i].off));
    i = j;
  }
  return out;
}

std::string replace(std::string_view s, std::string_view from, std::string_view to, long long count) {
  std::string out;
  if (from.empty()) {
    // Python inserts `to` between characters and at both ends.
    const std::vector<size_t> offs = char_offsets(s);
    long long n = 0;
    for (size_t k = 0; k + 1 < offs.size(); ++k) {
      if (count < 0 || n < count) {
        out += to;
        ++n;
      }
      out.append(s.substr(offs[k], offs[k + 1] - offs[k]));
    }
    if (count < 0 || n < count) out += to;
    return out;
  }
  size_t start = 0;
  long long n = 0;
  while (count < 0 || n < count) {
    const size_t f = s.find(from, start);
    if (f == std::string_view::npos) break;
    out.append(s.substr(start, f - start));
    out += to;
    start = f + from.size();
    ++n;
  }
  out.append(s.substr(start));
  return out;
}

}  // namespace autoglm::tmpl::text

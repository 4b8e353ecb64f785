#include "tokenizer/chat_template/lexer.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace autoglm::tmpl {

Status template_error(int line, int col, const std::string& msg) {
  return InvalidArgument("chat template: line " + std::to_string(line) + ", column " + std::to_string(col) + ": " +
                         msg);
}

namespace {

bool is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }
bool is_name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_name_char(char c) { return is_name_start(c) || is_digit(c); }

void append_utf8(uint32_t cp, std::string* out) {
  if (cp < 0x80) {
    *out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    *out += static_cast<char>(0xC0 | (cp >> 6));
    *out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    *out += static_cast<char>(0xE0 | (cp >> 12));
    *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    *out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    *out += static_cast<char>(0xF0 | (cp >> 18));
    *out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    *out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    *out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

class Lexer {
 public:
  explicit Lexer(std::string src) : src_(std::move(src)) {
    for (size_t i = 0; i < src_.size(); ++i) {
      if (src_[i] == '\n') newlines_.push_back(i);
    }
  }

  Result<std::vector<Token>> run();

 private:
  void position(size_t off, int* line, int* col) const {
    const auto it = std::lower_bound(newlines_.begin(), newlines_.end(), off);
    *line = static_cast<int>(it - newlines_.begin()) + 1;
    const size_t start = it == newlines_.begin() ? 0 : *(it - 1) + 1;
    *col = static_cast<int>(off - start) + 1;
  }
  Status error_at(size_t off, const std::string& msg) const {
    int line, col;
    position(off, &line, &col);
    return template_error(line, col, msg);
  }
  void emit(Tok kind, std::string text, size_t off) {
    Token t;
    t.kind = kind;
    t.text = std::move(text);
    position(off, &t.line, &t.col);
    out_.push_back(std::move(t));
  }
  Status lex_tag_body(bool block, size_t open_off);
  Status lex_string(size_t* pos);
  void lex_number(size_t* pos);

  std::string src_;
  std::vector<size_t> newlines_;
  std::vector<Token> out_;
};

Result<std::vector<Token>> Lexer::run() {
  size_t pos = 0;
  bool line_starting = true;
  while (pos <= src_.size()) {
    // The next tag opener: {{, {% or {#.
    size_t tag = pos;
    while (true) {
      tag = src_.find('{', tag);
      if (tag == std::string::npos || tag + 1 >= src_.size()) {
        tag = std::string::npos;
        break;
      }
      const char c = src_[tag + 1];
      if (c == '{' || c == '%' || c == '#') break;
      ++tag;
    }
    std::string text = src_.substr(pos, tag == std::string::npos ? std::string::npos : tag - pos);
    if (tag == std::string::npos) {
      if (!text.empty()) emit(Tok::kText, std::move(text), pos);
      break;
    }
    const char type = src_[tag + 1];
    const char marker = tag + 2 < src_.size() ? src_[tag + 2] : '\0';
    if (marker == '-') {
      while (!text.empty() && is_ws(text.back())) text.pop_back();
    } else if (marker != '+' && type != '{') {
      // lstrip_blocks: a block or comment tag preceded only by spaces on its line.
      const size_t nl = text.rfind('\n');
      const size_t l_pos = nl == std::string::npos ? 0 : nl + 1;
      if ((l_pos > 0 || line_starting) && l_pos < text.size() &&
          std::all_of(text.begin() + static_cast<std::ptrdiff_t>(l_pos), text.end(), is_ws)) {
        text.resize(l_pos);
      }
    }
    if (!text.empty()) emit(Tok::kText, std::move(text), pos);
    size_t body = tag + 2 + ((marker == '-' || marker == '+') ? 1 : 0);
    size_t end;  // just past the closing delimiter
    char end_marker = '\0';
    if (type == '#') {
      const size_t close = src_.find("#}", body);
      if (close == std::string::npos) return error_at(tag, "unclosed comment (missing '#}')");
      if (close > body && (src_[close - 1] == '-' || src_[close - 1] == '+')) end_marker = src_[close - 1];
      end = close + 2;
    } else {
      emit(type == '{' ? Tok::kVarBegin : Tok::kBlockBegin, "", tag);
      out_.back().text = type == '{' ? "{{" : "{%";
      const size_t before = out_.size();
      (void)before;
      // Lex until the matching close; lex_tag_body leaves the close token last in out_.
      AG_RETURN_IF_ERROR(lex_tag_body(type == '%', tag));
      const Token& close = out_.back();
      end_marker = close.text[0] == '-' || close.text[0] == '+' ? close.text[0] : '\0';
      end = static_cast<size_t>(close.i);
    }
    pos = end;
    if (end_marker == '-') {
      while (pos < src_.size() && is_ws(src_[pos])) ++pos;
    } else if (end_marker != '+' && type != '{' && pos < src_.size() && src_[pos] == '\n') {
      ++pos;  // trim_blocks
    }
    line_starting = pos > 0 && src_[pos - 1] == '\n';
    if (pos >= src_.size()) break;
  }
  emit(Tok::kEof, "", src_.size());
  return std::move(out_);
}

Status Lexer::lex_tag_body(bool block, size_t open_off) {
  size_t pos = static_cast<size_t>(open_off) + 2;
  if (pos < src_.size() && (src_[pos] == '-' || src_[pos] == '+')) ++pos;
  std::vector<char> brackets;
  const std::string_view close = block ? "%}" : "}}";
  while (true) {
    while (pos < src_.size() && is_ws(src_[pos])) ++pos;
    if (pos >= src_.size()) {
      return error_at(open_off, block ? "unclosed block tag (missing '%}')" : "unclosed expression (missing '}}')");
    }
    const std::string_view rest = std::string_view(src_).substr(pos);
    if (brackets.empty()) {
      for (const char m : {'-', '+', '\0'}) {
        const size_t skip = m ? 1 : 0;
        if ((m == '\0' || rest[0] == m) && rest.substr(skip, 2) == close) {
          emit(block ? Tok::kBlockEnd : Tok::kVarEnd, m ? std::string(1, m) + std::string(close) : std::string(close),
               pos);
          out_.back().i = static_cast<int64_t>(pos + skip + 2);
          return Status::OK();
        }
      }
    }
    const char c = rest[0];
    if (is_name_start(c)) {
      size_t e = pos;
      while (e < src_.size() && is_name_char(src_[e])) ++e;
      emit(Tok::kName, src_.substr(pos, e - pos), pos);
      pos = e;
    } else if (is_digit(c)) {
      lex_number(&pos);
    } else if (c == '\'' || c == '"') {
      AG_RETURN_IF_ERROR(lex_string(&pos));
    } else {
      static const char* kTwo[] = {"//", "**", "==", "!=", ">=", "<="};
      std::string op;
      for (const char* t : kTwo) {
        if (rest.substr(0, 2) == t) op = t;
      }
      if (op.empty()) {
        if (std::string_view("+-*/%~<>=()[]{},.:|").find(c) == std::string_view::npos) {
          return error_at(pos, std::string("unexpected character '") + c + "' in tag");
        }
        op = std::string(1, c);
      }
      if (c == '(' || c == '[' || c == '{') {
        if (brackets.size() >= 256) return error_at(pos, "brackets nested too deeply");
        brackets.push_back(c == '(' ? ')' : c == '[' ? ']' : '}');
      } else if (c == ')' || c == ']' || c == '}') {
        if (brackets.empty() || brackets.back() != c) return error_at(pos, std::string("unbalanced '") + c + "'");
        brackets.pop_back();
      }
      emit(Tok::kOp, op, pos);
      pos += op.size();
    }
  }
}

void Lexer::lex_number(size_t* pos) {
  const size_t start = *pos;
  size_t e = start;
  auto digits = [&]() {
    while (e < src_.size() && (is_digit(src_[e]) || (src_[e] == '_' && e + 1 < src_.size() && is_digit(src_[e + 1])))) {
      ++e;
    }
  };
  digits();
  bool is_float = false;
  // A '.' after an attribute dot (x.0) stays an integer index: only lex a fraction after a plain number.
  const bool after_dot = !out_.empty() && out_.back().kind == Tok::kOp && out_.back().text == ".";
  if (!after_dot && e + 1 < src_.size() && src_[e] == '.' && is_digit(src_[e + 1])) {
    ++e;
    digits();
    is_float = true;
  }
  if (!after_dot && e < src_.size() && (src_[e] == 'e' || src_[e] == 'E')) {
    size_t x = e + 1;
    if (x < src_.size() && (src_[x] == '+' || src_[x] == '-')) ++x;
    if (x < src_.size() && is_digit(src_[x])) {
      e = x;
      digits();
      is_float = true;
    }
  }
  std::string spelled;
  for (size_t i = start; i < e; ++i) {
    if (src_[i] != '_') spelled += src_[i];
  }
  emit(is_float ? Tok::kFloat : Tok::kInt, spelled, start);
  if (is_float) {
    out_.back().d = std::strtod(spelled.c_str(), nullptr);
  } else {
    errno = 0;
    const unsigned long long v = std::strtoull(spelled.c_str(), nullptr, 10);
    // Integers past int64 become floats rather than wrapping.
    if (errno == ERANGE || v > static_cast<unsigned long long>(INT64_MAX)) {
      out_.back().kind = Tok::kFloat;
      out_.back().d = std::strtod(spelled.c_str(), nullptr);
    } else {
      out_.back().i = static_cast<int64_t>(v);
    }
  }
  *pos = e;
}

Status Lexer::lex_string(size_t* pos) {
  const size_t start = *pos;
  const char q = src_[start];
  std::string s;
  size_t p = start + 1;
  auto hex = [&](size_t n, uint32_t* cp) -> bool {
    if (p + n > src_.size()) return false;
    uint32_t v = 0;
    for (size_t k = 0; k < n; ++k) {
      const char h = src_[p + k];
      v <<= 4;
      if (h >= '0' && h <= '9') v |= static_cast<uint32_t>(h - '0');
      else if (h >= 'a' && h <= 'f') v |= static_cast<uint32_t>(h - 'a' + 10);
      else if (h >= 'A' && h <= 'F') v |= static_cast<uint32_t>(h - 'A' + 10);
      else return false;
    }
    *cp = v;
    return true;
  };
  while (true) {
    if (p >= src_.size()) return error_at(start, "unterminated string literal");
    const char c = src_[p];
    if (c == q) break;
    if (c != '\\') {
      s += c;
      ++p;
      continue;
    }
    if (p + 1 >= src_.size()) return error_at(start, "unterminated string literal");
    const char e = src_[p + 1];
    p += 2;
    uint32_t cp = 0;
    switch (e) {
      case 'n': s += '\n'; break;
      case 't': s += '\t'; break;
      case 'r': s += '\r'; break;
      case '\\': s += '\\'; break;
      case '\'': s += '\''; break;
      case '"': s += '"'; break;
      case 'a': s += '\a'; break;
      case 'b': s += '\b'; break;
      case 'f': s += '\f'; break;
      case 'v': s += '\v'; break;
      case '\n': break;  // line continuation
      case 'x':
      case 'u':
      case 'U': {
        const size_t n = e == 'x' ? 2 : e == 'u' ? 4 : 8;
        if (!hex(n, &cp) || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
          return error_at(p - 2, std::string("bad \\") + e + " escape in string literal");
        }
        p += n;
        append_utf8(cp, &s);
        break;
      }
      default:
        if (e >= '0' && e <= '7') {
          cp = static_cast<uint32_t>(e - '0');
          for (int k = 0; k < 2 && p < src_.size() && src_[p] >= '0' && src_[p] <= '7'; ++k, ++p) {
            cp = cp * 8 + static_cast<uint32_t>(src_[p] - '0');
          }
          append_utf8(cp, &s);
        } else {
          s += '\\';  // Python keeps unknown escapes as written
          s += e;
        }
    }
  }
  emit(Tok::kString, std::move(s), start);
  *pos = p + 1;
  return Status::OK();
}

}  // namespace

Result<std::vector<Token>> lex_template(std::string_view source) {
  // Jinja normalizes newlines to \n and drops one trailing newline (keep_trailing_newline=False).
  std::string src;
  src.reserve(source.size());
  for (size_t i = 0; i < source.size(); ++i) {
    if (source[i] == '\r') {
      src += '\n';
      if (i + 1 < source.size() && source[i + 1] == '\n') ++i;
    } else {
      src += source[i];
    }
  }
  if (!src.empty() && src.back() == '\n') src.pop_back();
  Lexer lexer(std::move(src));
  return lexer.run();
}

}  // namespace autoglm::tmpl

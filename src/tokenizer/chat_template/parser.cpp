#include "tokenizer/chat_template/parser.h"

#include <algorithm>

namespace autoglm::tmpl {
namespace {

class Parser {
 public:
  Parser(const std::vector<Token>& tokens, uint32_t max_nesting) : t_(tokens), max_nesting_(max_nesting) {}

  Result<Body> parse_root() {
    std::string end;
    AG_ASSIGN_OR_RETURN(Body body, parse_body({}, &end));
    return body;
  }

 private:
  // Bounds recursion: every nested block or sub-expression passes through one of these.
  struct DepthGuard {
    explicit DepthGuard(Parser* p) : p_(p) { ++p_->depth_; }
    ~DepthGuard() { --p_->depth_; }
    Parser* p_;
  };
  Status check_depth() const {
    if (depth_ > max_nesting_) {
      return OutOfRange("chat template: line " + std::to_string(peek().line) + ", column " +
                        std::to_string(peek().col) + ": nesting deeper than " + std::to_string(max_nesting_));
    }
    return Status::OK();
  }

  const Token& peek(size_t k = 0) const { return t_[std::min(p_ + k, t_.size() - 1)]; }
  const Token& next() {
    const Token& tok = peek();
    if (p_ < t_.size() - 1) ++p_;
    return tok;
  }
  bool is_op(const char* op, size_t k = 0) const { return peek(k).kind == Tok::kOp && peek(k).text == op; }
  bool is_name(const char* name, size_t k = 0) const { return peek(k).kind == Tok::kName && peek(k).text == name; }
  Status error(const std::string& msg) const { return error_at(peek(), msg); }
  static Status error_at(const Token& tok, const std::string& msg) { return template_error(tok.line, tok.col, msg); }
  static std::string describe(const Token& tok) {
    switch (tok.kind) {
      case Tok::kEof: return "end of template";
      case Tok::kBlockEnd: return "'%}'";
      case Tok::kVarEnd: return "'}}'";
      case Tok::kText: return "text";
      case Tok::kString: return "a string";
      default: return "'" + tok.text + "'";
    }
  }
  Status expect_op(const char* op) {
    if (!is_op(op)) return error(std::string("expected '") + op + "', found " + describe(peek()));
    next();
    return Status::OK();
  }
  Status expect_block_end() {
    if (peek().kind != Tok::kBlockEnd) return error("expected '%}', found " + describe(peek()));
    next();
    return Status::OK();
  }
  Result<std::string> expect_name(const char* what) {
    if (peek().kind != Tok::kName) return error(std::string("expected ") + what + ", found " + describe(peek()));
    return next().text;
  }
  ExprPtr make(Expr::Kind kind, const Token& at) {
    auto e = std::make_unique<Expr>();
    e->kind = kind;
    e->line = at.line;
    e->col = at.col;
    return e;
  }

  Result<Body> parse_body(const std::vector<std::string>& ends, std::string* which);
  Status parse_statement(Body* body);
  Status parse_if(Body* body, const Token& at);
  Status parse_for(Body* body, const Token& at);
  Status parse_set(Body* body, const Token& at);
  Status parse_macro(Body* body, const Token& at);

  Result<ExprPtr> parse_expr();
  Result<ExprPtr> parse_or();
  Result<ExprPtr> parse_and();
  Result<ExprPtr> parse_not();
  Result<ExprPtr> parse_compare();
  Result<ExprPtr> parse_math1();
  Result<ExprPtr> parse_concat();
  Result<ExprPtr> parse_math2();
  Result<ExprPtr> parse_pow();
  Result<ExprPtr> parse_unary(bool with_filter);
  Result<ExprPtr> parse_primary();
  Result<ExprPtr> parse_postfix(ExprPtr e);
  Result<ExprPtr> parse_filters(ExprPtr e);
  Status parse_call_args(Expr* call);

  const std::vector<Token>& t_;
  size_t p_ = 0;
  uint32_t max_nesting_;
  uint32_t depth_ = 0;
};

Result<Body> Parser::parse_body(const std::vector<std::string>& ends, std::string* which) {
  DepthGuard guard(this);
  AG_RETURN_IF_ERROR(check_depth());
  Body body;
  while (true) {
    const Token& tok = peek();
    switch (tok.kind) {
      case Tok::kEof:
        if (!ends.empty()) return error("unexpected end of template: missing '{% " + ends.back() + " %}'");
        return body;
      case Tok::kText: {
        auto s = std::make_unique<Stmt>();
        s->kind = Stmt::Kind::kText;
        s->line = tok.line;
        s->col = tok.col;
        s->text = tok.text;
        body.push_back(std::move(s));
        next();
        break;
      }
      case Tok::kVarBegin: {
        next();
        auto s = std::make_unique<Stmt>();
        s->kind = Stmt::Kind::kOutput;
        s->line = tok.line;
        s->col = tok.col;
        AG_ASSIGN_OR_RETURN(s->expr, parse_expr());
        if (peek().kind != Tok::kVarEnd) return error("expected '}}', found " + describe(peek()));
        next();
        body.push_back(std::move(s));
        break;
      }
      case Tok::kBlockBegin: {
        const Token& name = peek(1);
        if (name.kind == Tok::kName && std::find(ends.begin(), ends.end(), name.text) != ends.end()) {
          next();
          *which = next().text;
          return body;
        }
        next();
        AG_RETURN_IF_ERROR(parse_statement(&body));
        break;
      }
      default: return error("unexpected " + describe(tok));
    }
  }
}

Status Parser::parse_statement(Body* body) {
  const Token& at = peek();
  AG_ASSIGN_OR_RETURN(std::string kw, expect_name("a statement name"));
  if (kw == "if") return parse_if(body, at);
  if (kw == "for") return parse_for(body, at);
  if (kw == "set") return parse_set(body, at);
  if (kw == "macro") return parse_macro(body, at);
  if (kw == "break" || kw == "continue") {
    auto s = std::make_unique<Stmt>();
    s->kind = kw == "break" ? Stmt::Kind::kBreak : Stmt::Kind::kContinue;
    s->line = at.line;
    s->col = at.col;
    AG_RETURN_IF_ERROR(expect_block_end());
    body->push_back(std::move(s));
    return Status::OK();
  }
  if (kw == "generation") {  // transformers' assistant-mask marker: renders its body unchanged
    AG_RETURN_IF_ERROR(expect_block_end());
    std::string end;
    AG_ASSIGN_OR_RETURN(Body inner, parse_body({"endgeneration"}, &end));
    AG_RETURN_IF_ERROR(expect_block_end());
    for (auto& s : inner) body->push_back(std::move(s));
    return Status::OK();
  }
  return error_at(at, "unknown or unexpected tag '" + kw + "'");
}

Status Parser::parse_if(Body* body, const Token& at) {
  auto s = std::make_unique<Stmt>();
  s->kind = Stmt::Kind::kIf;
  s->line = at.line;
  s->col = at.col;
  AG_ASSIGN_OR_RETURN(ExprPtr cond, parse_expr());
  while (true) {
    AG_RETURN_IF_ERROR(expect_block_end());
    s->conditions.push_back(std::move(cond));
    std::string which;
    const bool in_else = s->conditions.back() == nullptr;
    AG_ASSIGN_OR_RETURN(Body b, parse_body(in_else ? std::vector<std::string>{"endif"}
                                                   : std::vector<std::string>{"elif", "else", "endif"},
                                           &which));
    s->bodies.push_back(std::move(b));
    if (which == "endif") break;
    if (which == "elif") {
      AG_ASSIGN_OR_RETURN(cond, parse_expr());
    } else {
      cond = nullptr;
    }
  }
  AG_RETURN_IF_ERROR(expect_block_end());
  body->push_back(std::move(s));
  return Status::OK();
}

Status Parser::parse_for(Body* body, const Token& at) {
  auto s = std::make_unique<Stmt>();
  s->kind = Stmt::Kind::kFor;
  s->line = at.line;
  s->col = at.col;
  const bool paren = is_op("(");
  if (paren) next();
  while (true) {
    AG_ASSIGN_OR_RETURN(std::string name, expect_name("a loop variable"));
    s->targets.push_back(std::move(name));
    if (!is_op(",")) break;
    next();
  }
  if (paren) AG_RETURN_IF_ERROR(expect_op(")"));
  if (!is_name("in")) return error("expected 'in' in for loop, found " + describe(peek()));
  next();
  AG_ASSIGN_OR_RETURN(s->expr, parse_or());
  if (is_name("if")) {
    next();
    AG_ASSIGN_OR_RETURN(s->filter, parse_expr());
  }
  if (is_name("recursive")) return error("recursive for loops are not supported");
  AG_RETURN_IF_ERROR(expect_block_end());
  std::string which;
  AG_ASSIGN_OR_RETURN(s->body, parse_body({"else", "endfor"}, &which));
  if (which == "else") {
    AG_RETURN_IF_ERROR(expect_block_end());
    AG_ASSIGN_OR_RETURN(s->else_body, parse_body({"endfor"}, &which));
  }
  AG_RETURN_IF_ERROR(expect_block_end());
  body->push_back(std::move(s));
  return Status::OK();
}

Status Parser::parse_set(Body* body, const Token& at) {
  auto s = std::make_unique<Stmt>();
  s->kind = Stmt::Kind::kSet;
  s->line = at.line;
  s->col = at.col;
  AG_ASSIGN_OR_RETURN(std::string name, expect_name("a variable name"));
  s->targets.push_back(std::move(name));
  if (is_op(".")) {
    next();
    AG_ASSIGN_OR_RETURN(s->target_attr, expect_name("an attribute name"));
  } else {
    while (is_op(",")) {
      next();
      AG_ASSIGN_OR_RETURN(std::string more, expect_name("a variable name"));
      s->targets.push_back(std::move(more));
    }
  }
  if (is_op("=")) {
    next();
    AG_ASSIGN_OR_RETURN(s->expr, parse_expr());
    if (is_op(",")) {  // {% set x = a, b %} builds a tuple
      auto tuple = make(Expr::Kind::kTuple, peek());
      tuple->args.push_back(std::move(s->expr));
      while (is_op(",")) {
        next();
        AG_ASSIGN_OR_RETURN(ExprPtr item, parse_expr());
        tuple->args.push_back(std::move(item));
      }
      s->expr = std::move(tuple);
    }
    AG_RETURN_IF_ERROR(expect_block_end());
    body->push_back(std::move(s));
    return Status::OK();
  }
  if (!s->target_attr.empty() || s->targets.size() != 1) return error("expected '=' in set");
  AG_RETURN_IF_ERROR(expect_block_end());
  s->kind = Stmt::Kind::kSetBlock;
  std::string which;
  AG_ASSIGN_OR_RETURN(s->body, parse_body({"endset"}, &which));
  AG_RETURN_IF_ERROR(expect_block_end());
  body->push_back(std::move(s));
  return Status::OK();
}

Status Parser::parse_macro(Body* body, const Token& at) {
  auto s = std::make_unique<Stmt>();
  s->kind = Stmt::Kind::kMacro;
  s->line = at.line;
  s->col = at.col;
  AG_ASSIGN_OR_RETURN(s->macro_name, expect_name("a macro name"));
  AG_RETURN_IF_ERROR(expect_op("("));
  while (!is_op(")")) {
    MacroParam param;
    AG_ASSIGN_OR_RETURN(param.name, expect_name("a parameter name"));
    if (is_op("=")) {
      next();
      AG_ASSIGN_OR_RETURN(param.default_value, parse_expr());
    }
    s->params.push_back(std::move(param));
    if (!is_op(",")) break;
    next();
  }
  AG_RETURN_IF_ERROR(expect_op(")"));
  AG_RETURN_IF_ERROR(expect_block_end());
  std::string which;
  AG_ASSIGN_OR_RETURN(s->body, parse_body({"endmacro"}, &which));
  AG_RETURN_IF_ERROR(expect_block_end());
  body->push_back(std::move(s));
  return Status::OK();
}

Result<ExprPtr> Parser::parse_expr() {
  DepthGuard guard(this);
  AG_RETURN_IF_ERROR(check_depth());
  AG_ASSIGN_OR_RETURN(ExprPtr e, parse_or());
  while (is_name("if")) {
    const Token& at = next();
    auto cond = make(Expr::Kind::kCond, at);
    AG_ASSIGN_OR_RETURN(ExprPtr test, parse_or());
    ExprPtr other;
    if (is_name("else")) {
      next();
      AG_ASSIGN_OR_RETURN(other, parse_expr());
    }
    cond->args.push_back(std::move(test));
    cond->args.push_back(std::move(e));
    cond->args.push_back(std::move(other));
    e = std::move(cond);
  }
  return e;
}

Result<ExprPtr> Parser::parse_or() {
  AG_ASSIGN_OR_RETURN(ExprPtr e, parse_and());
  while (is_name("or")) {
    auto n = make(Expr::Kind::kOr, next());
    AG_ASSIGN_OR_RETURN(ExprPtr r, parse_and());
    n->args.push_back(std::move(e));
    n->args.push_back(std::move(r));
    e = std::move(n);
  }
  return e;
}

Result<ExprPtr> Parser::parse_and() {
  AG_ASSIGN_OR_RETURN(ExprPtr e, parse_not());
  while (is_name("and")) {
    auto n = make(Expr::Kind::kAnd, next());
    AG_ASSIGN_OR_RETURN(ExprPtr r, parse_not());
    n->args.push_back(std::move(e));
    n->args.push_back(std::move(r));
    e = std::move(n);
  }
  return e;
}

Result<ExprPtr> Parser::parse_not() {
  if (is_name("not")) {
    DepthGuard guard(this);
    AG_RETURN_IF_ERROR(check_depth());
    auto n = make(Expr::Kind::kNot, next());
    AG_ASSIGN_OR_RETURN(ExprPtr inner, parse_not());
    n->args.push_back(std::move(inner));
    return n;
  }
  return parse_compare();
}

Result<ExprPtr> Parser::parse_compare() {
  AG_ASSIGN_OR_RETURN(ExprPtr e, parse_math1());
  while (true) {
    std::string op;
    const Token& at = peek();
    if (at.kind == Tok::kOp && (at.text == "==" || at.text == "!=" || at.text == "<" || at.text == ">" ||
                                at.text == "<=" || at.text == ">=")) {
      op = at.text;
      next();
    } else if (is_name("in")) {
      op = "in";
      next();
    } else if (is_name("not") && is_name("in", 1)) {
      op = "not in";
      next();
      next();
    } else {
      break;
    }
    auto n = make(Expr::Kind::kBinary, at);
    n->name = op;
    AG_ASSIGN_OR_RETURN(ExprPtr r, parse_math1());
    n->args.push_back(std::move(e));
    n->args.push_back(std::move(r));
    e = std::move(n);
  }
  return e;
}

Result<ExprPtr> Parser::parse_math1() {
  AG_ASSIGN_OR_RETURN(ExprPtr e, parse_concat());
  while (is_op("+") || is_op("-")) {
    auto n = make(Expr::Kind::kBinary, peek());
    n->name = next().text;
    AG_ASSIGN_OR_RETURN(ExprPtr r, parse_concat());
    n->args.push_back(std::move(e));
    n->args.push_back(std::move(r));
    e = std::move(n);
  }
  return e;
}

Result<ExprPtr> Parser::parse_concat() {
  AG_ASSIGN_OR_RETURN(ExprPtr e, parse_math2());
  while (is_op("~")) {
    auto n = make(Expr::Kind::kBinary, next());
    n->name = "~";
    AG_ASSIGN_OR_RETURN(ExprPtr r, parse_math2());
    n->args.push_back(std::move(e));
    n->args.push_back(std::move(r));
    e = std::move(n);
  }
  return e;
}

Result<ExprPtr> Parser::parse_math2() {
  AG_ASSIGN_OR_RETURN(ExprPtr e, parse_pow());
  while (is_op("*") || is_op("/") || is_op("//") || is_op("%")) {
    auto n = make(Expr::Kind::kBinary, peek());
    n->name = next().text;
    AG_ASSIGN_OR_RETURN(ExprPtr r, parse_pow());
    n->args.push_back(std::move(e));
    n->args.push_back(std::move(r));
    e = std::move(n);
  }
  return e;
}

Result<ExprPtr> Parser::parse_pow() {
  AG_ASSIGN_OR_RETURN(ExprPtr e, parse_unary(true));
  while (is_op("**")) {
    auto n = make(Expr::Kind::kBinary, next());
    n->name = "**";
    AG_ASSIGN_OR_RETURN(ExprPtr r, parse_unary(true));
    n->args.push_back(std::move(e));
    n->args.push_back(std::move(r));
    e = std::move(n);
  }
  return e;
}

Result<ExprPtr> Parser::parse_unary(bool with_filter) {
  DepthGuard guard(this);
  AG_RETURN_IF_ERROR(check_depth());
  ExprPtr e;
  if (is_op("-") || is_op("+")) {
    const Token& at = next();
    AG_ASSIGN_OR_RETURN(ExprPtr inner, parse_unary(false));
    if (at.text == "-") {
      e = make(Expr::Kind::kNeg, at);
      e->args.push_back(std::move(inner));
    } else {
      e = std::move(inner);
    }
  } else {
    AG_ASSIGN_OR_RETURN(ExprPtr primary, parse_primary());
    AG_ASSIGN_OR_RETURN(e, parse_postfix(std::move(primary)));
  }
  if (with_filter) return parse_filters(std::move(e));
  return e;
}

Result<ExprPtr> Parser::parse_primary() {
  const Token& at = peek();
  switch (at.kind) {
    case Tok::kName: {
      next();
      auto e = make(Expr::Kind::kLiteral, at);
      if (at.text == "true" || at.text == "True") e->value = Value::boolean(true);
      else if (at.text == "false" || at.text == "False") e->value = Value::boolean(false);
      else if (at.text == "none" || at.text == "None") e->value = Value::none();
      else {
        e->kind = Expr::Kind::kName;
        e->name = at.text;
      }
      return e;
    }
    case Tok::kString: {
      std::string s;
      while (peek().kind == Tok::kString) s += next().text;  // adjacent literals concatenate
      auto e = make(Expr::Kind::kLiteral, at);
      e->value = Value::string(std::move(s));
      return e;
    }
    case Tok::kInt:
    case Tok::kFloat: {
      next();
      auto e = make(Expr::Kind::kLiteral, at);
      e->value = at.kind == Tok::kInt ? Value::integer(at.i) : Value::number(at.d);
      return e;
    }
    case Tok::kOp: {
      if (at.text == "(") {
        next();
        if (is_op(")")) {
          next();
          return make(Expr::Kind::kTuple, at);
        }
        AG_ASSIGN_OR_RETURN(ExprPtr e, parse_expr());
        if (is_op(",")) {
          auto tuple = make(Expr::Kind::kTuple, at);
          tuple->args.push_back(std::move(e));
          while (is_op(",")) {
            next();
            if (is_op(")")) break;
            AG_ASSIGN_OR_RETURN(ExprPtr item, parse_expr());
            tuple->args.push_back(std::move(item));
          }
          e = std::move(tuple);
        }
        AG_RETURN_IF_ERROR(expect_op(")"));
        return e;
      }
      if (at.text == "[") {
        next();
        auto list = make(Expr::Kind::kList, at);
        while (!is_op("]")) {
          AG_ASSIGN_OR_RETURN(ExprPtr item, parse_expr());
          list->args.push_back(std::move(item));
          if (!is_op(",")) break;
          next();
        }
        AG_RETURN_IF_ERROR(expect_op("]"));
        return list;
      }
      if (at.text == "{") {
        next();
        auto dict = make(Expr::Kind::kDict, at);
        while (!is_op("}")) {
          AG_ASSIGN_OR_RETURN(ExprPtr key, parse_expr());
          AG_RETURN_IF_ERROR(expect_op(":"));
          AG_ASSIGN_OR_RETURN(ExprPtr value, parse_expr());
          dict->args.push_back(std::move(key));
          dict->args.push_back(std::move(value));
          if (!is_op(",")) break;
          next();
        }
        AG_RETURN_IF_ERROR(expect_op("}"));
        return dict;
      }
      break;
    }
    default: break;
  }
  return error("expected an expression, found " + describe(at));
}

Result<ExprPtr> Parser::parse_postfix(ExprPtr e) {
  while (true) {
    const Token& at = peek();
    if (is_op(".")) {
      next();
      if (peek().kind == Tok::kInt) {
        auto n = make(Expr::Kind::kIndex, at);
        auto idx = make(Expr::Kind::kLiteral, peek());
        idx->value = Value::integer(next().i);
        n->args.push_back(std::move(e));
        n->args.push_back(std::move(idx));
        e = std::move(n);
        continue;
      }
      auto n = make(Expr::Kind::kAttr, at);
      AG_ASSIGN_OR_RETURN(n->name, expect_name("an attribute name"));
      n->args.push_back(std::move(e));
      e = std::move(n);
    } else if (is_op("[")) {
      next();
      ExprPtr parts[3];
      bool slice = false;
      for (int i = 0; i < 3; ++i) {
        if (!is_op(":") && !is_op("]")) {
          AG_ASSIGN_OR_RETURN(parts[i], parse_expr());
        }
        if (i < 2 && is_op(":")) {
          next();
          slice = true;
          continue;
        }
        break;
      }
      AG_RETURN_IF_ERROR(expect_op("]"));
      if (!slice && !parts[0]) return error_at(at, "empty subscript");
      auto n = make(slice ? Expr::Kind::kSlice : Expr::Kind::kIndex, at);
      n->args.push_back(std::move(e));
      n->args.push_back(std::move(parts[0]));
      if (slice) {
        n->args.push_back(std::move(parts[1]));
        n->args.push_back(std::move(parts[2]));
      }
      e = std::move(n);
    } else if (is_op("(")) {
      auto n = make(Expr::Kind::kCall, at);
      n->args.push_back(std::move(e));
      AG_RETURN_IF_ERROR(parse_call_args(n.get()));
      e = std::move(n);
    } else {
      return e;
    }
  }
}

Status Parser::parse_call_args(Expr* call) {
  AG_RETURN_IF_ERROR(expect_op("("));
  while (!is_op(")")) {
    if (peek().kind == Tok::kName && is_op("=", 1)) {
      std::string key = next().text;
      next();
      AG_ASSIGN_OR_RETURN(ExprPtr v, parse_expr());
      call->kwargs.emplace_back(std::move(key), std::move(v));
    } else {
      if (!call->kwargs.empty()) return error("positional argument after keyword argument");
      AG_ASSIGN_OR_RETURN(ExprPtr v, parse_expr());
      call->args.push_back(std::move(v));
    }
    if (!is_op(",")) break;
    next();
  }
  return expect_op(")");
}

Result<ExprPtr> Parser::parse_filters(ExprPtr e) {
  while (true) {
    const Token& at = peek();
    if (is_op("|")) {
      next();
      auto n = make(Expr::Kind::kFilter, at);
      AG_ASSIGN_OR_RETURN(n->name, expect_name("a filter name"));
      n->args.push_back(std::move(e));
      if (is_op("(")) AG_RETURN_IF_ERROR(parse_call_args(n.get()));
      e = std::move(n);
    } else if (is_name("is")) {
      next();
      auto n = make(Expr::Kind::kTest, at);
      if (is_name("not")) {
        next();
        n->negated = true;
      }
      AG_ASSIGN_OR_RETURN(n->name, expect_name("a test name"));
      n->args.push_back(std::move(e));
      const Token& a = peek();
      if (is_op("(")) {
        AG_RETURN_IF_ERROR(parse_call_args(n.get()));
      } else if ((a.kind == Tok::kName || a.kind == Tok::kString || a.kind == Tok::kInt || a.kind == Tok::kFloat ||
                  is_op("[") || is_op("{")) &&
                 !is_name("else") && !is_name("or") && !is_name("and")) {
        AG_ASSIGN_OR_RETURN(ExprPtr arg, parse_primary());
        AG_ASSIGN_OR_RETURN(arg, parse_postfix(std::move(arg)));
        n->args.push_back(std::move(arg));
      }
      e = std::move(n);
    } else {
      return e;
    }
  }
}

}  // namespace

Result<Body> parse_template(const std::vector<Token>& tokens, uint32_t max_nesting) {
  if (tokens.empty()) return Body{};
  Parser parser(tokens, max_nesting);
  return parser.parse_root();
}

}  // namespace autoglm::tmpl

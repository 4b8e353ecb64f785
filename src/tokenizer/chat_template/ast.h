// Syntax tree of a parsed chat template: expressions and statements, each with its position.
#pragma once

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tokenizer/chat_template/value.h"

namespace autoglm::tmpl {

struct Expr;
using ExprPtr = std::unique_ptr<Expr>;

struct Expr {
  enum class Kind {
    kLiteral,  // value
    kName,     // name
    kList,     // args: items
    kTuple,    // args: items (evaluates to a list)
    kDict,     // kwargs-like: keys in args[2i], values in args[2i+1]
    kAttr,     // args[0].name
    kIndex,    // args[0][args[1]]
    kSlice,    // args[0][args[1]:args[2]:args[3]] (null parts omitted)
    kCall,     // args[0](args[1..], kwargs)
    kFilter,   // args[0] | name(args[1..], kwargs)
    kTest,     // args[0] is [not] name(args[1..])
    kNeg,      // -args[0]
    kNot,      // not args[0]
    kBinary,   // args[0] name args[1]: + - * / // % ** ~ == != < > <= >= in "not in"
    kAnd,      // args[0] and args[1]
    kOr,       // args[0] or args[1]
    kCond,     // args[1] if args[0] else args[2] (args[2] may be null)
  };
  Kind kind = Kind::kLiteral;
  int line = 0;
  int col = 0;
  Value value;
  std::string name;
  bool negated = false;
  std::vector<ExprPtr> args;
  std::vector<std::pair<std::string, ExprPtr>> kwargs;
};

struct Stmt;
using StmtPtr = std::unique_ptr<Stmt>;
using Body = std::vector<StmtPtr>;

struct MacroParam {
  std::string name;
  ExprPtr default_value;  // may be null
};

struct Stmt {
  enum class Kind { kText, kOutput, kIf, kFor, kSet, kSetBlock, kMacro, kBreak, kContinue };
  Kind kind = Kind::kText;
  int line = 0;
  int col = 0;
  std::string text;                 // kText
  ExprPtr expr;                     // kOutput, kSet value, kFor iterable
  // kIf: conditions[i] guards bodies[i]; a trailing body without condition is the else branch.
  std::vector<ExprPtr> conditions;
  std::vector<Body> bodies;
  // kFor / kSet / kSetBlock: names bound (several for tuple unpacking); kSet on "ns.attr" uses
  // target_attr with targets[0] the namespace variable.
  std::vector<std::string> targets;
  std::string target_attr;
  ExprPtr filter;                   // kFor: `if` clause
  Body body;                        // kFor / kSetBlock / kMacro
  Body else_body;                   // kFor
  std::string macro_name;           // kMacro
  std::vector<MacroParam> params;   // kMacro
};

}  // namespace autoglm::tmpl

// A small command-line parser: --name VALUE, --name=VALUE, boolean --flag, positionals.
// Unknown options and malformed numbers are usage errors, reported with the option name.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace autoglm::cli {

class Args {
 public:
  // value_options take a value; flags don't. Returns false (with error()) on bad usage.
  bool parse(int argc, char** argv, const std::set<std::string>& value_options, const std::set<std::string>& flags);
  const std::string& error() const { return error_; }

  bool has(const std::string& name) const { return values_.count(name) || flags_.count(name); }
  std::optional<std::string> get(const std::string& name) const;
  // Typed getters: nullopt when absent; set error() and return false via ok() when malformed.
  std::optional<int64_t> get_int(const std::string& name);
  // As get_int, and an error when the value is outside [lo, hi].
  std::optional<int64_t> get_int(const std::string& name, int64_t lo, int64_t hi);
  std::optional<double> get_float(const std::string& name);
  bool ok() const { return error_.empty(); }
  const std::vector<std::string>& positional() const { return positional_; }

 private:
  std::map<std::string, std::string> values_;
  std::set<std::string> flags_;
  std::vector<std::string> positional_;
  std::string error_;
};

}  // namespace autoglm::cli

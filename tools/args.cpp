#include "args.h"

#include <cerrno>
#include <cmath>
#include <cstdlib>

namespace autoglm::cli {

bool Args::parse(int argc, char** argv, const std::set<std::string>& value_options,
                 const std::set<std::string>& flags) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--") {
      for (++i; i < argc; ++i) positional_.emplace_back(argv[i]);
      break;
    }
    if (a.size() < 2 || a[0] != '-' || (a[1] != '-' && a != "-h")) {
      positional_.push_back(a);
      continue;
    }
    std::string name = a, value;
    bool inline_value = false;
    if (auto eq = a.find('='); eq != std::string::npos) {
      name = a.substr(0, eq);
      value = a.substr(eq + 1);
      inline_value = true;
    }
    if (flags.count(name)) {
      if (inline_value) {
        error_ = "option " + name + " takes no value";
        return false;
      }
      flags_.insert(name);
    } else if (value_options.count(name)) {
      if (!inline_value) {
        if (i + 1 >= argc) {
          error_ = "option " + name + " needs a value";
          return false;
        }
        value = argv[++i];
      }
      values_[name] = value;
    } else {
      error_ = "unknown option " + name;
      return false;
    }
  }
  return true;
}

std::optional<std::string> Args::get(const std::string& name) const {
  auto it = values_.find(name);
  if (it == values_.end()) return std::nullopt;
  return it->second;
}

std::optional<int64_t> Args::get_int(const std::string& name) {
  auto v = get(name);
  if (!v) return std::nullopt;
  errno = 0;
  char* end = nullptr;
  long long x = std::strtoll(v->c_str(), &end, 10);
  if (v->empty() || *end != '\0' || errno == ERANGE) {
    error_ = "option " + name + " expects an integer, got '" + *v + "'";
    return std::nullopt;
  }
  return static_cast<int64_t>(x);
}

std::optional<int64_t> Args::get_int(const std::string& name, int64_t lo, int64_t hi) {
  auto v = get_int(name);
  if (v && (*v < lo || *v > hi)) {
    error_ = "option " + name + " must be in [" + std::to_string(lo) + ", " + std::to_string(hi) + "], got " +
             std::to_string(*v);
    return std::nullopt;
  }
  return v;
}

std::optional<double> Args::get_float(const std::string& name) {
  auto v = get(name);
  if (!v) return std::nullopt;
  char* end = nullptr;
  double x = std::strtod(v->c_str(), &end);
  if (v->empty() || *end != '\0' || !std::isfinite(x)) {
    error_ = "option " + name + " expects a finite number, got '" + *v + "'";
    return std::nullopt;
  }
  return x;
}

}  // namespace autoglm::cli

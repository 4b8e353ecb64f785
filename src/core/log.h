// Logging to stderr; stdout belongs to program output (generated text, ids, JSON).
#pragma once

#include <string_view>

namespace autoglm {

enum class LogLevel { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3, kOff = 4 };

void set_log_level(LogLevel level);
LogLevel log_level();
void log_message(LogLevel level, std::string_view msg);

}  // namespace autoglm

#define AG_LOG(level, ...)                                                             \
  do {                                                                                 \
    if (::autoglm::LogLevel::level >= ::autoglm::log_level())                          \
      ::autoglm::log_message(::autoglm::LogLevel::level, ::autoglm::log_format(__VA_ARGS__)); \
  } while (0)

#include <cstdarg>
#include <string>

namespace autoglm {
std::string log_format(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
}  // namespace autoglm

// AG_CHECK: internal invariants only. A failed check is a bug in this program and aborts with
// file:line. Never use it for input validation: hostile input returns a Status instead.
#pragma once

#include <cstdio>
#include <cstdlib>

#define AG_CHECK(cond)                                                               \
  do {                                                                               \
    if (!(cond)) {                                                                   \
      std::fprintf(stderr, "%s:%d: internal check failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                  \
    }                                                                                \
  } while (0)

#define AG_CHECK_MSG(cond, msg)                                                      \
  do {                                                                               \
    if (!(cond)) {                                                                   \
      std::fprintf(stderr, "%s:%d: internal check failed: %s (%s)\n", __FILE__, __LINE__, #cond, msg); \
      std::abort();                                                                  \
    }                                                                                \
  } while (0)

#include "backends/cpu/simd/simd.h"

#include <cstdlib>
#include <cstring>

#if defined(__x86_64__)
#include <cpuid.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace autoglm::cpu::simd {

bool cpu_has_avx2_fma() {
#if defined(__x86_64__) || defined(__i386__)
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
#else
  return false;
#endif
}

bool cpu_has_avx512f() {
#if defined(__x86_64__) || defined(__i386__)
  return __builtin_cpu_supports("avx512f");
#else
  return false;
#endif
}

bool cpu_has_avx_vnni() {
#if defined(__x86_64__) || defined(__i386__)
  return cpu_has_avx2_fma() && __builtin_cpu_supports("avxvnni");
#else
  return false;
#endif
}

namespace {

// Whether CPUID leaf 0's vendor string ("GenuineIntel", "AuthenticAMD", ...) is `name`; false
// where there is none.
bool cpu_vendor_is(const char* name) {
#if defined(__x86_64__) || defined(__i386__)
  unsigned a = 0, b = 0, c = 0, d = 0;
  if (__get_cpuid(0, &a, &b, &c, &d) == 0) return false;
  char vendor[13] = {};
  std::memcpy(vendor, &b, 4);
  std::memcpy(vendor + 4, &d, 4);
  std::memcpy(vendor + 8, &c, 4);
  return std::strcmp(vendor, name) == 0;
#else
  (void)name;
  return false;
#endif
}

}  // namespace

bool cpu_has_full_rate_bf16_dot() {
  static const bool full = cpu_has_avx512_bf16() && cpu_vendor_is("AuthenticAMD");
  return full;
}

bool decode_prefetch_far_l2() {
  static const bool far = [] {
    const char* env = std::getenv("AUTOGLM_DECODE_PREFETCH");
    if (env != nullptr && std::strcmp(env, "l1") == 0) return false;
    if (env != nullptr && std::strcmp(env, "l2") == 0) return true;
    return cpu_vendor_is("GenuineIntel");
  }();
  return far;
}

bool cpu_has_amx_int8() {
#if defined(__x86_64__) && defined(__linux__)
  // CPUID.(7,0):EDX bit 24 AMX-TILE, bit 25 AMX-INT8; XCR0 bits 17-18: the OS saves tile state;
  // then Linux hands the (8 KiB) tile data state to a process only on request.
  static const bool usable = [] {
    unsigned a = 0, b = 0, c = 0, d = 0;
    if (!cpu_has_avx512_vnni() || __get_cpuid_count(7, 0, &a, &b, &c, &d) == 0) return false;
    if ((d >> 24 & 1u) == 0 || (d >> 25 & 1u) == 0) return false;
    unsigned lo = 0, hi = 0;
    __asm__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    if ((lo >> 17 & 3u) != 3u) return false;
    constexpr long kArchReqXcompPerm = 0x1023, kXfeatureXtiledata = 18;
    return syscall(SYS_arch_prctl, kArchReqXcompPerm, kXfeatureXtiledata) == 0;
  }();
  return usable;
#else
  return false;
#endif
}

}  // namespace autoglm::cpu::simd

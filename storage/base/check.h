// RINGKV_CHECK: assertions for programmer errors. They stay on in release builds:
// inside consensus/ and storage/, stopping is safer than serving wrong data.
#pragma once

#include <cstdio>
#include <cstdlib>

#define RINGKV_CHECK(cond)                                                          \
  do {                                                                              \
    if (__builtin_expect(!(cond), 0)) {                                             \
      std::fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                 \
    }                                                                               \
  } while (0)

#define RINGKV_CHECK_MSG(cond, msg)                                                           \
  do {                                                                                        \
    if (__builtin_expect(!(cond), 0)) {                                                       \
      std::fprintf(stderr, "%s:%d: CHECK failed: %s (%s)\n", __FILE__, __LINE__, #cond, msg); \
      std::abort();                                                                           \
    }                                                                                         \
  } while (0)

// Debug-only checks for hot paths.
#ifdef NDEBUG
#define RINGKV_DCHECK(cond) \
  do {                      \
  } while (0)
#else
#define RINGKV_DCHECK(cond) RINGKV_CHECK(cond)
#endif

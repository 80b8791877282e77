// Redis-compatible glob matching; see glob.h for the rules.
#include "server/shard/glob.h"

#include <cctype>
#include <utility>

namespace ringkv::server {
namespace {

// Redis compares `int` values converted from (signed) char.
inline int Byte(char c) { return static_cast<int>(static_cast<signed char>(c)); }

inline int Fold(int c, bool nocase) {
  // std::tolower is defined for EOF and unsigned char values; fold ASCII only,
  // which is what glibc's tolower does for these inputs anyway.
  if (nocase && c >= 'A' && c <= 'Z') return c + ('a' - 'A');
  return c;
}

// Redis's nesting limit on '*' recursion.
constexpr int kMaxNesting = 1000;

bool MatchImpl(const char* p, size_t plen, const char* s, size_t slen, bool nocase,
               bool* skip_longer, int nesting) {
  if (nesting > kMaxNesting) return false;
  while (plen > 0 && slen > 0) {
    switch (p[0]) {
      case '*': {
        while (plen > 1 && p[1] == '*') {
          p++;
          plen--;
        }
        if (plen == 1) return true;
        while (slen > 0) {
          if (MatchImpl(p + 1, plen - 1, s, slen, nocase, skip_longer, nesting + 1)) return true;
          if (*skip_longer) return false;
          s++;
          slen--;
        }
        // The rest of the pattern matched nowhere in the rest of the string:
        // an earlier '*' taking more bytes cannot help (see glob.h).
        *skip_longer = true;
        return false;
      }
      case '?':
        s++;
        slen--;
        break;
      case '[': {
        p++;
        plen--;
        const bool negate = plen > 0 && p[0] == '^';
        if (negate) {
          p++;
          plen--;
        }
        bool match = false;
        while (true) {
          if (plen == 0) {
            // Unterminated class: step back so the common advance below
            // lands exactly at the pattern's end.
            p--;
            plen++;
            break;
          }
          if (p[0] == '\\' && plen >= 2) {
            p++;
            plen--;
            if (p[0] == s[0]) match = true;
          } else if (p[0] == ']') {
            break;
          } else if (plen >= 3 && p[1] == '-') {
            int start = Byte(p[0]);
            int end = Byte(p[2]);
            int c = Byte(s[0]);
            if (start > end) std::swap(start, end);
            start = Fold(start, nocase);
            end = Fold(end, nocase);
            c = Fold(c, nocase);
            p += 2;
            plen -= 2;
            if (c >= start && c <= end) match = true;
          } else if (Fold(Byte(p[0]), nocase) == Fold(Byte(s[0]), nocase)) {
            match = true;
          }
          p++;
          plen--;
        }
        if (negate) match = !match;
        if (!match) return false;
        s++;
        slen--;
        break;
      }
      case '\\':
        if (plen >= 2) {
          p++;
          plen--;
        }
        [[fallthrough]];
      default:
        if (Fold(Byte(p[0]), nocase) != Fold(Byte(s[0]), nocase)) return false;
        s++;
        slen--;
        break;
    }
    p++;
    plen--;
    if (slen == 0) {
      while (plen > 0 && p[0] == '*') {
        p++;
        plen--;
      }
      break;
    }
  }
  return plen == 0 && slen == 0;
}

}  // namespace

bool StringMatch(std::string_view pattern, std::string_view text, bool nocase) {
  bool skip_longer = false;
  return MatchImpl(pattern.data(), pattern.size(), text.data(), text.size(), nocase,
                   &skip_longer, 0);
}

}  // namespace ringkv::server

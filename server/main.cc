// ringkv-server entry point (being wired up: config, loops, families).
#include <cstdio>

int main() {
  std::fprintf(stderr, "ringkv-server: work in progress\n");
  return 1;
}

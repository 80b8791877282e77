// Arena: bump allocator for one memtable's entries. Memory is freed all at once
// when the arena is destroyed (with its memtable).
//
// Thread safety: Allocate is called by the single writer only; MemoryUsage may
// be read from any thread (relaxed atomic).
// Invariant: every returned pointer stays valid until the arena is destroyed.
#pragma once

#include <atomic>
#include <cstddef>
#include <memory>
#include <vector>

namespace ringkv::storage::lsm {

class Arena {
 public:
  Arena() = default;
  Arena(const Arena&) = delete;
  Arena& operator=(const Arena&) = delete;

  // Returns `bytes` bytes aligned to 8 (pointer) bytes. REQUIRES: bytes > 0.
  char* AllocateAligned(size_t bytes) {
    constexpr size_t kAlign = alignof(std::max_align_t) > 8 ? 8 : alignof(std::max_align_t);
    size_t mod = reinterpret_cast<uintptr_t>(ptr_) & (kAlign - 1);
    size_t slop = mod == 0 ? 0 : kAlign - mod;
    if (bytes + slop <= remaining_) {
      char* result = ptr_ + slop;
      ptr_ += bytes + slop;
      remaining_ -= bytes + slop;
      return result;
    }
    return AllocateFallback(bytes);  // new blocks are aligned by operator new
  }

  size_t MemoryUsage() const { return usage_.load(std::memory_order_relaxed); }

 private:
  static constexpr size_t kBlockBytes = 64 * 1024;

  char* AllocateFallback(size_t bytes) {
    if (bytes > kBlockBytes / 4) return NewBlock(bytes);  // large entries get their own block
    ptr_ = NewBlock(kBlockBytes);
    remaining_ = kBlockBytes - bytes;
    char* result = ptr_;
    ptr_ += bytes;
    return result;
  }
  char* NewBlock(size_t bytes) {
    blocks_.emplace_back(new char[bytes]);
    usage_.fetch_add(bytes + sizeof(char*), std::memory_order_relaxed);
    return blocks_.back().get();
  }

  char* ptr_ = nullptr;
  size_t remaining_ = 0;
  std::vector<std::unique_ptr<char[]>> blocks_;
  std::atomic<size_t> usage_{0};
};

}  // namespace ringkv::storage::lsm

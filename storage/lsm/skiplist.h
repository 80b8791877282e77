// SkipList: the ordered in-memory index of a memtable.
//
// Thread safety: one writer at a time (external synchronization), any number
// of concurrent readers without locks. Readers see a consistent list because:
//   1. Nodes are never deleted until the whole list is destroyed (arena).
//   2. A node's contents (key) never change after it is linked in.
//   3. A node is published by storing its next pointers with release
//      semantics, bottom level first, after the node is fully initialized;
//      readers load next pointers with acquire semantics.
// Duplicate keys are not allowed (internal keys are unique by sequence number).
//
// Key is a trivially copyable handle (here: a pointer into the arena);
// Comparator is a callable int(Key, Key) giving a three-way comparison.
#pragma once

#include <atomic>
#include <cstdint>
#include <random>

#include "storage/base/check.h"
#include "storage/lsm/arena.h"

namespace ringkv::storage::lsm {

template <typename Key, class Comparator>
class SkipList {
 private:
  struct Node;

 public:
  SkipList(Comparator cmp, Arena* arena) : compare_(cmp), arena_(arena), head_(NewNode(Key(), kMaxHeight)) {
    for (int i = 0; i < kMaxHeight; i++) head_->SetNext(i, nullptr);
  }
  SkipList(const SkipList&) = delete;
  SkipList& operator=(const SkipList&) = delete;

  // REQUIRES: no entry comparing equal to key is in the list; single writer.
  void Insert(const Key& key) {
    Node* prev[kMaxHeight];
    Node* x = FindGreaterOrEqual(key, prev);
    RINGKV_CHECK(x == nullptr || compare_(key, x->key) != 0);
    int height = RandomHeight();
    int cur = max_height_.load(std::memory_order_relaxed);
    if (height > cur) {
      for (int i = cur; i < height; i++) prev[i] = head_;
      // Readers that see the new height before the node find head_->next == nullptr
      // at those levels, which is fine: they just drop a level.
      max_height_.store(height, std::memory_order_relaxed);
    }
    x = NewNode(key, height);
    for (int i = 0; i < height; i++) {
      x->NoBarrierSetNext(i, prev[i]->NoBarrierNext(i));
      prev[i]->SetNext(i, x);
    }
  }

  bool Contains(const Key& key) const {
    Node* x = FindGreaterOrEqual(key, nullptr);
    return x != nullptr && compare_(key, x->key) == 0;
  }

  // Forward iterator over the list. Valid while the list lives.
  class Iterator {
   public:
    explicit Iterator(const SkipList* list) : list_(list) {}
    bool Valid() const { return node_ != nullptr; }
    const Key& key() const { return node_->key; }
    void Next() { node_ = node_->Next(0); }
    void Seek(const Key& target) { node_ = list_->FindGreaterOrEqual(target, nullptr); }
    void SeekToFirst() { node_ = list_->head_->Next(0); }

   private:
    const SkipList* list_;
    Node* node_ = nullptr;
  };

 private:
  static constexpr int kMaxHeight = 12;
  static constexpr unsigned kBranching = 4;

  struct Node {
    Key key;
    Node* Next(int n) { return next_[n].load(std::memory_order_acquire); }
    void SetNext(int n, Node* x) { next_[n].store(x, std::memory_order_release); }
    Node* NoBarrierNext(int n) { return next_[n].load(std::memory_order_relaxed); }
    void NoBarrierSetNext(int n, Node* x) { next_[n].store(x, std::memory_order_relaxed); }
    // Over-allocated to the node's height (flexible array idiom).
    std::atomic<Node*> next_[1];
  };

  Node* NewNode(const Key& key, int height) {
    char* mem = arena_->AllocateAligned(sizeof(Node) + sizeof(std::atomic<Node*>) * (height - 1));
    Node* n = new (mem) Node;
    n->key = key;
    for (int i = 1; i < height; i++) new (&n->next_[i]) std::atomic<Node*>(nullptr);
    return n;
  }

  int RandomHeight() {
    int height = 1;
    while (height < kMaxHeight && (rng_() % kBranching) == 0) height++;
    return height;
  }

  // First node >= key; fills prev[level] with the last node < key when prev != nullptr.
  Node* FindGreaterOrEqual(const Key& key, Node** prev) const {
    Node* x = head_;
    int level = max_height_.load(std::memory_order_relaxed) - 1;
    while (true) {
      Node* next = x->Next(level);
      if (next != nullptr && compare_(next->key, key) < 0) {
        x = next;
      } else {
        if (prev != nullptr) prev[level] = x;
        if (level == 0) return next;
        level--;
      }
    }
  }

  Comparator const compare_;
  Arena* const arena_;
  Node* const head_;
  std::atomic<int> max_height_{1};
  std::minstd_rand rng_{0xdeadbeef};
};

}  // namespace ringkv::storage::lsm

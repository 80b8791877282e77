// Node: a view over one slotted B+tree page (leaf or internal) held in memory.
//
// The view does not own the bytes (a buffer-pool frame or a copied image).
// Layout after the common 16-byte page header (page_format.h), little-endian:
//   [16, 18)  cell count n
//   [18, 20)  content start: cells occupy [content_start, page_bytes)
//   [20, 22)  fragmented bytes: space of removed cells inside the content area
//   [22, 24)  reserved, zero
//   [24, 32)  link: leaf -> right sibling leaf id (0 = last leaf);
//             internal -> leftmost child (covers keys < key(0))
//   [32, 32 + 2n)  slot array: uint16 offset of cell i, cells sorted by key
// Leaf cell:     varint32 key_len | varint64 value_len | flags (bit 0 = overflow) |
//                key | value bytes (inline) or fixed64 first overflow page (overflow)
// Internal cell: varint32 key_len | key | fixed64 child; child covers keys >= key
//                (and < the next cell's key).
// Invariants: keys strictly ascending; content_start >= 32 + 2n; every cell lies
// inside [content_start, page_bytes). Cells never exceed MaxCellBytes(), so any
// split of an overfull node yields two halves that fit.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "storage/btree/page_format.h"

namespace ringkv::storage::btree {

struct LeafValue {
  bool overflow = false;
  std::string_view inline_value;  // valid when !overflow
  uint64_t first_page = 0;        // valid when overflow
  uint64_t length = 0;            // total value length
};

class Node {
 public:
  Node(char* page, size_t page_bytes)
      : p_(page), page_bytes_(page_bytes), leaf_(GetPageType(page) == PageType::kLeaf) {}

  // Formats `page` as an empty node.
  static void Init(char* page, size_t page_bytes, uint64_t page_id, bool leaf);

  bool is_leaf() const { return leaf_; }
  int count() const {
    uint16_t n;
    __builtin_memcpy(&n, p_ + 16, 2);
    return n;
  }
  uint64_t link() const;
  void set_link(uint64_t id);

  std::string_view Cell(int i) const;
  std::string_view Key(int i) const {
    const uint8_t* c = reinterpret_cast<const uint8_t*>(p_ + Slot(i));
    // Fast path: one-byte key length (and value length for leaves).
    uint32_t klen = c[0];
    if (klen < 128 && (!leaf_ || c[1] < 128)) {
      return std::string_view(reinterpret_cast<const char*>(c) + (leaf_ ? 3 : 1), klen);
    }
    return SlowKey(i);
  }
  LeafValue Value(int i) const;  // REQUIRES: leaf
  // Key and inline value of leaf cell i in one decode, for scans; false (and
  // nothing set) when the cell needs Key/Value: long lengths or an overflow
  // value. REQUIRES: leaf
  bool ShortEntry(int i, std::string_view* key, std::string_view* value) const {
    const uint8_t* c = reinterpret_cast<const uint8_t*>(p_ + Slot(i));
    uint32_t klen = c[0], vlen = c[1];
    if (klen >= 128 || vlen >= 128 || (c[2] & 1) != 0) return false;
    const char* k = reinterpret_cast<const char*>(c) + 3;
    *key = std::string_view(k, klen);
    *value = std::string_view(k + klen, vlen);
    return true;
  }
  // Child i: -1 is the leftmost child, 0..count-1 the cells'. REQUIRES: internal.
  uint64_t Child(int i) const;
  void SetChild(int i, uint64_t id);

  int LowerBound(std::string_view key) const;  // first i with Key(i) >= key
  int UpperBound(std::string_view key) const;  // first i with Key(i) > key
  // Index of the child covering key: -1..count-1.
  int ChildIndexFor(std::string_view key) const { return UpperBound(key) - 1; }

  size_t Usable() const { return page_bytes_ - kPageHeaderBytes; }
  // Bytes of cells plus their slots.
  size_t UsedBytes() const;
  bool Underfull() const { return UsedBytes() < Usable() / 4; }

  // Inserts `cell` as cell i. Returns false (page unchanged) if it cannot fit.
  bool Insert(int i, std::string_view cell);
  void Remove(int i);
  // Rewrites the cell area with `cells` (keeps type, id and link).
  // REQUIRES: they fit (CellsFit).
  void Rebuild(const std::vector<std::string>& cells);
  std::vector<std::string> Cells() const;
  // Zeroes the free gap between the slot array and the cells (Insert and
  // Remove leave stale bytes there), so the page's free space is one zero
  // run that the checkpoint journal does not store (checkpoint_journal.h).
  // The page's content does not change.
  void ZeroGap();

  const char* data() const { return p_; }

 private:
  uint16_t Slot(int i) const {
    uint16_t v;
    __builtin_memcpy(&v, p_ + kPageHeaderBytes + 2 * i, 2);
    return v;
  }
  std::string_view SlowKey(int i) const;
  void Compact();
  char* p_;
  size_t page_bytes_;
  bool leaf_;
};

// Size of a cell that starts at `cell` on a page of the given kind.
size_t CellBytes(const char* cell, bool leaf);
std::string_view CellKey(std::string_view cell, bool leaf);
uint64_t InternalCellChild(std::string_view cell);

std::string MakeLeafCell(std::string_view key, std::string_view value);
std::string MakeOverflowLeafCell(std::string_view key, uint64_t length, uint64_t first_page);
std::string MakeInternalCell(std::string_view key, uint64_t child);
size_t LeafCellBytes(size_t key_bytes, uint64_t value_bytes, bool overflow);

// The largest cell (plus its slot) allowed on a page: a quarter of the usable space.
inline size_t MaxCellBytes(size_t page_bytes) { return (page_bytes - kPageHeaderBytes) / 4 - 2; }
// The largest key: an overflow leaf cell or an internal cell must fit MaxCellBytes.
inline size_t MaxKeyBytes(size_t page_bytes) { return MaxCellBytes(page_bytes) - 24; }
// Whether `cells` fit in one node of this page size.
bool CellsFit(const std::vector<std::string>& cells, size_t begin, size_t end, size_t page_bytes);
size_t CellsBytes(const std::vector<std::string>& cells, size_t begin, size_t end);

}  // namespace ringkv::storage::btree

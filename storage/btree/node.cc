#include "storage/btree/node.h"

#include <cstring>

#include "storage/base/check.h"
#include "storage/base/coding.h"
#include "storage/base/key_order.h"

namespace ringkv::storage::btree {
namespace {

inline uint16_t Get16(const char* p) {
  uint16_t v;
  std::memcpy(&v, p, 2);
  return v;
}
inline void Put16(char* p, uint16_t v) { std::memcpy(p, &v, 2); }

constexpr size_t kCountOff = 16;
constexpr size_t kContentOff = 18;
constexpr size_t kFragOff = 20;
constexpr size_t kLinkOff = 24;
constexpr size_t kSlotsOff = kPageHeaderBytes;

// Fast varint decode from trusted (checksummed) page bytes.
inline const char* Varint64(const char* p, uint64_t* v) {
  uint64_t result = 0;
  for (int shift = 0; shift <= 63; shift += 7) {
    uint8_t b = static_cast<uint8_t>(*p++);
    result |= static_cast<uint64_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) break;
  }
  *v = result;
  return p;
}

}  // namespace

size_t LeafCellBytes(size_t key_bytes, uint64_t value_bytes, bool overflow) {
  return VarintLength(key_bytes) + VarintLength(value_bytes) + 1 + key_bytes +
         (overflow ? 8 : value_bytes);
}

size_t CellBytes(const char* cell, bool leaf) {
  uint64_t klen, vlen;
  const char* p = Varint64(cell, &klen);
  if (!leaf) return (p - cell) + klen + 8;
  p = Varint64(p, &vlen);
  bool overflow = (*p & 1) != 0;
  p++;
  return (p - cell) + klen + (overflow ? 8 : vlen);
}

std::string_view CellKey(std::string_view cell, bool leaf) {
  uint64_t klen, vlen;
  const char* p = Varint64(cell.data(), &klen);
  if (leaf) {
    p = Varint64(p, &vlen);
    p++;
  }
  return std::string_view(p, klen);
}

uint64_t InternalCellChild(std::string_view cell) {
  return DecodeFixed64(cell.data() + cell.size() - 8);
}

std::string MakeLeafCell(std::string_view key, std::string_view value) {
  std::string c;
  c.reserve(LeafCellBytes(key.size(), value.size(), false));
  PutVarint32(&c, static_cast<uint32_t>(key.size()));
  PutVarint64(&c, value.size());
  c.push_back(0);
  c.append(key);
  c.append(value);
  return c;
}

std::string MakeOverflowLeafCell(std::string_view key, uint64_t length, uint64_t first_page) {
  std::string c;
  PutVarint32(&c, static_cast<uint32_t>(key.size()));
  PutVarint64(&c, length);
  c.push_back(1);
  c.append(key);
  PutFixed64(&c, first_page);
  return c;
}

std::string MakeInternalCell(std::string_view key, uint64_t child) {
  std::string c;
  PutVarint32(&c, static_cast<uint32_t>(key.size()));
  c.append(key);
  PutFixed64(&c, child);
  return c;
}

size_t CellsBytes(const std::vector<std::string>& cells, size_t begin, size_t end) {
  size_t total = 0;
  for (size_t i = begin; i < end; i++) total += cells[i].size() + 2;
  return total;
}

bool CellsFit(const std::vector<std::string>& cells, size_t begin, size_t end, size_t page_bytes) {
  return CellsBytes(cells, begin, end) <= page_bytes - kPageHeaderBytes;
}

void Node::Init(char* page, size_t page_bytes, uint64_t page_id, bool leaf) {
  InitPageHeader(page, leaf ? PageType::kLeaf : PageType::kInternal, page_id);
  Put16(page + kContentOff, static_cast<uint16_t>(page_bytes == 65536 ? 0 : page_bytes));
  RINGKV_CHECK(page_bytes <= kMaxPageBytes);
}

uint64_t Node::link() const { return DecodeFixed64(p_ + kLinkOff); }
void Node::set_link(uint64_t id) { EncodeFixed64(p_ + kLinkOff, id); }

std::string_view Node::Cell(int i) const {
  const char* c = p_ + Slot(i);
  return std::string_view(c, CellBytes(c, is_leaf()));
}

std::string_view Node::SlowKey(int i) const {
  const char* c = p_ + Slot(i);
  uint64_t klen, vlen;
  const char* p = Varint64(c, &klen);
  if (leaf_) {
    p = Varint64(p, &vlen);
    p++;
  }
  return std::string_view(p, klen);
}

LeafValue Node::Value(int i) const {
  const char* c = p_ + Slot(i);
  uint64_t klen, vlen;
  const char* p = Varint64(c, &klen);
  p = Varint64(p, &vlen);
  LeafValue v;
  v.overflow = (*p & 1) != 0;
  p++;
  p += klen;
  v.length = vlen;
  if (v.overflow) {
    v.first_page = DecodeFixed64(p);
  } else {
    v.inline_value = std::string_view(p, vlen);
  }
  return v;
}

uint64_t Node::Child(int i) const {
  if (i < 0) return link();
  return InternalCellChild(Cell(i));
}

void Node::SetChild(int i, uint64_t id) {
  if (i < 0) {
    set_link(id);
    return;
  }
  std::string_view c = Cell(i);
  EncodeFixed64(const_cast<char*>(c.data()) + c.size() - 8, id);
}

int Node::LowerBound(std::string_view key) const {
  const uint64_t probe = ProbePrefix(key);
  int lo = 0, hi = count();
  while (lo < hi) {
    int mid = (lo + hi) / 2;
    if (CompareKeyToProbe(Key(mid), key, probe) < 0) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

int Node::UpperBound(std::string_view key) const {
  const uint64_t probe = ProbePrefix(key);
  int lo = 0, hi = count();
  while (lo < hi) {
    int mid = (lo + hi) / 2;
    if (CompareKeyToProbe(Key(mid), key, probe) <= 0) {
      lo = mid + 1;
    } else {
      hi = mid;
    }
  }
  return lo;
}

size_t Node::UsedBytes() const {
  size_t content_start = Get16(p_ + kContentOff);
  if (content_start == 0) content_start = 65536;
  size_t cells = page_bytes_ - content_start - Get16(p_ + kFragOff);
  return cells + 2 * count();
}

bool Node::Insert(int i, std::string_view cell) {
  int n = count();
  RINGKV_CHECK(i >= 0 && i <= n);
  size_t need = cell.size() + 2;
  if (UsedBytes() + need > Usable()) return false;
  size_t content_start = Get16(p_ + kContentOff);
  if (content_start < kSlotsOff + 2 * (n + 1) + cell.size()) {
    Compact();
    content_start = Get16(p_ + kContentOff);
  }
  content_start -= cell.size();
  std::memcpy(p_ + content_start, cell.data(), cell.size());
  char* slots = p_ + kSlotsOff;
  std::memmove(slots + 2 * (i + 1), slots + 2 * i, 2 * (n - i));
  Put16(slots + 2 * i, static_cast<uint16_t>(content_start));
  Put16(p_ + kContentOff, static_cast<uint16_t>(content_start));
  Put16(p_ + kCountOff, static_cast<uint16_t>(n + 1));
  return true;
}

void Node::Remove(int i) {
  int n = count();
  RINGKV_CHECK(i >= 0 && i < n);
  size_t cell_bytes = Cell(i).size();
  uint16_t off = Slot(i);
  char* slots = p_ + kSlotsOff;
  std::memmove(slots + 2 * i, slots + 2 * (i + 1), 2 * (n - i - 1));
  Put16(p_ + kCountOff, static_cast<uint16_t>(n - 1));
  if (off == Get16(p_ + kContentOff)) {
    Put16(p_ + kContentOff, static_cast<uint16_t>(off + cell_bytes));
  } else {
    Put16(p_ + kFragOff, static_cast<uint16_t>(Get16(p_ + kFragOff) + cell_bytes));
  }
}

std::vector<std::string> Node::Cells() const {
  std::vector<std::string> out;
  int n = count();
  out.reserve(n);
  for (int i = 0; i < n; i++) out.emplace_back(Cell(i));
  return out;
}

void Node::Compact() { Rebuild(Cells()); }

void Node::ZeroGap() {
  size_t content_start = Get16(p_ + kContentOff);
  if (content_start == 0) content_start = 65536;
  const size_t gap_start = kSlotsOff + 2 * static_cast<size_t>(count());
  if (content_start > gap_start && content_start <= page_bytes_) {
    std::memset(p_ + gap_start, 0, content_start - gap_start);
  }
}

void Node::Rebuild(const std::vector<std::string>& cells) {
  RINGKV_CHECK(CellsFit(cells, 0, cells.size(), page_bytes_));
  size_t pos = page_bytes_;
  char* slots = p_ + kSlotsOff;
  for (size_t i = 0; i < cells.size(); i++) {
    pos -= cells[i].size();
    std::memcpy(p_ + pos, cells[i].data(), cells[i].size());
    Put16(slots + 2 * i, static_cast<uint16_t>(pos));
  }
  Put16(p_ + kCountOff, static_cast<uint16_t>(cells.size()));
  Put16(p_ + kContentOff, static_cast<uint16_t>(pos));
  Put16(p_ + kFragOff, 0);
  // Zero the gap so page images (and their CRCs) are deterministic.
  size_t gap_start = kSlotsOff + 2 * cells.size();
  std::memset(p_ + gap_start, 0, pos - gap_start);
}

}  // namespace ringkv::storage::btree

#include "storage/btree/free_list.h"

#include <algorithm>
#include <cstring>
#include <functional>
#include <memory>

#include "storage/base/coding.h"
#include "storage/btree/page_format.h"

namespace ringkv::storage::btree {

void FreeList::Reset(uint64_t page_count) {
  page_count_ = page_count;
  fresh_.clear();
  free_.clear();
  pending_.clear();
  chain_.clear();
}

Status FreeList::Load(const PageFile& file, uint64_t head, uint64_t page_count,
                      uint64_t expected_free) {
  Reset(page_count);
  std::unique_ptr<char[]> buf(new char[file.page_bytes()]);
  const uint64_t cap = (file.page_bytes() - kPageHeaderBytes) / 8;
  uint64_t id = head;
  // Bounded: a chain longer than the file has pages is a cycle.
  for (uint64_t steps = 0; id != kNoPage; steps++) {
    if (steps > page_count || id < kMetaPageCount || id >= page_count) {
      return Status::Corruption("btree free list: bad chain page " + std::to_string(id));
    }
    RINGKV_RETURN_IF_ERROR(file.Read(id, buf.get()));
    if (GetPageType(buf.get()) != PageType::kFreeList) {
      return Status::Corruption("btree free list: page " + std::to_string(id) + " has wrong type");
    }
    chain_.push_back(id);
    uint32_t n = DecodeFixed32(buf.get() + 24);
    if (n > cap) return Status::Corruption("btree free list: bad count");
    for (uint32_t i = 0; i < n; i++) {
      uint64_t f = DecodeFixed64(buf.get() + kPageHeaderBytes + 8 * i);
      if (f < kMetaPageCount || f >= page_count) {
        return Status::Corruption("btree free list: id out of range " + std::to_string(f));
      }
      free_.push_back(f);
    }
    id = DecodeFixed64(buf.get() + 16);
  }
  if (free_.size() != expected_free) {
    return Status::Corruption("btree free list: holds " + std::to_string(free_.size()) +
                              " ids, meta says " + std::to_string(expected_free));
  }
  std::sort(free_.begin(), free_.end(), std::greater<uint64_t>());
  if (std::adjacent_find(free_.begin(), free_.end()) != free_.end()) {
    return Status::Corruption("btree free list: duplicate id");
  }
  return Status::OK();
}

uint64_t FreeList::Allocate() {
  uint64_t id;
  if (!free_.empty()) {
    id = free_.back();
    free_.pop_back();
  } else {
    id = page_count_++;
  }
  if (id >= fresh_.size()) fresh_.resize(std::max<uint64_t>(id + 1, 2 * fresh_.size()), false);
  fresh_[id] = true;
  return id;
}

void FreeList::Free(uint64_t id) {
  RINGKV_CHECK(id >= kMetaPageCount && id < page_count_);
  pending_.push_back(id);
}

void FreeList::PrepareCheckpoint(bool release_pending, size_t page_bytes,
                                 std::vector<std::pair<uint64_t, std::string>>* pages,
                                 uint64_t* head) {
  fresh_.assign(fresh_.size(), false);
  if (release_pending) {
    free_.insert(free_.end(), pending_.begin(), pending_.end());
    pending_.clear();
  }
  free_.insert(free_.end(), chain_.begin(), chain_.end());
  chain_.clear();
  std::sort(free_.begin(), free_.end(), std::greater<uint64_t>());
  RINGKV_CHECK(std::adjacent_find(free_.begin(), free_.end()) == free_.end());

  const uint64_t cap = (page_bytes - kPageHeaderBytes) / 8;
  uint64_t n = free_.size();
  uint64_t k = (n + cap) / (cap + 1);  // k pages hold the other n - k ids
  // Chain pages come from the high end so low ids stay available for the tree.
  for (uint64_t i = 0; i < k; i++) {
    chain_.push_back(free_.front());
    free_.erase(free_.begin());
  }
  pages->clear();
  size_t next_id = 0;
  for (uint64_t i = 0; i < k; i++) {
    std::string img(page_bytes, '\0');
    InitPageHeader(img.data(), PageType::kFreeList, chain_[i]);
    EncodeFixed64(img.data() + 16, i + 1 < k ? chain_[i + 1] : kNoPage);
    uint32_t m = 0;
    while (m < cap && next_id < free_.size()) {
      EncodeFixed64(img.data() + kPageHeaderBytes + 8 * m, free_[next_id++]);
      m++;
    }
    EncodeFixed32(img.data() + 24, m);
    pages->emplace_back(chain_[i], std::move(img));
  }
  RINGKV_CHECK(next_id == free_.size());
  *head = k > 0 ? chain_[0] : kNoPage;
}

}  // namespace ringkv::storage::btree

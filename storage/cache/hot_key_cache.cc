#include "storage/cache/hot_key_cache.h"

#include "storage/base/check.h"

namespace ringkv::storage {

namespace {
// Per-entry memory that is not key or value bytes: the std::list node (two
// links + the Entry itself, which holds both std::string headers), the
// unordered_map node (next link + cached hash + the string_view/iterator pair)
// and roughly one bucket pointer per entry (max_load_factor 1).
constexpr size_t kEntryOverhead =
    2 * sizeof(void*) + sizeof(std::string) * 2 + sizeof(bool) * 2 + sizeof(size_t) +
    2 * sizeof(void*) + sizeof(std::string_view) + sizeof(void*) + sizeof(void*);
}  // namespace

HotKeyCache::HotKeyCache(size_t capacity_bytes)
    : capacity_(capacity_bytes),
      protected_capacity_(static_cast<size_t>(static_cast<double>(capacity_bytes) *
                                              kProtectedShare)) {}

size_t HotKeyCache::Charge(std::string_view key, std::string_view value) {
  return key.size() + value.size() + kEntryOverhead;
}

HotKeyCache::Hit HotKeyCache::Lookup(std::string_view key, std::string* value) {
  auto found = index_.find(key);
  if (found == index_.end()) return Hit::kMiss;
  List::iterator it = found->second;
  if (it->is_protected) {
    protected_.splice(protected_.begin(), protected_, it);
  } else {
    // Second touch: promote to protected.
    probation_bytes_ -= it->charge;
    protected_bytes_ += it->charge;
    it->is_protected = true;
    protected_.splice(protected_.begin(), probation_, it);
    DemoteProtectedOverflow();
  }
  if (!it->present) return Hit::kAbsent;
  value->assign(it->value);
  return Hit::kPresent;
}

void HotKeyCache::InsertPresent(std::string_view key, std::string_view value) {
  Insert(key, true, value);
}

void HotKeyCache::InsertAbsent(std::string_view key) { Insert(key, false, {}); }

bool HotKeyCache::UpdateIfCached(std::string_view key, bool present, std::string_view value) {
  if (!Contains(key)) return false;
  Insert(key, present, value);
  return true;
}

bool HotKeyCache::Erase(std::string_view key) {
  auto found = index_.find(key);
  if (found == index_.end()) return false;
  List::iterator it = found->second;
  index_.erase(found);
  Unlink(it);
  return true;
}

void HotKeyCache::Clear() {
  index_.clear();
  probation_.clear();
  protected_.clear();
  probation_bytes_ = protected_bytes_ = 0;
  absent_entries_ = 0;
}

void HotKeyCache::Insert(std::string_view key, bool present, std::string_view value) {
  // An updated key keeps its segment (it was hot), but is re-charged; simplest
  // exact way: drop the old entry and insert anew, preserving the segment.
  bool was_protected = false;
  auto found = index_.find(key);
  if (found != index_.end()) {
    was_protected = found->second->is_protected;
    List::iterator old = found->second;
    index_.erase(found);
    Unlink(old);
  }
  const size_t charge = Charge(key, present ? value : std::string_view());
  if (charge > capacity_ / kMaxEntryShareDivisor) return;  // too big: not cached at all

  List& list = was_protected ? protected_ : probation_;
  list.emplace_front();
  Entry& e = list.front();
  e.key.assign(key.data(), key.size());
  if (present) e.value.assign(value.data(), value.size());
  e.present = present;
  e.is_protected = was_protected;
  e.charge = charge;
  (was_protected ? protected_bytes_ : probation_bytes_) += charge;
  if (!present) absent_entries_++;
  index_.emplace(std::string_view(e.key), list.begin());
  if (was_protected) DemoteProtectedOverflow();
  EvictToFit();
}

void HotKeyCache::Unlink(List::iterator it) {
  if (!it->present) absent_entries_--;
  if (it->is_protected) {
    protected_bytes_ -= it->charge;
    protected_.erase(it);
  } else {
    probation_bytes_ -= it->charge;
    probation_.erase(it);
  }
}

void HotKeyCache::DemoteProtectedOverflow() {
  while (protected_bytes_ > protected_capacity_ && !protected_.empty()) {
    List::iterator last = std::prev(protected_.end());
    last->is_protected = false;
    protected_bytes_ -= last->charge;
    probation_bytes_ += last->charge;
    probation_.splice(probation_.begin(), protected_, last);
  }
  EvictToFit();
}

void HotKeyCache::EvictToFit() {
  while (bytes() > capacity_) {
    List& victims = probation_.empty() ? protected_ : probation_;
    RINGKV_CHECK(!victims.empty());
    List::iterator last = std::prev(victims.end());
    index_.erase(std::string_view(last->key));
    Unlink(last);
    evictions_++;
  }
}

}  // namespace ringkv::storage

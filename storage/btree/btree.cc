#include "storage/btree/btree.h"

#include <cstdlib>

#include "storage/btree/overflow.h"

namespace ringkv::storage::btree {

size_t ChooseSplit(const std::vector<std::string>& cells, bool leaf) {
  const size_t n = cells.size();
  RINGKV_CHECK(n >= (leaf ? 2u : 3u));
  std::vector<size_t> prefix(n + 1, 0);
  for (size_t i = 0; i < n; i++) prefix[i + 1] = prefix[i] + cells[i].size() + 2;
  size_t lo = 1, hi = leaf ? n - 1 : n - 2;
  size_t best = lo;
  long long best_diff = -1;
  for (size_t m = lo; m <= hi; m++) {
    long long left = static_cast<long long>(prefix[m]);
    long long right = static_cast<long long>(prefix[n] - prefix[leaf ? m : m + 1]);
    long long diff = std::llabs(left - right);
    if (best_diff < 0 || diff < best_diff) {
      best_diff = diff;
      best = m;
    }
  }
  return best;
}

void Btree::Touch(PageRef& ref) {
  if (snapshots_->active()) snapshots_->BeforeWrite(ref.id(), ref.data(), page_bytes_);
  ref.MarkDirty();
}

PageRef Btree::NewNode(bool leaf) {
  uint64_t id = free_list_->Allocate();
  PageRef ref = pool_->Create(id);
  Node::Init(ref.data(), page_bytes_, id, leaf);
  return ref;
}

void Btree::FreeNode(PageRef ref) {
  uint64_t id = ref.id();
  if (snapshots_->active()) snapshots_->BeforeWrite(id, ref.data(), page_bytes_);
  ref.Release();
  pool_->Discard(id);
  free_list_->Free(id);
}

void Btree::CreateEmpty() {
  PageRef root = NewNode(true);
  root_ = root.id();
  height_ = 1;
}

Status Btree::Descend(std::string_view key, std::vector<PathEntry>* path, PageRef* leaf) {
  path->clear();
  uint64_t id = root_;
  for (uint32_t depth = 0;; depth++) {
    Result<PageRef> r = pool_->Fetch(id);
    if (!r.ok()) return r.status();
    PageRef ref = std::move(r.value());
    PageType type = GetPageType(ref.data());
    bool want_leaf = depth + 1 == height_;
    if (type != (want_leaf ? PageType::kLeaf : PageType::kInternal)) {
      return Status::Corruption("btree page " + std::to_string(id) +
                                ": unexpected page type at depth " + std::to_string(depth));
    }
    Node n(ref.data(), page_bytes_);
    if (want_leaf) {
      *leaf = std::move(ref);
      return Status::OK();
    }
    int ci = n.ChildIndexFor(key);
    path->push_back({id, ci});
    id = n.Child(ci);
  }
}

Status Btree::ViewPage(uint64_t id, const char** data, PageRef* pin) {
  if (const char* p = pool_->Peek(id)) {
    *data = p;
    return Status::OK();
  }
  if (file_->Mapped(id)) return file_->View(id, data);
  Result<PageRef> r = pool_->Fetch(id);
  if (!r.ok()) return r.status();
  *pin = std::move(r.value());
  *data = pin->data();
  return Status::OK();
}

namespace {

inline void PrefetchBytes(const char* p, size_t bytes) {
  for (size_t off = 0; off < bytes; off += 64) __builtin_prefetch(p + off);
}

}  // namespace

void Btree::Prefetch(uint64_t id) const {
  const char* p = pool_->Address(id);
  if (p == nullptr) p = file_->MappedAddress(id);
  if (p != nullptr) PrefetchBytes(p, page_bytes_);
}

Status Btree::Get(std::string_view key, std::string* value) {
  uint64_t id = root_;
  PageRef pin;
  for (uint32_t depth = 0;; depth++) {
    const char* page = nullptr;
    RINGKV_RETURN_IF_ERROR(ViewPage(id, &page, &pin));
    PrefetchBytes(page, page_bytes_);
    bool want_leaf = depth + 1 == height_;
    if (GetPageType(page) != (want_leaf ? PageType::kLeaf : PageType::kInternal)) {
      return Status::Corruption("btree page " + std::to_string(id) +
                                ": unexpected page type at depth " + std::to_string(depth));
    }
    Node n(const_cast<char*>(page), page_bytes_);  // read-only use
    if (!want_leaf) {
      id = n.Child(n.ChildIndexFor(key));
      continue;
    }
    int i = n.LowerBound(key);
    if (i >= n.count() || n.Key(i) != key) return Status::NotFound();
    LeafValue v = n.Value(i);
    if (!v.overflow) {
      value->assign(v.inline_value.data(), v.inline_value.size());
      return Status::OK();
    }
    return ReadOverflowChain(*file_, v.first_page, v.length, value);
  }
}

Status Btree::Scan(std::string_view start, bool skip_equal, size_t limit, const ScanFn& fn,
                   std::string* last_key, bool* at_end) {
  *at_end = false;
  uint64_t id = root_;
  PageRef pin;
  const char* page = nullptr;
  for (uint32_t depth = 0;; depth++) {
    RINGKV_RETURN_IF_ERROR(ViewPage(id, &page, &pin));
    PrefetchBytes(page, page_bytes_);
    bool want_leaf = depth + 1 == height_;
    if (GetPageType(page) != (want_leaf ? PageType::kLeaf : PageType::kInternal)) {
      return Status::Corruption("btree page " + std::to_string(id) +
                                ": unexpected page type at depth " + std::to_string(depth));
    }
    if (want_leaf) break;
    Node n(const_cast<char*>(page), page_bytes_);
    id = n.Child(n.ChildIndexFor(start));
  }
  Node n(const_cast<char*>(page), page_bytes_);
  int i = n.LowerBound(start);
  if (skip_equal && i < n.count() && n.Key(i) == start) i++;
  std::string overflow_value;
  size_t emitted = 0;
  const uint64_t max_steps = free_list_->page_count();
  // Leaves are linked in key order but lie anywhere in the file: start
  // loading the next one while this one is read if the scan will need it.
  auto prefetch_next = [&]() {
    if (n.link() != kNoPage && emitted + static_cast<size_t>(n.count() - i) < limit) {
      Prefetch(n.link());
    }
  };
  prefetch_next();
  for (uint64_t steps = 0;;) {
    if (i >= n.count()) {
      uint64_t next = n.link();
      if (next == kNoPage) {
        *at_end = true;
        return Status::OK();
      }
      if (emitted >= limit) return Status::OK();
      if (++steps > max_steps) return Status::Corruption("btree: cycle in leaf chain");
      RINGKV_RETURN_IF_ERROR(ViewPage(next, &page, &pin));
      if (GetPageType(page) != PageType::kLeaf) {
        return Status::Corruption("btree page " + std::to_string(next) + ": sibling not a leaf");
      }
      n = Node(const_cast<char*>(page), page_bytes_);
      i = 0;
      prefetch_next();
      continue;
    }
    if (emitted >= limit) return Status::OK();
    std::string_view key, value;
    if (!n.ShortEntry(i, &key, &value)) {  // long lengths or an overflow value
      key = n.Key(i);
      LeafValue v = n.Value(i);
      value = v.inline_value;
      if (v.overflow) {
        RINGKV_RETURN_IF_ERROR(ReadOverflowChain(*file_, v.first_page, v.length, &overflow_value));
        value = overflow_value;
      }
    }
    fn(key, value);
    if (last_key != nullptr) last_key->assign(key.data(), key.size());
    emitted++;
    i++;
  }
}

Status Btree::FreeOverflow(const std::vector<uint64_t>& ids) {
  for (uint64_t id : ids) free_list_->Free(id);
  return Status::OK();
}

Status Btree::Put(std::string_view key, std::string_view value, bool* inserted) {
  std::vector<PathEntry> path;
  PageRef leaf;
  RINGKV_RETURN_IF_ERROR(Descend(key, &path, &leaf));
  Node n(leaf.data(), page_bytes_);
  int i = n.LowerBound(key);
  bool exists = i < n.count() && n.Key(i) == key;
  std::vector<uint64_t> old_chain;
  if (exists) {
    LeafValue old = n.Value(i);
    if (old.overflow) {
      RINGKV_RETURN_IF_ERROR(CollectOverflowChain(*file_, old.first_page, old.length, &old_chain));
    }
  }
  std::string cell;
  if (LeafCellBytes(key.size(), value.size(), false) <= max_cell_) {
    cell = MakeLeafCell(key, value);
  } else {
    uint64_t first = 0;
    RINGKV_RETURN_IF_ERROR(WriteOverflowChain(file_, free_list_, value, &first));
    cell = MakeOverflowLeafCell(key, value.size(), first);
  }
  *inserted = !exists;
  Touch(leaf);
  if (exists) n.Remove(i);
  RINGKV_RETURN_IF_ERROR(FreeOverflow(old_chain));
  if (n.Insert(i, cell)) {
    if (exists && !path.empty() && n.Underfull()) return Rebalance(&path, std::move(leaf));
    return Status::OK();
  }
  std::vector<std::string> cells = n.Cells();
  cells.insert(cells.begin() + i, std::move(cell));
  return Split(&path, std::move(leaf), std::move(cells));
}

Status Btree::Delete(std::string_view key, bool* erased) {
  std::vector<PathEntry> path;
  PageRef leaf;
  RINGKV_RETURN_IF_ERROR(Descend(key, &path, &leaf));
  Node n(leaf.data(), page_bytes_);
  int i = n.LowerBound(key);
  *erased = i < n.count() && n.Key(i) == key;
  if (!*erased) return Status::OK();
  LeafValue old = n.Value(i);
  std::vector<uint64_t> old_chain;
  if (old.overflow) {
    RINGKV_RETURN_IF_ERROR(CollectOverflowChain(*file_, old.first_page, old.length, &old_chain));
  }
  Touch(leaf);
  n.Remove(i);
  RINGKV_RETURN_IF_ERROR(FreeOverflow(old_chain));
  if (!path.empty() && n.Underfull()) return Rebalance(&path, std::move(leaf));
  return Status::OK();
}

// `node` (already touched) cannot hold `cells`: keep the left half in it, move
// the right half to a new sibling, and add the separator to the parent.
Status Btree::Split(std::vector<PathEntry>* path, PageRef node, std::vector<std::string> cells) {
  Node n(node.data(), page_bytes_);
  const bool leaf = n.is_leaf();
  size_t m = ChooseSplit(cells, leaf);
  PageRef right = NewNode(leaf);
  Node rn(right.data(), page_bytes_);
  std::string sep(CellKey(cells[m], leaf));
  std::vector<std::string> left_cells(cells.begin(), cells.begin() + m);
  std::vector<std::string> right_cells;
  if (leaf) {
    right_cells.assign(cells.begin() + m, cells.end());
    rn.set_link(n.link());
    n.set_link(right.id());
  } else {
    rn.set_link(InternalCellChild(cells[m]));
    right_cells.assign(cells.begin() + m + 1, cells.end());
  }
  n.Rebuild(left_cells);
  rn.Rebuild(right_cells);
  counters_.splits++;
  uint64_t left_id = node.id(), right_id = right.id();
  node.Release();
  right.Release();
  return InsertIntoParent(path, left_id, sep, right_id);
}

Status Btree::InsertIntoParent(std::vector<PathEntry>* path, uint64_t left_id, std::string_view sep,
                               uint64_t right_id) {
  std::string up = MakeInternalCell(sep, right_id);
  if (path->empty()) {
    PageRef root = NewNode(false);
    Node rn(root.data(), page_bytes_);
    rn.set_link(left_id);
    RINGKV_CHECK(rn.Insert(0, up));
    root_ = root.id();
    height_++;
    return Status::OK();
  }
  PathEntry pe = path->back();
  path->pop_back();
  Result<PageRef> r = pool_->Fetch(pe.page_id);
  if (!r.ok()) return r.status();
  PageRef parent = std::move(r.value());
  Touch(parent);
  Node pn(parent.data(), page_bytes_);
  int pos = pe.child + 1;
  if (pn.Insert(pos, up)) return Status::OK();
  std::vector<std::string> cells = pn.Cells();
  cells.insert(cells.begin() + pos, std::move(up));
  return Split(path, std::move(parent), std::move(cells));
}

// `node` is underfull and not the root: merge it with a sibling, or move cells
// over from the sibling, then fix the parent (which may underflow or overflow).
Status Btree::Rebalance(std::vector<PathEntry>* path, PageRef node) {
  PathEntry pe = path->back();
  path->pop_back();
  Result<PageRef> r = pool_->Fetch(pe.page_id);
  if (!r.ok()) return r.status();
  PageRef parent = std::move(r.value());
  Node pn(parent.data(), page_bytes_);
  RINGKV_CHECK(pn.count() >= 1);
  int sep_idx;
  PageRef left, right;
  if (pe.child + 1 < pn.count()) {
    sep_idx = pe.child + 1;
    Result<PageRef> s = pool_->Fetch(pn.Child(sep_idx));
    if (!s.ok()) return s.status();
    left = std::move(node);
    right = std::move(s.value());
  } else {
    sep_idx = pe.child;
    Result<PageRef> s = pool_->Fetch(pn.Child(sep_idx - 1));
    if (!s.ok()) return s.status();
    left = std::move(s.value());
    right = std::move(node);
  }
  Node ln(left.data(), page_bytes_), rn(right.data(), page_bytes_);
  const bool leaf = ln.is_leaf();
  if (ln.is_leaf() != rn.is_leaf()) return Status::Corruption("btree siblings differ in kind");
  Touch(parent);
  Touch(left);
  Touch(right);
  std::vector<std::string> cells = ln.Cells();
  if (!leaf) cells.push_back(MakeInternalCell(pn.Key(sep_idx), rn.link()));
  for (int i = 0; i < rn.count(); i++) cells.emplace_back(rn.Cell(i));

  if (CellsFit(cells, 0, cells.size(), page_bytes_)) {
    ln.Rebuild(cells);
    if (leaf) ln.set_link(rn.link());
    counters_.merges++;
    FreeNode(std::move(right));
    left.Release();
    pn.Remove(sep_idx);
    if (path->empty()) {
      if (pn.count() == 0) {  // the root lost its last separator: its child is the new root
        root_ = pn.link();
        height_--;
        FreeNode(std::move(parent));
      }
      return Status::OK();
    }
    if (pn.Underfull()) return Rebalance(path, std::move(parent));
    return Status::OK();
  }

  size_t m = ChooseSplit(cells, leaf);
  std::string sep(CellKey(cells[m], leaf));
  std::vector<std::string> left_cells(cells.begin(), cells.begin() + m);
  std::vector<std::string> right_cells;
  if (leaf) {
    right_cells.assign(cells.begin() + m, cells.end());
  } else {
    rn.set_link(InternalCellChild(cells[m]));
    right_cells.assign(cells.begin() + m + 1, cells.end());
  }
  ln.Rebuild(left_cells);
  rn.Rebuild(right_cells);
  counters_.redistributions++;
  uint64_t right_id = right.id();
  left.Release();
  right.Release();
  pn.Remove(sep_idx);
  std::string up = MakeInternalCell(sep, right_id);
  if (!pn.Insert(sep_idx, up)) {
    std::vector<std::string> pcells = pn.Cells();
    pcells.insert(pcells.begin() + sep_idx, std::move(up));
    return Split(path, std::move(parent), std::move(pcells));
  }
  if (!path->empty() && pn.Underfull()) return Rebalance(path, std::move(parent));
  return Status::OK();
}

Status Btree::CollectPages(std::vector<uint64_t>* node_pages,
                           std::vector<uint64_t>* overflow_pages) {
  std::vector<std::pair<uint64_t, uint32_t>> stack{{root_, 0}};
  const uint64_t limit = free_list_->page_count();
  while (!stack.empty()) {
    auto [id, depth] = stack.back();
    stack.pop_back();
    if (node_pages->size() > limit) return Status::Corruption("btree: cycle in tree");
    node_pages->push_back(id);
    Result<PageRef> r = pool_->Fetch(id);
    if (!r.ok()) return r.status();
    Node n(r.value().data(), page_bytes_);
    bool want_leaf = depth + 1 == height_;
    if (GetPageType(r.value().data()) != (want_leaf ? PageType::kLeaf : PageType::kInternal)) {
      return Status::Corruption("btree page " + std::to_string(id) + ": unexpected page type");
    }
    for (int i = want_leaf ? 0 : -1; i < n.count(); i++) {
      if (!want_leaf) {
        stack.push_back({n.Child(i), depth + 1});
        continue;
      }
      LeafValue v = n.Value(i);
      if (v.overflow) {
        RINGKV_RETURN_IF_ERROR(
            CollectOverflowChain(*file_, v.first_page, v.length, overflow_pages));
      }
    }
  }
  return Status::OK();
}

Status Btree::Clear() {
  std::vector<uint64_t> nodes, overflow;
  RINGKV_RETURN_IF_ERROR(CollectPages(&nodes, &overflow));
  for (uint64_t id : nodes) {
    Result<PageRef> r = pool_->Fetch(id);
    if (!r.ok()) return r.status();
    FreeNode(std::move(r.value()));
  }
  for (uint64_t id : overflow) free_list_->Free(id);
  CreateEmpty();
  return Status::OK();
}

}  // namespace ringkv::storage::btree

#include "storage/btree/bulk_loader.h"

#include <algorithm>
#include <cstring>

#include "storage/btree/btree.h"
#include "storage/btree/node.h"
#include "storage/btree/overflow.h"

namespace ringkv::storage::btree {

BulkLoader::BulkLoader(PageFile* file, FreeList* free_list)
    : file_(file),
      free_list_(free_list),
      page_bytes_(file->page_bytes()),
      target_bytes_((file->page_bytes() - kPageHeaderBytes) * 9 / 10),
      page_(file->page_bytes(), '\0') {}

uint64_t BulkLoader::Allocate() {
  uint64_t id = free_list_->Allocate();
  allocated_.push_back(id);
  return id;
}

Status BulkLoader::WriteNode(uint64_t id, bool leaf, uint64_t link,
                             const std::vector<std::string>& cells) {
  std::memset(page_.data(), 0, page_bytes_);
  Node::Init(page_.data(), page_bytes_, id, leaf);
  Node n(page_.data(), page_bytes_);
  n.set_link(link);
  n.Rebuild(cells);
  return file_->Write(id, page_.data());
}

Status BulkLoader::Add(std::string_view key, std::string_view value) {
  if (count_ > 0 && key <= last_key_) {
    return Status::InvalidArgument("btree restore: keys not strictly ascending");
  }
  if (key.size() > MaxKeyBytes(page_bytes_) || value.size() > kMaxValueBytes) {
    return Status::InvalidArgument("btree restore: key or value too large");
  }
  last_key_.assign(key.data(), key.size());
  count_++;
  std::string cell;
  if (LeafCellBytes(key.size(), value.size(), false) <= MaxCellBytes(page_bytes_)) {
    cell = MakeLeafCell(key, value);
  } else {
    uint64_t first = 0;
    RINGKV_RETURN_IF_ERROR(WriteOverflowChain(file_, free_list_, value, &first));
    std::vector<uint64_t> chain;
    RINGKV_RETURN_IF_ERROR(CollectOverflowChain(*file_, first, value.size(), &chain));
    allocated_.insert(allocated_.end(), chain.begin(), chain.end());
    cell = MakeOverflowLeafCell(key, value.size(), first);
  }
  size_t need = cell.size() + 2;
  if (!cur_.cells.empty() && cur_.bytes + need > target_bytes_) {
    uint64_t next_id = Allocate();
    RINGKV_RETURN_IF_ERROR(FlushPrevLeaf(cur_.id));
    prev_ = std::move(cur_);
    cur_ = Group();
    cur_.id = next_id;
  }
  if (cur_.cells.empty() && cur_.id == 0) cur_.id = Allocate();
  if (cur_.cells.empty()) leaves_.emplace_back(std::string(key), cur_.id);
  cur_.cells.push_back(std::move(cell));
  cur_.bytes += need;
  return Status::OK();
}

Status BulkLoader::FlushPrevLeaf(uint64_t link) {
  if (prev_.id == 0) return Status::OK();
  RINGKV_RETURN_IF_ERROR(WriteNode(prev_.id, true, link, prev_.cells));
  prev_ = Group();
  return Status::OK();
}

Status BulkLoader::Finish(uint64_t* root, uint32_t* height) {
  if (cur_.id == 0) {  // empty source: one empty leaf
    uint64_t id = Allocate();
    RINGKV_RETURN_IF_ERROR(WriteNode(id, true, kNoPage, {}));
    *root = id;
    *height = 1;
    return Status::OK();
  }
  const size_t usable = page_bytes_ - kPageHeaderBytes;
  if (prev_.id != 0 && cur_.bytes < usable / 4) {
    // Balance the last leaf with its left neighbour (merge if they fit).
    std::vector<std::string> all = std::move(prev_.cells);
    for (auto& c : cur_.cells) all.push_back(std::move(c));
    if (CellsFit(all, 0, all.size(), page_bytes_)) {
      free_list_->Free(cur_.id);
      allocated_.erase(std::find(allocated_.begin(), allocated_.end(), cur_.id));
      leaves_.pop_back();
      prev_.cells = std::move(all);
      cur_ = Group();
    } else {
      size_t m = ChooseSplit(all, true);
      prev_.cells.assign(all.begin(), all.begin() + m);
      cur_.cells.assign(all.begin() + m, all.end());
      leaves_.back().first = std::string(CellKey(cur_.cells[0], true));
    }
  }
  if (cur_.id == 0) {
    RINGKV_RETURN_IF_ERROR(FlushPrevLeaf(kNoPage));
  } else {
    RINGKV_RETURN_IF_ERROR(FlushPrevLeaf(cur_.id));
    RINGKV_RETURN_IF_ERROR(WriteNode(cur_.id, true, kNoPage, cur_.cells));
  }
  *height = 1;
  while (leaves_.size() > 1) {
    RINGKV_RETURN_IF_ERROR(BuildLevel(&leaves_));
    ++*height;
  }
  *root = leaves_[0].second;
  return Status::OK();
}

// Replaces `entries` (first key, node id) of one level with those of the level above.
Status BulkLoader::BuildLevel(std::vector<std::pair<std::string, uint64_t>>* entries) {
  const size_t usable = page_bytes_ - kPageHeaderBytes;
  // Partition entries into groups; entry 0 of a group is its leftmost child.
  std::vector<std::vector<size_t>> groups;
  size_t bytes = 0;
  for (size_t i = 0; i < entries->size(); i++) {
    size_t need = MakeInternalCell((*entries)[i].first, 0).size() + 2;
    if (groups.empty() || bytes + need > target_bytes_) {
      groups.emplace_back();
      groups.back().push_back(i);
      bytes = 0;
      continue;
    }
    groups.back().push_back(i);
    bytes += need;
  }
  auto cells_of = [&](const std::vector<size_t>& g) {
    std::vector<std::string> cells;
    for (size_t j = 1; j < g.size(); j++) {
      cells.push_back(MakeInternalCell((*entries)[g[j]].first, (*entries)[g[j]].second));
    }
    return cells;
  };
  if (groups.size() > 1) {
    auto& last = groups.back();
    std::vector<std::string> last_cells = cells_of(last);
    if (last_cells.empty() || CellsBytes(last_cells, 0, last_cells.size()) < usable / 4) {
      std::vector<size_t> all = groups[groups.size() - 2];
      all.insert(all.end(), last.begin(), last.end());
      groups.pop_back();
      groups.pop_back();
      std::vector<std::string> all_cells = cells_of(all);
      if (CellsFit(all_cells, 0, all_cells.size(), page_bytes_)) {
        groups.push_back(all);
      } else {
        // cells_of(all)[k] is entry all[k + 1]; an internal split at cell m
        // sends entry all[m + 1] up, so it starts the right group.
        size_t m = ChooseSplit(all_cells, false);
        groups.emplace_back(all.begin(), all.begin() + m + 1);
        groups.emplace_back(all.begin() + m + 1, all.end());
      }
    }
  }
  std::vector<std::pair<std::string, uint64_t>> up;
  for (const auto& g : groups) {
    uint64_t id = Allocate();
    RINGKV_RETURN_IF_ERROR(WriteNode(id, false, (*entries)[g[0]].second, cells_of(g)));
    up.emplace_back((*entries)[g[0]].first, id);
  }
  *entries = std::move(up);
  return Status::OK();
}

}  // namespace ringkv::storage::btree

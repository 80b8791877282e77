#include "storage/btree/tree_validator.h"

#include <optional>
#include <string>
#include <vector>

#include "storage/btree/node.h"
#include "storage/btree/overflow.h"

namespace ringkv::storage::btree {
namespace {

struct Walker {
  PageSource* source;
  const PageFile& file;
  uint32_t height;
  uint64_t root;
  uint64_t keys = 0;
  std::vector<uint64_t> leaves;      // in key order
  std::vector<uint64_t> leaf_links;  // link of each leaf
  std::vector<uint64_t> pages;       // every reachable page

  Status Fail(uint64_t id, const std::string& what) {
    return Status::Corruption("btree validate: page " + std::to_string(id) + ": " + what);
  }

  Status Visit(uint64_t id, uint32_t depth, const std::optional<std::string>& lo,
               const std::optional<std::string>& hi) {
    if (depth >= height) return Fail(id, "deeper than the tree height");
    pages.push_back(id);
    std::string img;
    RINGKV_RETURN_IF_ERROR(source->ReadPage(id, &img));
    Node n(img.data(), img.size());
    bool want_leaf = depth + 1 == height;
    PageType want = want_leaf ? PageType::kLeaf : PageType::kInternal;
    if (GetPageType(img.data()) != want) return Fail(id, "wrong type for depth");
    if (id != root) {
      if (n.count() == 0) return Fail(id, "empty non-root node");
      if (n.Underfull()) {
        return Fail(id, "underfull: " + std::to_string(n.UsedBytes()) + " of " +
                            std::to_string(n.Usable()));
      }
    } else if (!want_leaf && n.count() == 0) {
      return Fail(id, "internal root without separators");
    }
    for (int i = 0; i < n.count(); i++) {
      std::string_view k = n.Key(i);
      if (i > 0 && !(n.Key(i - 1) < k)) return Fail(id, "keys not ascending");
      if (lo && k < *lo) return Fail(id, "key below its separator bound");
      if (hi && !(k < *hi)) return Fail(id, "key at or above its separator bound");
    }
    if (want_leaf) {
      leaves.push_back(id);
      leaf_links.push_back(n.link());
      keys += n.count();
      for (int i = 0; i < n.count(); i++) {
        LeafValue v = n.Value(i);
        if (!v.overflow) continue;
        std::vector<uint64_t> chain;
        RINGKV_RETURN_IF_ERROR(CollectOverflowChain(file, v.first_page, v.length, &chain));
        pages.insert(pages.end(), chain.begin(), chain.end());
      }
      return Status::OK();
    }
    for (int i = -1; i < n.count(); i++) {
      std::optional<std::string> clo = i < 0 ? lo : std::optional<std::string>(n.Key(i));
      std::optional<std::string> chi =
          i + 1 < n.count() ? std::optional<std::string>(n.Key(i + 1)) : hi;
      RINGKV_RETURN_IF_ERROR(Visit(n.Child(i), depth + 1, clo, chi));
    }
    return Status::OK();
  }
};

}  // namespace

Status ValidateTree(PageSource* source, const PageFile& file, uint64_t root, uint32_t height,
                    uint64_t expected_keys, const FreeList* free_list) {
  Walker w{source, file, height, root};
  RINGKV_RETURN_IF_ERROR(w.Visit(root, 0, std::nullopt, std::nullopt));
  for (size_t i = 0; i < w.leaves.size(); i++) {
    uint64_t want = i + 1 < w.leaves.size() ? w.leaves[i + 1] : kNoPage;
    if (w.leaf_links[i] != want) return w.Fail(w.leaves[i], "sibling link out of order");
  }
  if (w.keys != expected_keys) {
    return Status::Corruption("btree validate: " + std::to_string(w.keys) + " keys, expected " +
                              std::to_string(expected_keys));
  }
  if (free_list == nullptr) return Status::OK();
  std::vector<uint8_t> owner(free_list->page_count(), 0);
  auto claim = [&](uint64_t id, const char* what) -> Status {
    if (id < kMetaPageCount || id >= owner.size()) {
      return Status::Corruption(std::string("btree validate: ") + what + " page " +
                                std::to_string(id) + " out of range");
    }
    if (owner[id]++ != 0) {
      return Status::Corruption(std::string("btree validate: ") + what + " page " +
                                std::to_string(id) + " is claimed twice");
    }
    return Status::OK();
  };
  for (uint64_t id : w.pages) RINGKV_RETURN_IF_ERROR(claim(id, "tree"));
  for (uint64_t id : free_list->free_ids()) RINGKV_RETURN_IF_ERROR(claim(id, "free"));
  for (uint64_t id : free_list->pending_ids()) RINGKV_RETURN_IF_ERROR(claim(id, "pending"));
  for (uint64_t id : free_list->chain_ids()) RINGKV_RETURN_IF_ERROR(claim(id, "free-list chain"));
  for (uint64_t id = kMetaPageCount; id < owner.size(); id++) {
    if (owner[id] == 0) {
      return Status::Corruption("btree validate: page " + std::to_string(id) + " leaked");
    }
  }
  return Status::OK();
}

}  // namespace ringkv::storage::btree

// Checkpoint journal ("checkpoint.journal"): the double-write file that makes
// in-place page writes at a checkpoint crash-safe.
//
// A checkpoint first writes every page it will overwrite (dirty pool pages,
// the new free-list chain, the new meta) into this file and syncs it, then
// writes them in place and syncs the page file, then removes the journal. A
// crash during the in-place writes leaves torn or mixed pages, but a complete
// journal; recovery re-applies it (idempotent). A crash while the journal is
// being written leaves an incomplete journal, which fails its checksum and is
// discarded, and the page file still holds the previous checkpoint untouched.
//
// Format, little-endian:
//   [0, 4)    magic "RKCJ"
//   [4, 8)    format version (1)
//   [8, 12)   page_bytes
//   [12, 16)  number of pages n
//   [16, 24)  checkpoint seq (the meta seq this checkpoint writes)
//   n times:  page id (8) | sealed page image (page_bytes)
//   trailer:  masked CRC32C of every byte before it (4)
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "storage/base/status.h"
#include "storage/env/env.h"

namespace ringkv::storage::btree {

inline constexpr uint32_t kJournalVersion = 1;

// Writes and syncs the journal (and syncs dir so the file's existence is durable).
// *bytes gets the file size.
Status WriteJournal(Env* env, const std::string& dir, const std::string& path, size_t page_bytes,
                    uint64_t seq, const std::vector<std::pair<uint64_t, const char*>>& pages,
                    uint64_t* bytes);

struct JournalContents {
  uint64_t seq = 0;
  std::vector<std::pair<uint64_t, std::string>> pages;
};

// Reads a journal. *complete is false (and OK returned) when it is torn or
// fails its checksum: such a journal was never acted upon. IOError on read failure.
Status ReadJournal(Env* env, const std::string& path, size_t page_bytes, JournalContents* out,
                   bool* complete);

}  // namespace ringkv::storage::btree

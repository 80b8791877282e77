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
//   [4, 8)    format version (2; version 1 files are still read)
//   [8, 12)   page_bytes
//   [12, 16)  number of pages n
//   [16, 24)  checkpoint seq (the meta seq this checkpoint writes)
//   n times:  page id (8) | hole offset h (4) | hole length z (4) |
//             the sealed page image without its hole: bytes [0, h) then
//             [h + z, page_bytes)  (page_bytes - z bytes)
//   trailer:  masked CRC32C of every byte before it (4)
// The hole is the page's longest run of zero bytes in whole aligned 8-byte
// words (z = 0 when there is none); the reader puts the zeros back, and
// recovery verifies each rebuilt page's own CRC before writing it. Why:
// a node page keeps its free space as one zeroed gap between the slot array
// and the cells (the checkpoint zeroes it, Node::ZeroGap), about 30% of a
// leaf filled by random inserts, and meta and free-list pages are mostly
// zeros; the journal is half of what a checkpoint writes.
// Version 1: the same without the two hole fields (every image whole).
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "storage/base/status.h"
#include "storage/env/env.h"

namespace ringkv::storage::btree {

inline constexpr uint32_t kJournalVersion = 2;

// Writes and syncs the journal (and syncs dir so the file's existence is durable).
// *bytes gets the file size.
Status WriteJournal(Env* env, const std::string& dir, const std::string& path, size_t page_bytes,
                    uint64_t seq, const std::vector<std::pair<uint64_t, const char*>>& pages,
                    uint64_t* bytes);

// The longest run of zero bytes in page[0, page_bytes) made of whole 8-byte
// words at 8-byte offsets: *offset and *length (0 when there is none).
void FindZeroHole(const char* page, size_t page_bytes, size_t* offset, size_t* length);

struct JournalContents {
  uint64_t seq = 0;
  std::vector<std::pair<uint64_t, std::string>> pages;
};

// Reads a journal. *complete is false (and OK returned) when it is torn or
// fails its checksum: such a journal was never acted upon. IOError on read failure.
Status ReadJournal(Env* env, const std::string& path, size_t page_bytes, JournalContents* out,
                   bool* complete);

}  // namespace ringkv::storage::btree

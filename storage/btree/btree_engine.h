// OpenBtreeEngine: the persistent B+tree storage engine (EngineKind::kBtree).
//
// A page file of checksummed slotted pages behind a bounded buffer pool, a
// B+tree with linked leaves for fast ordered scans, overflow chains for large
// values, and crash safety from a redo WAL plus checkpoints (see
// btree_engine_impl.h for the design and the reasons for it).
#pragma once

#include <memory>

#include "storage/engine.h"

namespace ringkv::storage {

// Opens (creating if needed) a B+tree engine in options.dir. Recovers from the
// last checkpoint plus the WAL. Returns Corruption when a file is damaged
// beyond a torn WAL tail, InvalidArgument for bad options (page_bytes not a
// power of two in [1 KiB, 32 KiB], or different from the existing file's).
Result<std::unique_ptr<Engine>> OpenBtreeEngine(const EngineOptions& options);

}  // namespace ringkv::storage

// OpenEngine: picks the engine named by EngineOptions::kind.
#include "storage/engine.h"

#ifdef RINGKV_HAVE_HASH
#include "storage/hash/hash_engine.h"
#endif
#ifdef RINGKV_HAVE_LSM
#include "storage/lsm/lsm_engine.h"
#endif
#ifdef RINGKV_HAVE_BTREE
#include "storage/btree/btree_engine.h"
#endif
#ifdef RINGKV_HAVE_CACHE
#include "storage/cache/cached_engine.h"
#endif

namespace ringkv::storage {

namespace {

Result<std::unique_ptr<Engine>> OpenUncached(const EngineOptions& options) {
  switch (options.kind) {
    case EngineKind::kHash:
#ifdef RINGKV_HAVE_HASH
      return OpenHashEngine(options);
#else
      return Status::NotSupported("hash engine not built");
#endif
    case EngineKind::kLsm:
#ifdef RINGKV_HAVE_LSM
      return OpenLsmEngine(options);
#else
      return Status::NotSupported("lsm engine not built");
#endif
    case EngineKind::kBtree:
#ifdef RINGKV_HAVE_BTREE
      return OpenBtreeEngine(options);
#else
      return Status::NotSupported("btree engine not built");
#endif
  }
  return Status::InvalidArgument("unknown engine kind");
}

}  // namespace

Result<std::unique_ptr<Engine>> OpenEngine(const EngineOptions& options) {
  Result<std::unique_ptr<Engine>> opened = OpenUncached(options);
  if (!opened.ok() || options.cache_bytes == 0 || options.kind == EngineKind::kHash) {
    return opened;
  }
#ifdef RINGKV_HAVE_CACHE
  return NewCachedEngine(std::move(opened).value(), options.cache_bytes);
#else
  return Status::NotSupported("hot-key cache not built");
#endif
}

}  // namespace ringkv::storage

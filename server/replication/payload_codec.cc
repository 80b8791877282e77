// Formats: see payload_codec.h.
#include "server/replication/payload_codec.h"

#include "storage/base/coding.h"

namespace ringkv::server::replication {

namespace {
constexpr uint8_t kProposalVersion = 1;
constexpr uint8_t kSnapshotVersion = 1;
}  // namespace

std::string EncodeProposal(const ProposalHeader& h, std::string_view command) {
  std::string out;
  out.reserve(1 + 20 + command.size());
  out.push_back(static_cast<char>(kProposalVersion));
  PutVarint64(&out, h.node);
  PutVarint64(&out, h.id);
  out.append(command);
  return out;
}

Status DecodeProposal(std::string_view data, ProposalHeader* h, std::string_view* command) {
  if (data.empty() || static_cast<uint8_t>(data[0]) != kProposalVersion) {
    return Status::Corruption("proposal: unknown version");
  }
  data.remove_prefix(1);
  if (!GetVarint64(&data, &h->node) || !GetVarint64(&data, &h->id)) {
    return Status::Corruption("proposal: truncated header");
  }
  *command = data;
  return Status::OK();
}

std::string EncodeSnapshotData(std::string state) {
  // In place: a shard's image is megabytes, and a new buffer of that size is
  // a page fault per 4 KB on top of the copy.
  state.insert(state.begin(), static_cast<char>(kSnapshotVersion));
  return state;
}

Status DecodeSnapshotData(std::string_view data, std::string_view* state) {
  if (data.empty() || static_cast<uint8_t>(data[0]) != kSnapshotVersion) {
    return Status::Corruption("snapshot data: unknown version");
  }
  *state = data.substr(1);
  return Status::OK();
}

}  // namespace ringkv::server::replication

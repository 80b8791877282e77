// The byte-by-byte format is described in frame.h.
#include "server/peer/frame.h"

#include <algorithm>
#include <cstring>

#include "storage/base/check.h"
#include "storage/base/coding.h"
#include "storage/base/crc32c.h"

namespace ringkv::server::peer {

namespace {

// Reads go into at least this much free space; small frames then arrive many
// per read.
constexpr size_t kReadChunk = 64 << 10;
// An idle reader gives back a buffer that grew past this for a large frame.
constexpr size_t kShrinkAbove = 1 << 20;

uint32_t FrameCrc(const char* header, std::string_view payload) {
  uint32_t crc = crc32c::Value(header, 8);
  crc = crc32c::Extend(crc, payload.data(), payload.size());
  return crc32c::Mask(crc);
}

}  // namespace

void EncodeFrameHeader(char* dst, Channel channel, std::string_view payload) {
  RINGKV_CHECK(payload.size() <= UINT32_MAX);
  EncodeFixed32(dst, static_cast<uint32_t>(payload.size()));
  dst[4] = static_cast<char>(kFrameVersion);
  dst[5] = static_cast<char>(channel);
  dst[6] = 0;  // flags, reserved
  dst[7] = 0;
  EncodeFixed32(dst + 8, FrameCrc(dst, payload));
}

void AppendFrame(std::string* dst, Channel channel, std::string_view payload) {
  char header[kFrameHeaderSize];
  EncodeFrameHeader(header, channel, payload);
  dst->append(header, kFrameHeaderSize);
  dst->append(payload.data(), payload.size());
}

std::string EncodeHelloFrame(NodeId self) {
  std::string payload;
  PutFixed32(&payload, kHelloMagic);
  char v[4] = {static_cast<char>(kHelloVersion & 0xff), static_cast<char>(kHelloVersion >> 8), 0,
               0};
  payload.append(v, 4);
  PutFixed64(&payload, self);
  std::string frame;
  AppendFrame(&frame, Channel::kHello, payload);
  return frame;
}

bool DecodeHello(std::string_view payload, NodeId* node) {
  if (payload.size() != kHelloPayloadSize) return false;
  if (DecodeFixed32(payload.data()) != kHelloMagic) return false;
  uint16_t version = static_cast<uint8_t>(payload[4]) | (static_cast<uint8_t>(payload[5]) << 8);
  if (version != kHelloVersion) return false;
  *node = DecodeFixed64(payload.data() + 8);
  return true;
}

FrameReader::FrameReader(uint32_t max_frame_bytes) : max_frame_bytes_(max_frame_bytes) {}

char* FrameReader::WritableSpace(size_t* size) {
  if (begin_ == end_) {
    begin_ = end_ = 0;
    if (want_ == 0 && buf_.size() > kShrinkAbove) std::string().swap(buf_);
  }
  size_t need = kReadChunk;
  if (want_ > 0) need = std::max(need, want_ - (end_ - begin_));
  if (buf_.size() - end_ < need) {
    if (begin_ > 0) {
      // Move the partial frame to the front before growing.
      std::memmove(buf_.data(), buf_.data() + begin_, end_ - begin_);
      end_ -= begin_;
      begin_ = 0;
    }
    if (buf_.size() - end_ < need) buf_.resize(end_ + need);
  }
  *size = buf_.size() - end_;
  return buf_.data() + end_;
}

void FrameReader::Commit(size_t n) {
  RINGKV_CHECK(end_ + n <= buf_.size());
  end_ += n;
}

FrameReader::Status FrameReader::Next(FrameView* frame, std::string* error) {
  size_t avail = end_ - begin_;
  if (avail < kFrameHeaderSize) return Status::kNeedMore;
  const char* h = buf_.data() + begin_;
  uint32_t len = DecodeFixed32(h);
  uint8_t version = static_cast<uint8_t>(h[4]);
  uint8_t channel = static_cast<uint8_t>(h[5]);
  if (version != kFrameVersion) {
    *error = "bad frame version " + std::to_string(version);
    return Status::kBad;
  }
  if (channel > kMaxChannel) {
    *error = "unknown channel " + std::to_string(channel);
    return Status::kBad;
  }
  if (len > max_frame_bytes_) {
    *error = "frame length " + std::to_string(len) + " over the limit " +
             std::to_string(max_frame_bytes_);
    return Status::kBad;
  }
  size_t total = kFrameHeaderSize + len;
  if (avail < total) {
    want_ = total;
    return Status::kNeedMore;
  }
  want_ = 0;
  std::string_view payload(h + kFrameHeaderSize, len);
  if (DecodeFixed32(h + 8) != FrameCrc(h, payload)) {
    *error = "frame checksum mismatch";
    return Status::kBad;
  }
  frame->channel = static_cast<Channel>(channel);
  frame->flags = static_cast<uint16_t>(static_cast<uint8_t>(h[6]) |
                                       (static_cast<uint8_t>(h[7]) << 8));
  frame->payload = payload;
  begin_ += total;
  return Status::kFrame;
}

}  // namespace ringkv::server::peer

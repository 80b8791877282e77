// The peer wire format: frames between ringkv nodes, and the incremental
// reader that cuts a byte stream into frames.
//
// Format (version 1; every integer little endian, see storage/base/coding.h):
//
//   Frame = header (12 bytes) + payload
//     offset 0   u32  payload length in bytes (the receiver rejects more than
//                     its max_frame_bytes before it allocates anything)
//     offset 4   u8   frame format version, kFrameVersion (= 1)
//     offset 5   u8   channel: 0 hello, 1 raft, 2 snapshot, 3 forward request,
//                     4 forward reply; anything else is rejected
//     offset 6   u16  flags, reserved: written as 0, ignored on read (a future
//                     version must bump the version byte to change meaning)
//     offset 8   u32  masked CRC32C (crc32c::Mask) of header bytes [0, 8)
//                     followed by the payload
//     offset 12  payload
//
//   Hello payload (16 bytes), channel 0, the first frame the dialer sends on a
//   connection and only there:
//     offset 0   u32  magic kHelloMagic (the bytes "rkvP")
//     offset 4   u16  hello/format version, kHelloVersion (= 1)
//     offset 6   u16  reserved, 0
//     offset 8   u64  node id of the dialer
//
// A connection carries frames in one direction in practice: the dialer sends
// its hello and then data frames; the acceptor only reads (each node dials its
// own connection to every peer, see peer_transport.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace ringkv::server::peer {

using NodeId = uint64_t;

// What a frame carries. kHello is internal to the transport; the others are
// delivered to the transport's handler.
enum class Channel : uint8_t {
  kHello = 0,
  kRaft = 1,
  kSnapshot = 2,
  kForwardRequest = 3,
  kForwardReply = 4,
};

inline constexpr size_t kFrameHeaderSize = 12;
inline constexpr uint8_t kFrameVersion = 1;
inline constexpr uint8_t kMaxChannel = 4;
inline constexpr uint32_t kHelloMagic = 0x50766b72;  // "rkvP" little endian
inline constexpr uint16_t kHelloVersion = 1;
inline constexpr size_t kHelloPayloadSize = 16;

// Writes the 12-byte header of a frame carrying `payload` on `channel` to dst.
void EncodeFrameHeader(char* dst, Channel channel, std::string_view payload);
// Appends a whole frame (header + payload) to *dst.
void AppendFrame(std::string* dst, Channel channel, std::string_view payload);
// The hello frame a dialer with id `self` sends first.
std::string EncodeHelloFrame(NodeId self);
// Parses a hello payload; false if its size, magic or version is wrong.
bool DecodeHello(std::string_view payload, NodeId* node);

// A frame cut from the stream. `payload` points into the reader's buffer.
struct FrameView {
  Channel channel = Channel::kHello;
  uint16_t flags = 0;
  std::string_view payload;
};

// FrameReader: incremental decoder for one connection's inbound byte stream.
//
// Owned by one connection, single-threaded. Bytes go straight from the socket
// into WritableSpace()/Commit(); Next() then yields complete frames in order.
// Invariants: begin_ <= end_ <= buf_.size(); bytes [begin_, end_) are received
// and not yet returned. A header is validated (version, channel, length
// against max_frame_bytes) before the buffer grows for its payload, so a peer
// cannot make us allocate a length it merely claims.
class FrameReader {
 public:
  enum class Status { kFrame, kNeedMore, kBad };

  explicit FrameReader(uint32_t max_frame_bytes);
  FrameReader(const FrameReader&) = delete;
  FrameReader& operator=(const FrameReader&) = delete;

  // Space to read into (at least 1 byte). Invalidates earlier FrameViews.
  char* WritableSpace(size_t* size);
  // Marks n bytes at the start of the last WritableSpace() as received.
  void Commit(size_t n);

  // kFrame: *frame is the next frame, valid until the next WritableSpace().
  // kNeedMore: no complete frame buffered. kBad: the stream is corrupt,
  // *error says why; the reader must not be used further.
  Status Next(FrameView* frame, std::string* error);

  // Bytes received but not yet returned as a frame (a truncated frame at EOF).
  size_t buffered() const { return end_ - begin_; }

 private:
  const uint32_t max_frame_bytes_;
  std::string buf_;
  size_t begin_ = 0;
  size_t end_ = 0;
  // Total size of the frame whose header is buffered but whose payload is not
  // complete yet (0 if none): lets WritableSpace() grow once for it.
  size_t want_ = 0;
};

}  // namespace ringkv::server::peer

// The peer frame codec: encode, incremental decode, and every way a frame is rejected.
#include <catch2/catch.hpp>

#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "server/peer/frame.h"
#include "storage/base/coding.h"

namespace ringkv::server::peer {
namespace {

// Feeds `bytes` to the reader `step` bytes at a time and collects every frame.
FrameReader::Status FeedAll(FrameReader* r, std::string_view bytes, size_t step,
                            std::vector<std::pair<Channel, std::string>>* out,
                            std::string* error) {
  size_t pos = 0;
  while (pos < bytes.size()) {
    size_t space = 0;
    char* dst = r->WritableSpace(&space);
    REQUIRE(space > 0);
    size_t n = std::min({space, step, bytes.size() - pos});
    std::memcpy(dst, bytes.data() + pos, n);
    r->Commit(n);
    pos += n;
    for (;;) {
      FrameView f;
      FrameReader::Status st = r->Next(&f, error);
      if (st == FrameReader::Status::kBad) return st;
      if (st == FrameReader::Status::kNeedMore) break;
      out->emplace_back(f.channel, std::string(f.payload));
    }
  }
  return FrameReader::Status::kNeedMore;
}

TEST_CASE("frame header layout is the documented one", "[peer]") {
  std::string frame;
  AppendFrame(&frame, Channel::kSnapshot, "abc");
  REQUIRE(frame.size() == kFrameHeaderSize + 3);
  CHECK(DecodeFixed32(frame.data()) == 3);
  CHECK(static_cast<uint8_t>(frame[4]) == kFrameVersion);
  CHECK(static_cast<uint8_t>(frame[5]) == 2);
  CHECK(frame[6] == 0);
  CHECK(frame[7] == 0);
  CHECK(frame.substr(12) == "abc");
}

TEST_CASE("hello round trip and rejects", "[peer]") {
  std::string hello = EncodeHelloFrame(0x0102030405060708ull);
  REQUIRE(hello.size() == kFrameHeaderSize + kHelloPayloadSize);
  CHECK(hello.substr(12, 4) == "rkvP");
  NodeId id = 0;
  REQUIRE(DecodeHello(std::string_view(hello).substr(12), &id));
  CHECK(id == 0x0102030405060708ull);
  std::string payload = hello.substr(12);
  CHECK_FALSE(DecodeHello(payload.substr(0, 15), &id));
  std::string bad_magic = payload;
  bad_magic[0] = 'x';
  CHECK_FALSE(DecodeHello(bad_magic, &id));
  std::string bad_version = payload;
  bad_version[4] = 2;
  CHECK_FALSE(DecodeHello(bad_version, &id));
}

TEST_CASE("reader decodes frames fed in any split", "[peer]") {
  std::string stream;
  std::vector<std::string> payloads;
  for (int i = 0; i < 200; ++i) {
    payloads.push_back(std::string(static_cast<size_t>(i * 37 % 3000), static_cast<char>('a' + i % 26)));
    AppendFrame(&stream, static_cast<Channel>(1 + i % 4), payloads.back());
  }
  for (size_t step : {size_t{1}, size_t{7}, size_t{4096}, size_t{1} << 20}) {
    FrameReader r(1 << 20);
    std::vector<std::pair<Channel, std::string>> got;
    std::string error;
    REQUIRE(FeedAll(&r, stream, step, &got, &error) == FrameReader::Status::kNeedMore);
    REQUIRE(got.size() == payloads.size());
    for (size_t i = 0; i < got.size(); ++i) {
      CHECK(got[i].first == static_cast<Channel>(1 + i % 4));
      CHECK(got[i].second == payloads[i]);
    }
    CHECK(r.buffered() == 0);
  }
}

TEST_CASE("reader takes a large frame at the limit", "[peer]") {
  std::string big(8 << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>(i * 131 + 7);
  std::string stream;
  AppendFrame(&stream, Channel::kSnapshot, big);
  FrameReader r(8 << 20);
  std::vector<std::pair<Channel, std::string>> got;
  std::string error;
  REQUIRE(FeedAll(&r, stream, 65536, &got, &error) == FrameReader::Status::kNeedMore);
  REQUIRE(got.size() == 1);
  CHECK(got[0].second == big);
}

TEST_CASE("reader rejects bad frames", "[peer]") {
  std::string good;
  AppendFrame(&good, Channel::kRaft, "payload");
  std::string error;
  std::vector<std::pair<Channel, std::string>> got;

  SECTION("bad version") {
    std::string f = good;
    f[4] = 2;
    FrameReader r(1024);
    CHECK(FeedAll(&r, f, 100, &got, &error) == FrameReader::Status::kBad);
    CHECK_THAT(error, Catch::Contains("version"));
  }
  SECTION("unknown channel") {
    std::string f = good;
    f[5] = 9;
    FrameReader r(1024);
    CHECK(FeedAll(&r, f, 100, &got, &error) == FrameReader::Status::kBad);
    CHECK_THAT(error, Catch::Contains("channel"));
  }
  SECTION("checksum mismatch in payload and in header") {
    std::string f = good;
    f[13] ^= 1;
    FrameReader r(1024);
    CHECK(FeedAll(&r, f, 100, &got, &error) == FrameReader::Status::kBad);
    CHECK_THAT(error, Catch::Contains("checksum"));
    std::string g = good;
    g[6] = 1;  // flags are covered by the CRC
    FrameReader r2(1024);
    CHECK(FeedAll(&r2, g, 100, &got, &error) == FrameReader::Status::kBad);
  }
  SECTION("oversized length is rejected from the header alone, without allocating it") {
    std::string f = good.substr(0, kFrameHeaderSize);
    EncodeFixed32(f.data(), 0xfffffff0u);
    FrameReader r(1 << 20);
    CHECK(FeedAll(&r, f, 100, &got, &error) == FrameReader::Status::kBad);
    CHECK_THAT(error, Catch::Contains("over the limit"));
    size_t space = 0;
    r.WritableSpace(&space);
    CHECK(space < (1u << 20));
  }
  SECTION("a length at the limit waits for its payload") {
    std::string f = good.substr(0, kFrameHeaderSize);
    EncodeFixed32(f.data(), 1024);
    FrameReader r(1024);
    CHECK(FeedAll(&r, f, 100, &got, &error) == FrameReader::Status::kNeedMore);
    CHECK(r.buffered() == kFrameHeaderSize);
    CHECK(got.empty());
  }
  CHECK(got.empty());
}

TEST_CASE("reader survives random damage to a valid stream", "[peer]") {
  std::mt19937_64 rng(42);
  std::string stream;
  std::vector<std::string> payloads;
  for (int i = 0; i < 50; ++i) {
    // At least 20 bytes: an erase of up to 16 bytes cannot remove a whole frame.
    payloads.push_back(std::string(20 + rng() % 700, static_cast<char>(rng())));
    AppendFrame(&stream, Channel::kRaft, payloads.back());
  }
  for (int round = 0; round < 2000; ++round) {
    std::string damaged = stream;
    int edits = 1 + static_cast<int>(rng() % 4);
    for (int e = 0; e < edits; ++e) {
      size_t pos = rng() % damaged.size();
      switch (rng() % 3) {
        case 0: damaged[pos] = static_cast<char>(rng()); break;
        case 1: damaged.erase(pos, 1 + rng() % 16); break;
        default: damaged.insert(pos, std::string(1 + rng() % 16, static_cast<char>(rng())));
      }
      if (damaged.empty()) damaged = "x";
    }
    FrameReader r(1024);
    std::vector<std::pair<Channel, std::string>> got;
    std::string error;
    FeedAll(&r, damaged, 1 + rng() % 300, &got, &error);
    // Whatever came out before the damage was noticed is an intact prefix.
    REQUIRE(got.size() <= payloads.size());
    for (size_t i = 0; i < got.size(); ++i) {
      if (got[i].second != payloads[i]) {
        // A CRC32C collision on damaged input is possible in principle;
        // with 2000 rounds it should not happen.
        FAIL("frame " << i << " differs after damage, round " << round);
      }
    }
  }
}

}  // namespace
}  // namespace ringkv::server::peer

#include "proto/codec.h"

#include <gtest/gtest.h>

#include "bench/workload.h"

namespace pom::codec {
namespace {

TEST(Codec, GeneratedCommandsRoundTripToTheSameSignedBytes) {
  workload::Options o;
  o.seed = 3;
  o.events = 3000;
  o.users = 10;
  const workload::Workload w = workload::Generate(o);
  v1::Command wire;
  for (size_t i = 0; i < w.commands.size(); ++i) {
    ToProto(w.commands[i], &wire);
    v1::Command parsed;
    ASSERT_TRUE(parsed.ParseFromString(wire.SerializeAsString()));
    absl::StatusOr<rules::Command> back = FromProto(parsed);
    ASSERT_TRUE(back.ok()) << back.status();
    ASSERT_EQ(ToHex(rules::SigningBytes(w.genesis.prover_id, *back)),
              ToHex(rules::SigningBytes(w.genesis.prover_id, w.commands[i])))
        << "command " << i << " kind " << w.commands[i].body.index();
    ASSERT_TRUE(rules::VerifyCommandSignature(w.genesis.prover_id, *back)) << "command " << i;
  }
}

TEST(Codec, GenesisRoundTrips) {
  workload::Options o;
  o.seed = 4;
  o.events = 10;
  o.users = 3;
  const Genesis g = workload::Generate(o).genesis;
  absl::StatusOr<Genesis> back = GenesisFromJson(GenesisToJson(g));
  ASSERT_TRUE(back.ok()) << back.status();
  EXPECT_EQ(back->prover_id, g.prover_id);
  EXPECT_EQ(back->operator_key, g.operator_key);
  ASSERT_EQ(back->chain_balances.size(), g.chain_balances.size());
  EXPECT_EQ(back->chain_balances[1].amount, g.chain_balances[1].amount);
}

TEST(Codec, BadFieldsAreRejectedWithTheirName) {
  v1::Command c;
  c.set_signer(std::string(32, 'a'));
  c.set_signature(std::string(64, 'b'));
  EXPECT_NE(FromProto(c).status().message().find("body"), absl::string_view::npos);
  c.mutable_withdraw()->set_amount("short");
  EXPECT_NE(FromProto(c).status().message().find("withdraw.amount"), absl::string_view::npos);
  c.mutable_place()->set_side(7);
  EXPECT_NE(FromProto(c).status().message().find("place.side"), absl::string_view::npos);
  c.set_signer("x");
  EXPECT_NE(FromProto(c).status().message().find("signer"), absl::string_view::npos);
  EXPECT_FALSE(GenesisFromJson("{not json").ok());
  EXPECT_FALSE(GenesisFromJson(R"({"prover_id": "zz"})").ok());
}

}  // namespace
}  // namespace pom::codec

#include <filesystem>

#include "proto/stream.h"

namespace pom::codec {
namespace {

// Regression: the reader parsed into a reused message without clearing it, so a field at its
// default (left out of the bytes) kept the previous message's value.
TEST(DelimitedStream, ReusedMessageDoesNotKeepStaleFields) {
  const std::string path = ::testing::TempDir() + "/stream_test.bin";
  {
    auto writer = DelimitedWriter::Create(path);
    ASSERT_TRUE(writer.ok());
    v1::Command sell, buy;
    sell.mutable_place()->set_side(1);
    sell.mutable_place()->set_client_order_id(42);
    buy.mutable_place()->set_side(0);
    ASSERT_TRUE((*writer)->Write(sell).ok());
    ASSERT_TRUE((*writer)->Write(buy).ok());
    ASSERT_TRUE((*writer)->Close().ok());
  }
  auto reader = DelimitedReader::Open(path);
  ASSERT_TRUE(reader.ok());
  v1::Command m;
  ASSERT_TRUE(*(*reader)->Read(&m));
  EXPECT_EQ(m.place().side(), 1u);
  ASSERT_TRUE(*(*reader)->Read(&m));
  EXPECT_EQ(m.place().side(), 0u);
  EXPECT_EQ(m.place().client_order_id(), 0u);
  EXPECT_FALSE(*(*reader)->Read(&m));
}

TEST(DelimitedStream, TruncatedMessageIsDataLoss) {
  const std::string path = ::testing::TempDir() + "/stream_trunc.bin";
  {
    auto writer = DelimitedWriter::Create(path);
    v1::Command c;
    c.set_signer(std::string(32, 'x'));
    ASSERT_TRUE((*writer)->Write(c).ok());
    ASSERT_TRUE((*writer)->Close().ok());
  }
  std::filesystem::resize_file(path, 10);
  auto reader = DelimitedReader::Open(path);
  v1::Command m;
  EXPECT_EQ((*reader)->Read(&m).status().code(), absl::StatusCode::kDataLoss);
}

}  // namespace
}  // namespace pom::codec

// pom-cli's check of the matcher's state proofs (client::VerifyStateProof): a proof of real
// engine leaves verifies; any changed value, record, key or root is refused.
#include "cli/client.h"

#include "gtest/gtest.h"
#include "matcher/engine.h"
#include "proto/rpc.h"

namespace pom::client {
namespace {

TEST(VerifyStateProof, AcceptsTheEnginesProofAndRefusesAnyChange) {
  Bytes32 seed;
  seed[0] = 1;
  const KeyPair op = KeyPairFromSeed(seed);
  matcher::Engine engine(matcher::EngineOptions{Bytes32(), op.public_key});
  const rules::MarketId market{rules::Currency{1}, rules::Currency{2}};
  rules::Command create;
  create.signer = op.public_key;
  create.nonce = 1;
  rules::MarketRecord params;
  params.status = rules::MarketStatus::kOpen;
  params.price_decimals = 2;
  params.amount_decimals = 2;
  params.max_makers = 10;
  create.body = rules::CreateMarket{market, params};
  rules::SignCommand(Bytes32(), op.secret_key, create);
  ASSERT_TRUE(engine.Submit(create).ok());

  const std::vector<rules::RawKey> keys = {rules::MarketKey(market), rules::NonceKey(op.public_key),
                                           rules::AccountKey(op.public_key, rules::Currency{1})};
  absl::StatusOr<matcher::Engine::LeafProof> proven = engine.ProveLeaves(keys);
  ASSERT_TRUE(proven.ok());
  v1::StateProof proof;
  proof.set_root(rpc::WireBytes(engine.root()));
  proof.set_sequence(engine.sequence());
  const auto record = rules::Encode(params);
  for (size_t i = 0; i < keys.size(); ++i) {
    v1::LeafValue* leaf = proof.add_leaves();
    leaf->set_raw_key(std::string(keys[i].bytes.begin(), keys[i].bytes.begin() + keys[i].size));
    leaf->set_value(rpc::WireBytes(proven->values[i]));
    if (i == 0) leaf->set_record(std::string(record.begin(), record.end()));
  }
  proof.set_multiproof(std::string(proven->multiproof.begin(), proven->multiproof.end()));
  ASSERT_TRUE(VerifyStateProof(proof).ok()) << VerifyStateProof(proof);
  EXPECT_TRUE(proven->values[2].IsZero()) << "an absent leaf is proven absent";

  auto refused = [&](auto change) {
    v1::StateProof bad = proof;
    change(bad);
    return absl::IsDataLoss(VerifyStateProof(bad)) || absl::IsInvalidArgument(VerifyStateProof(bad));
  };
  EXPECT_TRUE(refused([](v1::StateProof& p) { (*p.mutable_leaves(1)->mutable_value())[0] ^= 1; }));
  EXPECT_TRUE(refused([](v1::StateProof& p) { (*p.mutable_leaves(2)->mutable_value())[5] ^= 1; }));
  EXPECT_TRUE(refused([](v1::StateProof& p) { (*p.mutable_leaves(0)->mutable_record())[3] ^= 1; }));
  EXPECT_TRUE(refused([](v1::StateProof& p) { (*p.mutable_leaves(1)->mutable_raw_key())[4] ^= 1; }));
  EXPECT_TRUE(refused([](v1::StateProof& p) { (*p.mutable_root())[31] ^= 1; }));
  EXPECT_TRUE(refused([](v1::StateProof& p) { (*p.mutable_multiproof())[2] ^= 1; }));
  EXPECT_TRUE(refused([](v1::StateProof& p) { p.mutable_leaves()->RemoveLast(); }));
}

}  // namespace
}  // namespace pom::client

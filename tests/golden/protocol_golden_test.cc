// Golden tests of docs/protocol.md §6-8: record layouts, leaf keys and values, the command
// signing encoding, and the final root of a fixed generated stream. Expected bytes are written
// out field by field from the document, so a change to a layout fails here first. If a layout
// changes on purpose, the protocol version tag changes with it and these vectors are renewed.
#include <gtest/gtest.h>

#include "bench/workload.h"
#include "common/hash.h"
#include "common/rules/commands.h"
#include "common/rules/records.h"
#include "matcher/engine.h"

namespace pom::rules {
namespace {

std::string Le(u128 v, int bytes) {
  std::string out;
  for (int i = 0; i < bytes; ++i) out += ToHex(std::vector<uint8_t>{static_cast<uint8_t>(v >> (8 * i))});
  return out;
}

AccountId Owner() {
  AccountId a;
  for (int i = 0; i < 32; ++i) a.bytes[i] = static_cast<uint8_t>(i + 1);
  return a;
}

std::string TaggedSha256(std::string_view tag, const std::string& body_hex) {
  Sha256Hasher h;
  std::vector<uint8_t> in(tag.begin(), tag.end());
  const std::vector<uint8_t> body = *FromHex(body_hex);
  in.insert(in.end(), body.begin(), body.end());
  return ToHex(h.Digest(in));
}

TEST(ProtocolGolden, OrderRecordLayout) {
  OrderRecord o;
  o.owner = Owner();
  o.side = Side::kSell;
  o.price = Price::FromRaw(kScale * 101);
  o.amount = Amount::FromRaw(kScale * 2);
  o.unfilled = Amount::FromRaw(kScale);
  o.prev = OrderId{7};
  o.next = OrderId{0};
  o.client_order_id = 0xabcdef;
  const std::string expected = ToHex(Owner().bytes) + "01" + Le(kScale * 101, 16) + Le(kScale * 2, 16) +
                               Le(kScale, 16) + Le(7, 8) + Le(0, 8) + Le(0xabcdef, 8);
  EXPECT_EQ(ToHex(Encode(o)), expected);
  EXPECT_EQ(ToHex(RecordHash(o)), TaggedSha256("pom.order.v1", expected));
  EXPECT_EQ(*DecodeOrderRecord(Encode(o)), o);
}

TEST(ProtocolGolden, PageRecordLayout) {
  PageRecord p{Side::kBuy, Price::FromRaw(5), Price::FromRaw(3), OrderId{10}, OrderId{12}, 2};
  const std::string expected = "00" + Le(5, 16) + Le(3, 16) + Le(10, 8) + Le(12, 8) + Le(2, 4);
  EXPECT_EQ(ToHex(Encode(p)), expected);
  EXPECT_EQ(ToHex(RecordHash(p)), TaggedSha256("pom.page.v1", expected));
  EXPECT_EQ(*DecodePageRecord(Encode(p)), p);
}

TEST(ProtocolGolden, MarketRecordLayout) {
  MarketRecord m{MarketStatus::kOpen, 2, 4, Amount::FromRaw(1000), 1234, 2345, 20};
  const std::string expected = "01" "02" "04" + Le(1000, 16) + Le(1234, 4) + Le(2345, 4) + Le(20, 4);
  EXPECT_EQ(ToHex(Encode(m)), expected);
  EXPECT_EQ(ToHex(RecordHash(m)), TaggedSha256("pom.market.v1", expected));
  EXPECT_EQ(*DecodeMarketRecord(Encode(m)), m);
}

TEST(ProtocolGolden, LeafKeysAndValues) {
  const MarketId m{Currency{2}, Currency{1}};
  EXPECT_EQ(ToHex(AccountKey(Owner(), Currency{1}).span()), "00" + ToHex(Owner().bytes) + "01000000");
  EXPECT_EQ(ToHex(OrderbookKey(m).span()), "01" "02000000" "01000000");
  EXPECT_EQ(ToHex(BestPriceKey(m).span()), "02" "02000000" "01000000");
  EXPECT_EQ(ToHex(OrderPageKey(m, Price::FromRaw(kScale)).span()), "03" "02000000" "01000000" + Le(kScale, 16));
  EXPECT_EQ(ToHex(OrderKey(m, OrderId{9}).span()), "04" "02000000" "01000000" + Le(9, 8));
  EXPECT_EQ(ToHex(PageLinkKey(m, Price::FromRaw(kScale)).span()), "05" "02000000" "01000000" + Le(kScale, 16));
  EXPECT_EQ(ToHex(NonceKey(Owner()).span()), "06" + ToHex(Owner().bytes));
  EXPECT_EQ(ToHex(MarketKey(m).span()), "07" "02000000" "01000000");
  EXPECT_EQ(ToHex(BalanceValue({Amount::FromRaw(1), Amount::FromRaw(2)})), Le(1, 16) + Le(2, 16));
  EXPECT_EQ(ToHex(PageVolumeValue(Amount::FromRaw(5))), Le(0, 16) + Le(5, 16));
  EXPECT_EQ(ToHex(NonceValue(3)), Le(3, 16) + Le(0, 16));
  Sha256Hasher h;
  EXPECT_EQ(TreeKey(MarketKey(m)), h.Digest(MarketKey(m).span()));
}

TEST(ProtocolGolden, CommandSigningEncoding) {
  Bytes32 prover;
  prover[0] = 0xaa;
  Command c;
  c.signer = Owner();
  c.nonce = 5;
  PlaceOrder p;
  p.market = MarketId{Currency{2}, Currency{1}};
  p.side = Side::kSell;
  p.type = OrderType::kLimit;
  p.time_in_force = TimeInForce::kIoc;
  p.stp = StpMode::kCancelBoth;
  p.price = Price::FromRaw(kScale);
  p.amount = Amount::FromRaw(7);
  p.client_order_id = 99;
  c.body = p;
  const std::string expected = ToHex(std::vector<uint8_t>{'p', 'o', 'm', '.', 'c', 'm', 'd', '.', 'v', '1'}) +
                               ToHex(prover) + "00" + ToHex(Owner().bytes) + Le(5, 8) + "02000000" "01000000" +
                               "01" "00" "01" "02" + Le(kScale, 16) + Le(7, 16) + Le(99, 8);
  EXPECT_EQ(ToHex(SigningBytes(prover, c)), expected);
  c.body = CancelOrder{MarketId{Currency{2}, Currency{1}}, OrderId{77}};
  EXPECT_EQ(ToHex(SigningBytes(prover, c)).substr(expected.find(ToHex(Owner().bytes)) - 2, 2), "01");
}

// Determinism: a fixed generated stream ends at this root on every build and machine.
TEST(ProtocolGolden, FixedStreamFinalRoot) {
  workload::Options o;
  o.seed = 42;
  o.events = 4000;
  o.users = 16;
  o.markets = 3;
  const workload::Workload w = workload::Generate(o);
  matcher::EngineOptions eo;
  eo.prover_id = w.genesis.prover_id;
  eo.operator_account = w.genesis.operator_key;
  matcher::Engine engine(eo);
  for (const auto& b : w.genesis.chain_balances) ASSERT_TRUE(engine.CreditChain(b.user, b.currency, b.amount).ok());
  for (const Command& c : w.commands) ASSERT_TRUE(engine.Submit(c).ok());
  EXPECT_EQ(engine.sequence(), 4000u);
  EXPECT_EQ(ToHex(engine.root()), "3e2024d3813aa0f8ae210d4aafb55caa422eb54ce126108756117c3cffaba08d");
}

}  // namespace
}  // namespace pom::rules

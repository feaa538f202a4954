#include "common/rules/commands.h"

#include <string_view>

namespace pom::rules {
namespace {

constexpr std::string_view kCommandTag = "pom.cmd.v1";

class Writer {
 public:
  explicit Writer(std::vector<uint8_t>& out) : out_(out) {}
  void Bytes(std::span<const uint8_t> b) { out_.insert(out_.end(), b.begin(), b.end()); }
  void U8(uint8_t v) { out_.push_back(v); }
  void U32(uint32_t v) {
    uint8_t b[4];
    PutU32Le(v, b);
    Bytes(b);
  }
  void U64(uint64_t v) {
    uint8_t b[8];
    PutU64Le(v, b);
    Bytes(b);
  }
  void U128(u128 v) {
    uint8_t b[16];
    PutU128Le(v, b);
    Bytes(b);
  }
  void Market(MarketId m) {
    U32(m.base.id);
    U32(m.quote.id);
  }

  void Body(const PlaceOrder& c) {
    Market(c.market);
    U8(static_cast<uint8_t>(c.side));
    U8(static_cast<uint8_t>(c.type));
    U8(static_cast<uint8_t>(c.time_in_force));
    U8(static_cast<uint8_t>(c.stp));
    U128(c.price.raw());
    U128(c.amount.raw());
    U64(c.client_order_id);
  }
  void Body(const CancelOrder& c) {
    Market(c.market);
    U64(c.order.value);
  }
  void Body(const AmendOrder& c) {
    Market(c.market);
    U64(c.order.value);
    U128(c.new_unfilled.raw());
  }
  void Body(const Withdraw& c) {
    U32(c.currency.id);
    U128(c.amount.raw());
  }
  void Body(const Deposit& c) {
    U32(c.currency.id);
    U128(c.amount.raw());
  }
  void Body(const CreateMarket& c) {
    Market(c.market);
    Bytes(Encode(c.params));
  }
  void Body(const UpdateMarket& c) {
    Market(c.market);
    U128(c.min_amount.raw());
    U32(c.maker_fee_ppm);
    U32(c.taker_fee_ppm);
    U32(c.max_makers);
  }
  void Body(const SetMarketStatus& c) {
    Market(c.market);
    U8(static_cast<uint8_t>(c.status));
  }

 private:
  std::vector<uint8_t>& out_;
};

}  // namespace

std::vector<uint8_t> SigningBytes(const Bytes32& prover_id, const Command& command) {
  std::vector<uint8_t> out;
  out.reserve(160);
  Writer w(out);
  w.Bytes({reinterpret_cast<const uint8_t*>(kCommandTag.data()), kCommandTag.size()});
  w.Bytes(prover_id.bytes);
  w.U8(static_cast<uint8_t>(command.kind()));
  w.Bytes(command.signer.bytes);
  w.U64(command.nonce);
  std::visit([&](const auto& body) { w.Body(body); }, command.body);
  return out;
}

void SignCommand(const Bytes32& prover_id, const SecretKey& key, Command& command) {
  command.signature = Sign(key, SigningBytes(prover_id, command));
}

bool VerifyCommandSignature(const Bytes32& prover_id, const Command& command) {
  return Verify(command.signer, SigningBytes(prover_id, command), command.signature);
}

}  // namespace pom::rules

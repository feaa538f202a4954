// Commands and their signing encoding. A user command is signed with the user's Ed25519 key
// over SigningBytes(): a domain tag, the prover id, the command kind, the signer, the nonce
// and the fields (docs/protocol.md §7). Market admin commands are signed by the operator.
// Thread-safety: value types and pure functions.
#pragma once

#include <cstdint>
#include <variant>
#include <vector>

#include "common/bytes.h"
#include "common/ed25519.h"
#include "common/rules/records.h"
#include "common/rules/types.h"

namespace pom::rules {

struct PlaceOrder {
  MarketId market;
  Side side = Side::kBuy;
  OrderType type = OrderType::kLimit;
  TimeInForce time_in_force = TimeInForce::kGtc;
  StpMode stp = StpMode::kCancelTaker;
  Price price;  // limit orders; 0 for market orders
  Amount amount;  // base
  uint64_t client_order_id = 0;
};

struct CancelOrder {
  MarketId market;
  OrderId order;
};

// Reduces a resting order's unfilled amount to `new_unfilled`; keeps its queue position.
struct AmendOrder {
  MarketId market;
  OrderId order;
  Amount new_unfilled;
};

// Moves available funds back to the signer's chain-side balance.
struct Withdraw {
  Currency currency;
  Amount amount;
};

// Credits funds the signer authorized on the chain side (the verifier's ledger) to this prover.
struct Deposit {
  Currency currency;
  Amount amount;
};

// Operator only. `params.status` is the new market's status.
struct CreateMarket {
  MarketId market;
  MarketRecord params;
};

// Operator only. Changes the trading parameters; decimals and status are kept.
struct UpdateMarket {
  MarketId market;
  Amount min_amount;
  uint32_t maker_fee_ppm = 0;
  uint32_t taker_fee_ppm = 0;
  uint32_t max_makers = 0;
};

// Operator only. Open, halt or close (closing is final).
struct SetMarketStatus {
  MarketId market;
  MarketStatus status = MarketStatus::kHalted;
};

using CommandBody = std::variant<PlaceOrder, CancelOrder, AmendOrder, Withdraw, Deposit,
                                 CreateMarket, UpdateMarket, SetMarketStatus>;

// Wire values of the command kinds (the variant index): append only.
enum class CommandKind : uint8_t {
  kPlaceOrder = 0,
  kCancelOrder = 1,
  kAmendOrder = 2,
  kWithdraw = 3,
  kDeposit = 4,
  kCreateMarket = 5,
  kUpdateMarket = 6,
  kSetMarketStatus = 7,
};

struct Command {
  AccountId signer;
  uint64_t nonce = 0;  // strictly greater than the signer's last used nonce
  CommandBody body;
  Signature signature;

  CommandKind kind() const { return static_cast<CommandKind>(body.index()); }
  bool IsAdmin() const { return kind() >= CommandKind::kCreateMarket; }
};

// The bytes a signer signs: "pom.cmd.v1" || prover_id(32) || kind u8 || signer(32) || nonce u64le
// || the body's fields in declaration order (fixed width, little-endian).
std::vector<uint8_t> SigningBytes(const Bytes32& prover_id, const Command& command);

// Fills command.signature. REQUIRES: key belongs to command.signer.
void SignCommand(const Bytes32& prover_id, const SecretKey& key, Command& command);
[[nodiscard]] bool VerifyCommandSignature(const Bytes32& prover_id, const Command& command);

}  // namespace pom::rules

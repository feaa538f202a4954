// Conversions between pom::rules types and the pom.v1 wire messages. Decoding validates every
// field a peer controls (sizes of keys, signatures and amounts; enum ranges) and fails with
// InvalidArgument naming the field; it never crashes on bad input.
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/rules/commands.h"
#include "common/rules/proof.h"
#include "common/rules/rules.h"
#include "proto/pom.pb.h"

namespace pom::codec {

std::string U128Bytes(u128 v);
absl::StatusOr<u128> U128FromBytes(const std::string& bytes, std::string_view field);

void MarketToProto(rules::MarketId m, v1::MarketId* out);
rules::MarketId MarketFromProto(const v1::MarketId& m);
void ParamsToProto(const rules::MarketRecord& m, v1::MarketParams* out);
absl::StatusOr<rules::MarketRecord> ParamsFromProto(const v1::MarketParams& p);

void ToProto(const rules::Command& c, v1::Command* out);
absl::StatusOr<rules::Command> FromProto(const v1::Command& c);

void ToProto(const rules::Outcome& o, v1::Outcome* out);
absl::StatusOr<rules::Outcome> FromProto(const v1::Outcome& o);

void ToProto(const rules::EventProof& p, v1::Proof* out);
absl::StatusOr<rules::EventProof> FromProto(const v1::Proof& p);

// The genesis of an offline run (pom.v1.Genesis as JSON).
struct ChainBalance {
  rules::AccountId user;
  rules::Currency currency;
  Amount amount;
};
struct Genesis {
  Bytes32 prover_id;
  rules::AccountId operator_key;
  std::vector<ChainBalance> chain_balances;
};
std::string GenesisToJson(const Genesis& g);
absl::StatusOr<Genesis> GenesisFromJson(const std::string& json);

}  // namespace pom::codec

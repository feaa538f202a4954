// A gRPC client of pom-matcher and pom-verifier for pom-cli, tests and pom-bench: typed calls
// with deadlines, key files, command signing, and checks of the matcher's state proofs.
// Thread-safety: a Client may be used from several threads (gRPC stubs are thread-safe).
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/ed25519.h"
#include "common/rules/commands.h"
#include "proto/pom.grpc.pb.h"

namespace pom::client {

// A key file holds the 32-byte Ed25519 seed as 64 hex digits and a newline (mode 0600).
absl::Status WriteKeyFile(const std::string& path, const Bytes32& seed);
absl::StatusOr<KeyPair> ReadKeyFile(const std::string& path);

// A nonce above every earlier one from this process and, in practice, from earlier runs:
// microseconds since the Unix epoch, made strictly increasing.
uint64_t FreshNonce();

// Checks that `proof`'s multiproof over its leaves gives its root, and that every record hashes
// to its leaf's value. Errors: DataLoss naming what does not hold.
absl::Status VerifyStateProof(const v1::StateProof& proof);

// Checks that a GetBook answer's levels are exactly the proven ones: the first level of each
// side is the proven best price, each next level is the one its predecessor's page record links
// to, each amount is its orderpage leaf's volume, and a side shorter than `depth` ends where the
// chain ends (nothing left out). REQUIRES: VerifyStateProof(book.proof()) passed.
// Errors: DataLoss naming the first level that does not hold.
absl::Status CheckBookAgainstProof(const v1::GetBookResponse& book, uint32_t depth);

class Client {
 public:
  Client(const std::string& matcher, const std::string& verifier,
         std::chrono::milliseconds deadline = std::chrono::milliseconds(5000));

  // The prover id every command is signed for (from the matcher, or the verifier if the
  // matcher is not given), fetched once.
  absl::StatusOr<Bytes32> ProverId();
  // Signs `command` (nonce: FreshNonce() unless already set) with `key` for this prover.
  absl::Status Sign(const KeyPair& key, rules::Command& command);

  absl::StatusOr<v1::SubmitResponse> Submit(const rules::Command& command);
  absl::StatusOr<v1::AuthorizeResponse> Authorize(const rules::Command& deposit);
  // The account's balances with the state proof checked (VerifyStateProof).
  absl::StatusOr<v1::GetAccountResponse> GetAccount(const rules::AccountId& account,
                                                    const std::vector<uint32_t>& currencies = {});
  absl::StatusOr<v1::GetBookResponse> GetBook(rules::MarketId market, uint32_t depth);
  absl::StatusOr<v1::MatcherStatus> MatcherStatus();
  absl::StatusOr<v1::Head> VerifierHead();
  absl::StatusOr<v1::GetBalanceResponse> ChainBalance(const rules::AccountId& account, rules::Currency currency);
  absl::StatusOr<v1::VerifierStatus> VerifierStatus();

  // Polls until the matcher has sequenced `account`'s nonce `nonce` (GetAccount), or `timeout`.
  absl::Status WaitSequenced(const rules::AccountId& account, uint64_t nonce, std::chrono::milliseconds timeout);
  // Polls until the verifier's head reaches `sequence`, or `timeout`.
  absl::StatusOr<v1::Head> WaitVerified(uint64_t sequence, std::chrono::milliseconds timeout);

  v1::Matcher::Stub& matcher() { return *matcher_; }
  v1::Verifier::Stub& verifier() { return *verifier_; }

 private:
  std::unique_ptr<v1::Matcher::Stub> matcher_;
  std::unique_ptr<v1::Verifier::Stub> verifier_;
  bool has_matcher_;
  std::chrono::milliseconds deadline_;
  std::optional<Bytes32> prover_id_;
};

}  // namespace pom::client

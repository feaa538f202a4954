// A State made of one proof's old leaves and nothing else: the verifier runs pom::rules on it.
// Reading or writing a leaf the proof does not carry fails with FailedPrecondition
// ("incomplete witness"). The neighbour hint is answered from the price levels the witness
// holds; the rules check it against the records, so the witness need not be trusted for it.
// Thread-safety: not thread-safe.
#pragma once

#include <optional>
#include <span>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "common/rules/proof.h"
#include "common/rules/state.h"

namespace pom::verify {

class WitnessState final : public rules::State {
 public:
  // REQUIRES: leaves validated (distinct keys, well-formed, records matching values). The
  // witness reads their records in place: `leaves` must outlive it.
  explicit WitnessState(const std::vector<rules::TouchedLeaf>& leaves);

  absl::StatusOr<rules::Balance> GetBalance(const rules::AccountId& user, rules::Currency c) override;
  absl::Status SetBalance(const rules::AccountId& user, rules::Currency c, const rules::Balance& b) override;
  absl::StatusOr<rules::BookSizes> GetBookSizes(rules::MarketId m) override;
  absl::Status SetBookSizes(rules::MarketId m, const rules::BookSizes& sizes) override;
  absl::StatusOr<rules::BestPrices> GetBestPrices(rules::MarketId m) override;
  absl::Status SetBestPrices(rules::MarketId m, const rules::BestPrices& best) override;
  absl::StatusOr<Amount> GetPageVolume(rules::MarketId m, Price price) override;
  absl::Status SetPageVolume(rules::MarketId m, Price price, Amount volume) override;
  absl::StatusOr<std::optional<rules::OrderRecord>> GetOrder(rules::MarketId m, rules::OrderId id) override;
  absl::Status SetOrder(rules::MarketId m, rules::OrderId id, const std::optional<rules::OrderRecord>& order) override;
  absl::StatusOr<std::optional<rules::PageRecord>> GetPage(rules::MarketId m, Price price) override;
  absl::Status SetPage(rules::MarketId m, Price price, const std::optional<rules::PageRecord>& page) override;
  absl::StatusOr<uint64_t> GetNonce(const rules::AccountId& user) override;
  absl::Status SetNonce(const rules::AccountId& user, uint64_t nonce) override;
  absl::StatusOr<std::optional<rules::MarketRecord>> GetMarket(rules::MarketId m) override;
  absl::Status SetMarket(rules::MarketId m, const rules::MarketRecord& record) override;
  absl::StatusOr<rules::PriceNeighbours> FindNeighbours(rules::MarketId m, rules::Side side, Price price) override;

 private:
  // A leaf's value and record: the proof's record until the rules write one (`written`).
  struct Slot {
    Bytes32 value;
    std::span<const uint8_t> record;
    std::vector<uint8_t> written;
  };
  absl::StatusOr<Slot*> Find(const rules::RawKey& key);
  // Writes `r` (or its absence) into `slot`.
  template <typename Record>
  static void WriteRecord(const std::optional<Record>& r, Slot* slot);

  absl::flat_hash_map<rules::RawKey, Slot> slots_;
};

}  // namespace pom::verify

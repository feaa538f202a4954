// A State wrapper that records every leaf the rules touch during one event: its raw key, its
// value (and record) before the first touch, and after the last. Reads count as touches: the
// verifier needs every leaf the rules look at, not only those they change. Leaves are listed
// in first-touch order, which is deterministic because the rules are.
// Thread-safety: not thread-safe.
#pragma once

#include <vector>

#include "absl/container/flat_hash_map.h"
#include "common/rules/proof.h"
#include "common/rules/state.h"

namespace pom::matcher {

class RecordingState final : public rules::State {
 public:
  explicit RecordingState(rules::State* inner) : inner_(inner) {}

  // Starts a new event: forgets what was recorded.
  void Reset();
  // The touched leaves of the current event, in first-touch order.
  std::vector<rules::TouchedLeaf> TakeLeaves();

  absl::StatusOr<rules::Balance> GetBalance(const rules::AccountId& user, rules::Currency c) override;
  absl::Status SetBalance(const rules::AccountId& user, rules::Currency c, const rules::Balance& b) override;
  absl::StatusOr<rules::BookSizes> GetBookSizes(rules::MarketId m) override;
  absl::Status SetBookSizes(rules::MarketId m, const rules::BookSizes& sizes) override;
  absl::StatusOr<rules::BestPrices> GetBestPrices(rules::MarketId m) override;
  absl::Status SetBestPrices(rules::MarketId m, const rules::BestPrices& best) override;
  absl::StatusOr<Amount> GetPageVolume(rules::MarketId m, Price price) override;
  absl::Status SetPageVolume(rules::MarketId m, Price price, Amount volume) override;
  absl::StatusOr<std::optional<rules::OrderRecord>> GetOrder(rules::MarketId m, rules::OrderId id) override;
  absl::Status SetOrder(rules::MarketId m, rules::OrderId id,
                        const std::optional<rules::OrderRecord>& order) override;
  absl::StatusOr<std::optional<rules::PageRecord>> GetPage(rules::MarketId m, Price price) override;
  absl::Status SetPage(rules::MarketId m, Price price,
                       const std::optional<rules::PageRecord>& page) override;
  absl::StatusOr<uint64_t> GetNonce(const rules::AccountId& user) override;
  absl::Status SetNonce(const rules::AccountId& user, uint64_t nonce) override;
  absl::StatusOr<std::optional<rules::MarketRecord>> GetMarket(rules::MarketId m) override;
  absl::Status SetMarket(rules::MarketId m, const rules::MarketRecord& record) override;
  absl::StatusOr<rules::PriceNeighbours> FindNeighbours(rules::MarketId m, rules::Side side,
                                                        Price price) override;

 private:
  // Records `value`/`record` as the leaf's content: the old one too on the first touch.
  void Note(const rules::RawKey& key, const Bytes32& value, std::vector<uint8_t> record);
  bool Seen(const rules::RawKey& key) const { return index_.contains(key); }

  rules::State* inner_;
  absl::flat_hash_map<rules::RawKey, size_t> index_;
  std::vector<rules::TouchedLeaf> leaves_;
};

}  // namespace pom::matcher

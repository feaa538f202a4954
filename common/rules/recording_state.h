// A State wrapper that records every leaf the rules touch during one event: its raw key, its
// value (and record) before the first touch, and after the last. Reads count as touches: the
// verifier needs every leaf the rules look at, not only those they change. Leaves are listed
// in first-touch order, which is deterministic because the rules are.
// Thread-safety: not thread-safe.
#pragma once

#include <span>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "common/rules/proof.h"
#include "common/rules/state.h"

namespace pom::rules {

class RecordingState final : public State {
 public:
  explicit RecordingState(State* inner) : inner_(inner) {}

  // Starts a new event: forgets what was recorded.
  void Reset();
  // The touched leaves of the current event, in first-touch order. The values of record leaves
  // (order, pagelink, market) are their records' hashes, computed here once per leaf, except
  // where `known` (leaves whose values are known to be their records' hashes, such as a checked
  // proof's) holds the same key at the same position with the same record: its value is taken.
  std::vector<TouchedLeaf> TakeLeaves(std::span<const TouchedLeaf> known = {});

  absl::StatusOr<Balance> GetBalance(const AccountId& user, Currency c) override;
  absl::Status SetBalance(const AccountId& user, Currency c, const Balance& b) override;
  absl::StatusOr<BookSizes> GetBookSizes(MarketId m) override;
  absl::Status SetBookSizes(MarketId m, const BookSizes& sizes) override;
  absl::StatusOr<BestPrices> GetBestPrices(MarketId m) override;
  absl::Status SetBestPrices(MarketId m, const BestPrices& best) override;
  absl::StatusOr<Amount> GetPageVolume(MarketId m, Price price) override;
  absl::Status SetPageVolume(MarketId m, Price price, Amount volume) override;
  absl::StatusOr<std::optional<OrderRecord>> GetOrder(MarketId m, OrderId id) override;
  absl::Status SetOrder(MarketId m, OrderId id,
                        const std::optional<OrderRecord>& order) override;
  absl::StatusOr<std::optional<PageRecord>> GetPage(MarketId m, Price price) override;
  absl::Status SetPage(MarketId m, Price price,
                       const std::optional<PageRecord>& page) override;
  absl::StatusOr<uint64_t> GetNonce(const AccountId& user) override;
  absl::Status SetNonce(const AccountId& user, uint64_t nonce) override;
  absl::StatusOr<std::optional<MarketRecord>> GetMarket(MarketId m) override;
  absl::Status SetMarket(MarketId m, const MarketRecord& record) override;
  absl::StatusOr<PriceNeighbours> FindNeighbours(MarketId m, Side side,
                                                        Price price) override;

 private:
  // Records `value`/`record` as the leaf's content: the old one too on the first touch.
  void Note(const RawKey& key, const Bytes32& value, std::vector<uint8_t> record);
  bool Seen(const RawKey& key) const { return index_.contains(key); }

  State* inner_;
  absl::flat_hash_map<RawKey, size_t> index_;
  std::vector<TouchedLeaf> leaves_;
};

}  // namespace pom::rules

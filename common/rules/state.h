// The state the rules run on, one typed accessor per leaf kind. The matcher implements it with
// its fast in-memory book; the verifier implements it with a witness holding only a proof's
// leaves. Every read and write maps to exactly one leaf, so a recording wrapper can list the
// leaves an event touched.
//
// Reads of absent leaves return zero / nullopt. Errors: a witness returns FailedPrecondition
// ("incomplete witness") for a leaf the proof does not carry; the rules pass any error up and
// the event fails as a whole.
// Thread-safety: implementations are used by one thread.
#pragma once

#include <cstdint>
#include <optional>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "common/rules/records.h"
#include "common/rules/types.h"

namespace pom::rules {

// Prices of the resting levels on one side adjacent to a price that has no level of its own.
// `better` is nearer the top of the book (higher for bids, lower for asks); 0 means none.
struct PriceNeighbours {
  Price better;
  Price worse;
};

class State {
 public:
  virtual ~State() = default;

  virtual absl::StatusOr<Balance> GetBalance(const AccountId& user, Currency currency) = 0;
  virtual absl::Status SetBalance(const AccountId& user, Currency currency, const Balance& b) = 0;

  virtual absl::StatusOr<BookSizes> GetBookSizes(MarketId market) = 0;
  virtual absl::Status SetBookSizes(MarketId market, const BookSizes& sizes) = 0;

  virtual absl::StatusOr<BestPrices> GetBestPrices(MarketId market) = 0;
  virtual absl::Status SetBestPrices(MarketId market, const BestPrices& best) = 0;

  virtual absl::StatusOr<Amount> GetPageVolume(MarketId market, Price price) = 0;
  virtual absl::Status SetPageVolume(MarketId market, Price price, Amount volume) = 0;

  virtual absl::StatusOr<std::optional<OrderRecord>> GetOrder(MarketId market, OrderId id) = 0;
  // nullopt deletes.
  virtual absl::Status SetOrder(MarketId market, OrderId id,
                                const std::optional<OrderRecord>& order) = 0;

  virtual absl::StatusOr<std::optional<PageRecord>> GetPage(MarketId market, Price price) = 0;
  virtual absl::Status SetPage(MarketId market, Price price,
                               const std::optional<PageRecord>& page) = 0;

  virtual absl::StatusOr<uint64_t> GetNonce(const AccountId& user) = 0;
  virtual absl::Status SetNonce(const AccountId& user, uint64_t nonce) = 0;

  virtual absl::StatusOr<std::optional<MarketRecord>> GetMarket(MarketId market) = 0;
  virtual absl::Status SetMarket(MarketId market, const MarketRecord& record) = 0;

  // A hint: the neighbours of a new price level `price` on `side`. The rules check it against
  // the page records (adjacency and order), so a wrong hint fails the event; it can never
  // misplace a level. The matcher answers from an ordered index; a witness from the pages it
  // holds.
  virtual absl::StatusOr<PriceNeighbours> FindNeighbours(MarketId market, Side side,
                                                         Price price) = 0;
};

}  // namespace pom::rules

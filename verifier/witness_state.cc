#include "verifier/witness_state.h"

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace pom::verify {

using namespace ::pom::rules;  // NOLINT: this file is all rules types

namespace {
const char* KindName(LeafKind k) {
  switch (k) {
    case LeafKind::kAccount: return "account";
    case LeafKind::kOrderbook: return "orderbook";
    case LeafKind::kBestPrice: return "bestprice";
    case LeafKind::kOrderPage: return "orderpage";
    case LeafKind::kOrder: return "order";
    case LeafKind::kPageLink: return "pagelink";
    case LeafKind::kNonce: return "nonce";
    case LeafKind::kMarket: return "market";
  }
  return "unknown";
}

// What a written record leaf holds as its value here. The witness reads a record leaf's value
// only to tell present from absent; the hash the proof must carry is computed once, by
// RecordingState::TakeLeaves.
Bytes32 Written() {
  Bytes32 v;
  v[0] = 1;
  return v;
}
const Bytes32 kWritten = Written();

}  // namespace

template <typename Record>
void WitnessState::WriteRecord(const std::optional<Record>& r, Slot* slot) {
  if (!r) {
    slot->value = Bytes32();
    slot->written.clear();
  } else {
    slot->value = kWritten;
    const auto bytes = Encode(*r);
    slot->written.assign(bytes.begin(), bytes.end());
  }
  slot->record = slot->written;
}

WitnessState::WitnessState(const std::vector<TouchedLeaf>& leaves) {
  slots_.reserve(leaves.size());
  for (const TouchedLeaf& l : leaves) {
    Slot& slot = slots_[l.key];
    slot.value = l.old_value;
    slot.record = l.old_record;
  }
}

absl::StatusOr<WitnessState::Slot*> WitnessState::Find(const RawKey& key) {
  auto it = slots_.find(key);
  if (it == slots_.end()) {
    return absl::FailedPreconditionError(
        absl::StrCat("incomplete witness: the proof lacks the ", KindName(key.kind()), " leaf ", ToHex(key.span())));
  }
  return &it->second;
}

absl::StatusOr<Balance> WitnessState::GetBalance(const AccountId& user, Currency c) {
  POM_ASSIGN_OR_RETURN(Slot * s, Find(AccountKey(user, c)));
  return BalanceFromValue(s->value);
}
absl::Status WitnessState::SetBalance(const AccountId& user, Currency c, const Balance& b) {
  POM_ASSIGN_OR_RETURN(Slot * s, Find(AccountKey(user, c)));
  s->value = BalanceValue(b);
  return absl::OkStatus();
}
absl::StatusOr<BookSizes> WitnessState::GetBookSizes(MarketId m) {
  POM_ASSIGN_OR_RETURN(Slot * s, Find(OrderbookKey(m)));
  return BookSizesFromValue(s->value);
}
absl::Status WitnessState::SetBookSizes(MarketId m, const BookSizes& sizes) {
  POM_ASSIGN_OR_RETURN(Slot * s, Find(OrderbookKey(m)));
  s->value = BookSizesValue(sizes);
  return absl::OkStatus();
}
absl::StatusOr<BestPrices> WitnessState::GetBestPrices(MarketId m) {
  POM_ASSIGN_OR_RETURN(Slot * s, Find(BestPriceKey(m)));
  return BestPricesFromValue(s->value);
}
absl::Status WitnessState::SetBestPrices(MarketId m, const BestPrices& best) {
  POM_ASSIGN_OR_RETURN(Slot * s, Find(BestPriceKey(m)));
  s->value = BestPricesValue(best);
  return absl::OkStatus();
}
absl::StatusOr<Amount> WitnessState::GetPageVolume(MarketId m, Price price) {
  POM_ASSIGN_OR_RETURN(Slot * s, Find(OrderPageKey(m, price)));
  return PageVolumeFromValue(s->value);
}
absl::Status WitnessState::SetPageVolume(MarketId m, Price price, Amount volume) {
  POM_ASSIGN_OR_RETURN(Slot * s, Find(OrderPageKey(m, price)));
  s->value = PageVolumeValue(volume);
  return absl::OkStatus();
}
absl::StatusOr<std::optional<OrderRecord>> WitnessState::GetOrder(MarketId m, OrderId id) {
  POM_ASSIGN_OR_RETURN(Slot * s, Find(OrderKey(m, id)));
  if (s->value.IsZero()) return std::nullopt;
  POM_ASSIGN_OR_RETURN(OrderRecord r, DecodeOrderRecord(s->record));
  return r;
}
absl::Status WitnessState::SetOrder(MarketId m, OrderId id, const std::optional<OrderRecord>& order) {
  POM_ASSIGN_OR_RETURN(Slot * s, Find(OrderKey(m, id)));
  WriteRecord(order, s);
  return absl::OkStatus();
}
absl::StatusOr<std::optional<PageRecord>> WitnessState::GetPage(MarketId m, Price price) {
  POM_ASSIGN_OR_RETURN(Slot * s, Find(PageLinkKey(m, price)));
  if (s->value.IsZero()) return std::nullopt;
  POM_ASSIGN_OR_RETURN(PageRecord r, DecodePageRecord(s->record));
  return r;
}
absl::Status WitnessState::SetPage(MarketId m, Price price, const std::optional<PageRecord>& page) {
  POM_ASSIGN_OR_RETURN(Slot * s, Find(PageLinkKey(m, price)));
  WriteRecord(page, s);
  return absl::OkStatus();
}
absl::StatusOr<uint64_t> WitnessState::GetNonce(const AccountId& user) {
  POM_ASSIGN_OR_RETURN(Slot * s, Find(NonceKey(user)));
  return NonceFromValue(s->value);
}
absl::Status WitnessState::SetNonce(const AccountId& user, uint64_t nonce) {
  POM_ASSIGN_OR_RETURN(Slot * s, Find(NonceKey(user)));
  s->value = NonceValue(nonce);
  return absl::OkStatus();
}
absl::StatusOr<std::optional<MarketRecord>> WitnessState::GetMarket(MarketId m) {
  POM_ASSIGN_OR_RETURN(Slot * s, Find(MarketKey(m)));
  if (s->value.IsZero()) return std::nullopt;
  POM_ASSIGN_OR_RETURN(MarketRecord r, DecodeMarketRecord(s->record));
  return r;
}
absl::Status WitnessState::SetMarket(MarketId m, const MarketRecord& record) {
  POM_ASSIGN_OR_RETURN(Slot * s, Find(MarketKey(m)));
  WriteRecord(std::optional<MarketRecord>(record), s);
  return absl::OkStatus();
}

absl::StatusOr<PriceNeighbours> WitnessState::FindNeighbours(MarketId m, Side side, Price price) {
  // The nearest levels of `side` the witness holds, on each side of `price`.
  PriceNeighbours n;
  const RawKey prefix = PageLinkKey(m, Price());
  for (const auto& [key, slot] : slots_) {
    if (key.size != prefix.size || !std::equal(key.bytes.begin(), key.bytes.begin() + 9, prefix.bytes.begin())) continue;
    if (slot.value.IsZero()) continue;
    absl::StatusOr<PageRecord> page = DecodePageRecord(slot.record);
    if (!page.ok() || page->side != side) continue;
    const Price p = Price::FromRaw(GetU128Le(key.bytes.data() + 9));
    const bool better = side == Side::kBuy ? p > price : p < price;
    if (p == price) continue;
    if (better) {
      if (n.better.IsZero() || (side == Side::kBuy ? p < n.better : p > n.better)) n.better = p;
    } else {
      if (n.worse.IsZero() || (side == Side::kBuy ? p > n.worse : p < n.worse)) n.worse = p;
    }
  }
  return n;
}

}  // namespace pom::verify

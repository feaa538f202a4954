#include "common/rules/recording_state.h"

#include "common/status_macros.h"

namespace pom::rules {
namespace {

// A record leaf's content while an event runs: its encoding only. Its value (the record's hash)
// is computed once per leaf in TakeLeaves, not on every write.
template <typename Record>
std::pair<Bytes32, std::vector<uint8_t>> RecordLeaf(const std::optional<Record>& r) {
  if (!r) return {Bytes32(), {}};
  const auto bytes = Encode(*r);
  return {Bytes32(), std::vector<uint8_t>(bytes.begin(), bytes.end())};
}

bool IsRecordLeaf(LeafKind k) {
  return k == LeafKind::kOrder || k == LeafKind::kPageLink || k == LeafKind::kMarket;
}

}  // namespace

void RecordingState::Reset() {
  index_.clear();
  leaves_.clear();
}

std::vector<TouchedLeaf> RecordingState::TakeLeaves(std::span<const TouchedLeaf> known) {
  index_.clear();
  for (size_t i = 0; i < leaves_.size(); ++i) {
    TouchedLeaf& leaf = leaves_[i];
    if (!IsRecordLeaf(leaf.key.kind())) continue;
    const TouchedLeaf* same = i < known.size() && known[i].key == leaf.key ? &known[i] : nullptr;
    leaf.old_value = same != nullptr && same->old_record == leaf.old_record
                         ? same->old_value
                         : RecordHashOfEncoding(leaf.key.kind(), leaf.old_record);
    if (leaf.new_record == leaf.old_record) {
      leaf.new_value = leaf.old_value;
    } else if (same != nullptr && same->new_record == leaf.new_record) {
      leaf.new_value = same->new_value;
    } else {
      leaf.new_value = RecordHashOfEncoding(leaf.key.kind(), leaf.new_record);
    }
  }
  return std::move(leaves_);
}

void RecordingState::Note(const RawKey& key, const Bytes32& value, std::vector<uint8_t> record) {
  auto [it, inserted] = index_.try_emplace(key, leaves_.size());
  if (inserted) {
    TouchedLeaf leaf;
    leaf.key = key;
    leaf.old_value = value;
    leaf.old_record = record;
    leaf.new_value = value;
    leaf.new_record = std::move(record);
    leaves_.push_back(std::move(leaf));
    return;
  }
  TouchedLeaf& leaf = leaves_[it->second];
  leaf.new_value = value;
  leaf.new_record = std::move(record);
}

absl::StatusOr<Balance> RecordingState::GetBalance(const AccountId& user, Currency c) {
  POM_ASSIGN_OR_RETURN(Balance b, inner_->GetBalance(user, c));
  const RawKey key = AccountKey(user, c);
  if (!Seen(key)) Note(key, BalanceValue(b), {});
  return b;
}

absl::Status RecordingState::SetBalance(const AccountId& user, Currency c, const Balance& b) {
  if (!Seen(AccountKey(user, c))) POM_RETURN_IF_ERROR(GetBalance(user, c).status());
  POM_RETURN_IF_ERROR(inner_->SetBalance(user, c, b));
  Note(AccountKey(user, c), BalanceValue(b), {});
  return absl::OkStatus();
}

absl::StatusOr<BookSizes> RecordingState::GetBookSizes(MarketId m) {
  POM_ASSIGN_OR_RETURN(BookSizes s, inner_->GetBookSizes(m));
  if (!Seen(OrderbookKey(m))) Note(OrderbookKey(m), BookSizesValue(s), {});
  return s;
}

absl::Status RecordingState::SetBookSizes(MarketId m, const BookSizes& sizes) {
  if (!Seen(OrderbookKey(m))) POM_RETURN_IF_ERROR(GetBookSizes(m).status());
  POM_RETURN_IF_ERROR(inner_->SetBookSizes(m, sizes));
  Note(OrderbookKey(m), BookSizesValue(sizes), {});
  return absl::OkStatus();
}

absl::StatusOr<BestPrices> RecordingState::GetBestPrices(MarketId m) {
  POM_ASSIGN_OR_RETURN(BestPrices b, inner_->GetBestPrices(m));
  if (!Seen(BestPriceKey(m))) Note(BestPriceKey(m), BestPricesValue(b), {});
  return b;
}

absl::Status RecordingState::SetBestPrices(MarketId m, const BestPrices& best) {
  if (!Seen(BestPriceKey(m))) POM_RETURN_IF_ERROR(GetBestPrices(m).status());
  POM_RETURN_IF_ERROR(inner_->SetBestPrices(m, best));
  Note(BestPriceKey(m), BestPricesValue(best), {});
  return absl::OkStatus();
}

absl::StatusOr<Amount> RecordingState::GetPageVolume(MarketId m, Price price) {
  POM_ASSIGN_OR_RETURN(Amount v, inner_->GetPageVolume(m, price));
  const RawKey key = OrderPageKey(m, price);
  if (!Seen(key)) Note(key, PageVolumeValue(v), {});
  return v;
}

absl::Status RecordingState::SetPageVolume(MarketId m, Price price, Amount volume) {
  const RawKey key = OrderPageKey(m, price);
  if (!Seen(key)) POM_RETURN_IF_ERROR(GetPageVolume(m, price).status());
  POM_RETURN_IF_ERROR(inner_->SetPageVolume(m, price, volume));
  Note(key, PageVolumeValue(volume), {});
  return absl::OkStatus();
}

absl::StatusOr<std::optional<OrderRecord>> RecordingState::GetOrder(MarketId m, OrderId id) {
  POM_ASSIGN_OR_RETURN(std::optional<OrderRecord> o, inner_->GetOrder(m, id));
  const RawKey key = OrderKey(m, id);
  if (!Seen(key)) {
    auto [value, record] = RecordLeaf(o);
    Note(key, value, std::move(record));
  }
  return o;
}

absl::Status RecordingState::SetOrder(MarketId m, OrderId id, const std::optional<OrderRecord>& order) {
  const RawKey key = OrderKey(m, id);
  if (!Seen(key)) POM_RETURN_IF_ERROR(GetOrder(m, id).status());
  POM_RETURN_IF_ERROR(inner_->SetOrder(m, id, order));
  auto [value, record] = RecordLeaf(order);
  Note(key, value, std::move(record));
  return absl::OkStatus();
}

absl::StatusOr<std::optional<PageRecord>> RecordingState::GetPage(MarketId m, Price price) {
  POM_ASSIGN_OR_RETURN(std::optional<PageRecord> p, inner_->GetPage(m, price));
  const RawKey key = PageLinkKey(m, price);
  if (!Seen(key)) {
    auto [value, record] = RecordLeaf(p);
    Note(key, value, std::move(record));
  }
  return p;
}

absl::Status RecordingState::SetPage(MarketId m, Price price, const std::optional<PageRecord>& page) {
  const RawKey key = PageLinkKey(m, price);
  if (!Seen(key)) POM_RETURN_IF_ERROR(GetPage(m, price).status());
  POM_RETURN_IF_ERROR(inner_->SetPage(m, price, page));
  auto [value, record] = RecordLeaf(page);
  Note(key, value, std::move(record));
  return absl::OkStatus();
}

absl::StatusOr<uint64_t> RecordingState::GetNonce(const AccountId& user) {
  POM_ASSIGN_OR_RETURN(uint64_t n, inner_->GetNonce(user));
  if (!Seen(NonceKey(user))) Note(NonceKey(user), NonceValue(n), {});
  return n;
}

absl::Status RecordingState::SetNonce(const AccountId& user, uint64_t nonce) {
  if (!Seen(NonceKey(user))) POM_RETURN_IF_ERROR(GetNonce(user).status());
  POM_RETURN_IF_ERROR(inner_->SetNonce(user, nonce));
  Note(NonceKey(user), NonceValue(nonce), {});
  return absl::OkStatus();
}

absl::StatusOr<std::optional<MarketRecord>> RecordingState::GetMarket(MarketId m) {
  POM_ASSIGN_OR_RETURN(std::optional<MarketRecord> r, inner_->GetMarket(m));
  if (!Seen(MarketKey(m))) {
    auto [value, record] = RecordLeaf(r);
    Note(MarketKey(m), value, std::move(record));
  }
  return r;
}

absl::Status RecordingState::SetMarket(MarketId m, const MarketRecord& record) {
  if (!Seen(MarketKey(m))) POM_RETURN_IF_ERROR(GetMarket(m).status());
  POM_RETURN_IF_ERROR(inner_->SetMarket(m, record));
  auto [value, bytes] = RecordLeaf(std::optional<MarketRecord>(record));
  Note(MarketKey(m), value, std::move(bytes));
  return absl::OkStatus();
}

absl::StatusOr<PriceNeighbours> RecordingState::FindNeighbours(MarketId m, Side side, Price price) {
  return inner_->FindNeighbours(m, side, price);
}

}  // namespace pom::rules

#include "matcher/gateway/market_data.h"

#include <algorithm>
#include <optional>
#include <tuple>
#include <variant>

#include "common/byte_io.h"
#include "common/money.h"
#include "proto/book_checksum.h"

namespace pom::gateway {
namespace {

rules::MarketId MarketOfKey(const rules::RawKey& key) {
  return rules::MarketId{rules::Currency{GetU32Le(key.bytes.data() + 1)}, rules::Currency{GetU32Le(key.bytes.data() + 5)}};
}
u128 PriceOfKey(const rules::RawKey& key) { return GetU128Le(key.bytes.data() + 9); }
uint64_t OrderOfKey(const rules::RawKey& key) { return GetU64Le(key.bytes.data() + 9); }

u128 VolumeOf(const Bytes32& value) {
  absl::StatusOr<Amount> v = rules::PageVolumeFromValue(value);
  return v.ok() ? v->raw() : 0;
}

constexpr size_t kChecksumDepth = wire::kChecksumDepth;

struct PriceKeyHash {
  size_t operator()(const std::pair<rules::MarketId, u128>& k) const {
    return absl::Hash<std::tuple<uint32_t, uint32_t, uint64_t, uint64_t>>()(
        {k.first.base.id, k.first.quote.id, static_cast<uint64_t>(k.second), static_cast<uint64_t>(k.second >> 64)});
  }
};

std::string KindOf(const rules::Command& c) {
  switch (c.kind()) {
    case rules::CommandKind::kPlaceOrder: return "order";
    case rules::CommandKind::kCancelOrder: return "cancel";
    case rules::CommandKind::kAmendOrder: return "amend";
    case rules::CommandKind::kWithdraw: return "withdraw";
    case rules::CommandKind::kDeposit: return "deposit";
    default: return "market";
  }
}

}  // namespace

void MarketData::Load(const matcher::FastState& state, uint64_t sequence) {
  books_.clear();
  open_.clear();
  state.ForEachMarket([&](rules::MarketId market, const matcher::FastState::Book& fast) {
    if (!fast.exists) return;
    Book& book = books_[market];
    for (const auto& [price, level] : fast.levels) {
      if (!level.has_page) continue;
      const rules::PageRecord& page = level.page;
      book.side_of[price] = page.side;
      const u128 amount = level.volume.raw();
      if (amount == 0) continue;
      if (page.side == rules::Side::kBuy) {
        book.bids[price] = amount;
      } else {
        book.asks[price] = amount;
      }
    }
    for (const auto& [id, order] : fast.orders) SetOrder(market, id, order);
  });
  last_event_ = sequence;
}

void MarketData::SetOrder(rules::MarketId market, uint64_t id, const rules::OrderRecord& record) {
  open_[record.owner][OrderKey{market, id}] = record;
}

void MarketData::RemoveOrder(const rules::AccountId& owner, rules::MarketId market, uint64_t id) {
  auto it = open_.find(owner);
  if (it == open_.end()) return;
  it->second.erase(OrderKey{market, id});
  if (it->second.empty()) open_.erase(it);
}

Published MarketData::Apply(const rules::EventProof& event) {
  Published out;
  last_event_ = event.sequence.value;
  const rules::Command& command = event.command;
  if (const auto* create = std::get_if<rules::CreateMarket>(&command.body);
      create != nullptr && event.outcome.reject == rules::RejectCode::kNone) {
    books_.try_emplace(create->market);
  }
  // A level's side comes from its pagelink record: before and after this event when the event
  // touched it (a level can change sides: a taker that empties the asks at its limit price
  // rests there as a bid), otherwise from what this book already knows.
  struct LinkSides {
    std::optional<rules::Side> before, after;
  };
  absl::flat_hash_map<std::pair<rules::MarketId, u128>, LinkSides, PriceKeyHash> links;
  for (const rules::TouchedLeaf& leaf : event.leaves) {
    if (leaf.key.kind() != rules::LeafKind::kPageLink) continue;
    LinkSides& sides = links[{MarketOfKey(leaf.key), PriceOfKey(leaf.key)}];
    if (!leaf.old_record.empty()) {
      absl::StatusOr<rules::PageRecord> page = rules::DecodePageRecord(leaf.old_record);
      if (page.ok()) sides.before = page->side;
    }
    if (!leaf.new_record.empty()) {
      absl::StatusOr<rules::PageRecord> page = rules::DecodePageRecord(leaf.new_record);
      if (page.ok()) sides.after = page->side;
    }
  }
  absl::flat_hash_map<rules::MarketId, BookDelta> deltas;
  auto set_level = [](Book& book, BookDelta& delta, rules::Side side, u128 price, u128 amount) {
    if (side == rules::Side::kBuy) {
      if (amount == 0) {
        book.bids.erase(price);
      } else {
        book.bids[price] = amount;
      }
      delta.bids.push_back({price, amount});
    } else {
      if (amount == 0) {
        book.asks.erase(price);
      } else {
        book.asks[price] = amount;
      }
      delta.asks.push_back({price, amount});
    }
  };
  for (const rules::TouchedLeaf& leaf : event.leaves) {
    const rules::LeafKind kind = leaf.key.kind();
    if (kind == rules::LeafKind::kOrder && leaf.old_value != leaf.new_value) {
      // The new record says who rests what; a removed order's old record names its owner.
      const rules::MarketId market = MarketOfKey(leaf.key);
      const uint64_t id = OrderOfKey(leaf.key);
      if (!leaf.new_record.empty()) {
        absl::StatusOr<rules::OrderRecord> record = rules::DecodeOrderRecord(leaf.new_record);
        if (record.ok()) SetOrder(market, id, *record);
      } else if (!leaf.old_record.empty()) {
        absl::StatusOr<rules::OrderRecord> old = rules::DecodeOrderRecord(leaf.old_record);
        if (old.ok()) RemoveOrder(old->owner, market, id);
      }
      continue;
    }
    if (kind != rules::LeafKind::kOrderPage) continue;
    const u128 before = VolumeOf(leaf.old_value), after = VolumeOf(leaf.new_value);
    if (before == after) continue;
    const rules::MarketId market = MarketOfKey(leaf.key);
    const u128 price = PriceOfKey(leaf.key);
    Book& book = books_[market];
    BookDelta& delta = deltas[market];
    auto known = book.side_of.find(price);
    const LinkSides* link = nullptr;
    if (auto l = links.find({market, price}); l != links.end()) link = &l->second;
    // Side values as ints, -1: unknown (an unproven event only).
    int old_side = known != book.side_of.end() ? static_cast<int>(known->second) : -1;
    if (link != nullptr && link->before.has_value()) old_side = static_cast<int>(*link->before);
    int new_side = old_side;
    if (link != nullptr && link->after.has_value()) new_side = static_cast<int>(*link->after);
    if (before > 0 && old_side >= 0 && (after == 0 || new_side != old_side)) {
      set_level(book, delta, static_cast<rules::Side>(old_side), price, 0);
    }
    if (after > 0 && new_side >= 0) {
      set_level(book, delta, static_cast<rules::Side>(new_side), price, after);
      book.side_of[price] = static_cast<rules::Side>(new_side);
    } else {
      book.side_of.erase(price);
    }
  }
  for (auto& [market, delta] : deltas) {
    Book& book = books_[market];
    delta.market = market;
    delta.market_sequence = ++book.sequence;
    delta.event = event.sequence.value;
    delta.checksum = Checksum(TopOf(book, kChecksumDepth));
    out.books.push_back(std::move(delta));
  }
  std::sort(out.books.begin(), out.books.end(),
            [](const BookDelta& a, const BookDelta& b) { return a.market < b.market; });

  // Trades and executions.
  Execution own;
  own.account = command.signer;
  own.event = event.sequence.value;
  own.root = event.new_root;
  own.kind = KindOf(command);
  own.reject = static_cast<uint32_t>(event.outcome.reject);
  own.fills = event.outcome.fills;
  own.resting = event.outcome.resting.raw();
  for (const rules::OrderId& c : event.outcome.cancelled) own.cancelled.push_back(c.value);
  if (const auto* place = std::get_if<rules::PlaceOrder>(&command.body)) {
    own.market = place->market;
    own.order = event.outcome.order.value;
    own.client_order_id = place->client_order_id;
    for (const rules::Fill& f : event.outcome.fills) {
      out.trades.push_back(Trade{place->market, event.sequence.value, f.price.raw(), f.amount.raw(), place->side,
                                 f.maker_order.value, event.outcome.order.value});
      Execution maker;
      maker.account = f.maker;
      maker.event = event.sequence.value;
      maker.root = event.new_root;
      maker.kind = "fill";
      maker.market = place->market;
      maker.order = f.maker_order.value;
      maker.fills = {f};
      out.executions.push_back(std::move(maker));
    }
  } else if (const auto* cancel = std::get_if<rules::CancelOrder>(&command.body)) {
    own.market = cancel->market;
    own.order = cancel->order.value;
  } else if (const auto* amend = std::get_if<rules::AmendOrder>(&command.body)) {
    own.market = amend->market;
    own.order = amend->order.value;
  }
  out.executions.insert(out.executions.begin(), std::move(own));
  return out;
}

BookTop MarketData::TopOf(const Book& book, size_t depth) {
  BookTop top;
  for (const auto& [price, amount] : book.bids) {
    if (top.bids.size() >= depth) break;
    top.bids.push_back({price, amount});
  }
  for (const auto& [price, amount] : book.asks) {
    if (top.asks.size() >= depth) break;
    top.asks.push_back({price, amount});
  }
  return top;
}

BookTop MarketData::Top(rules::MarketId market, size_t depth) const {
  auto it = books_.find(market);
  return it == books_.end() ? BookTop() : TopOf(it->second, depth);
}

uint64_t MarketData::MarketSequence(rules::MarketId market) const {
  auto it = books_.find(market);
  return it == books_.end() ? 0 : it->second.sequence;
}

std::vector<rules::MarketId> MarketData::Markets() const {
  std::vector<rules::MarketId> out;
  for (const auto& [market, book] : books_) out.push_back(market);
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<MarketData::OpenOrder> MarketData::OpenOrders(const rules::AccountId& account) const {
  std::vector<OpenOrder> out;
  auto it = open_.find(account);
  if (it == open_.end()) return out;
  for (const auto& [key, record] : it->second) out.push_back(OpenOrder{key.first, key.second, record});
  std::sort(out.begin(), out.end(), [](const OpenOrder& a, const OpenOrder& b) { return a.id < b.id; });
  return out;
}

namespace {
std::vector<wire::PriceLevel> Pairs(const std::vector<Level>& levels) {
  std::vector<wire::PriceLevel> out;
  out.reserve(levels.size());
  for (const Level& l : levels) out.emplace_back(l.price, l.amount);
  return out;
}
}  // namespace

std::string MarketData::ChecksumInput(const BookTop& top) {
  return wire::BookChecksumInput(Pairs(top.bids), Pairs(top.asks));
}

uint32_t MarketData::Checksum(const BookTop& top) { return wire::BookChecksum(Pairs(top.bids), Pairs(top.asks)); }

}  // namespace pom::gateway

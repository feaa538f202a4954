#include "tests/matcher/reference_model.h"

#include <algorithm>

#include "common/money.h"

namespace pom::testing {
namespace {

using namespace ::pom::rules;  // NOLINT

Outcome Reject(RejectCode code) {
  Outcome o;
  o.reject = code;
  return o;
}

u128 Pow10(int n) {
  u128 v = 1;
  while (n-- > 0) v *= 10;
  return v;
}

u128 Mul(u128 price, u128 amount) { return *MulDivFloor(price, amount, kScale); }
u128 Fee(u128 received, uint32_t ppm) { return *MulDivCeil(received, ppm, 1'000'000); }

bool ParamsOk(const MarketRecord& m) {
  return m.maker_fee_ppm <= 1'000'000 && m.taker_fee_ppm <= 1'000'000 && m.max_makers >= 1 &&
         m.max_makers <= 10'000 && m.min_amount.raw() % Pow10(18 - m.amount_decimals) == 0;
}

}  // namespace

size_t ReferenceModel::resting_orders() const {
  size_t n = 0;
  for (const auto& [id, b] : books_) {
    for (const auto& [p, q] : b.bids) n += q.size();
    for (const auto& [p, q] : b.asks) n += q.size();
  }
  return n;
}

BestPrices ReferenceModel::Best(MarketId m) const {
  BestPrices b;
  auto it = books_.find({m.base.id, m.quote.id});
  if (it == books_.end()) return b;
  if (!it->second.asks.empty()) b.ask = Price::FromRaw(it->second.asks.begin()->first);
  if (!it->second.bids.empty()) b.bid = Price::FromRaw(it->second.bids.rbegin()->first);
  return b;
}

BookSizes ReferenceModel::Sizes(MarketId m) const {
  BookSizes s;
  auto it = books_.find({m.base.id, m.quote.id});
  if (it == books_.end()) return s;
  u128 bid = 0, ask = 0;
  for (const auto& [p, q] : it->second.bids) for (const Order& o : q) bid += o.unfilled;
  for (const auto& [p, q] : it->second.asks) for (const Order& o : q) ask += o.unfilled;
  return {Amount::FromRaw(ask), Amount::FromRaw(bid)};
}

Amount ReferenceModel::VolumeAt(MarketId m, Price price) const {
  auto it = books_.find({m.base.id, m.quote.id});
  if (it == books_.end()) return Amount();
  u128 v = 0;
  for (const auto* side : {&it->second.bids, &it->second.asks}) {
    auto q = side->find(price.raw());
    if (q != side->end()) for (const Order& o : q->second) v += o.unfilled;
  }
  return Amount::FromRaw(v);
}

ReferenceModel::Order* ReferenceModel::FindOrder(Book& b, uint64_t id,
                                                 std::map<u128, std::deque<Order>>** side) {
  for (auto* s : {&b.bids, &b.asks}) {
    for (auto& [price, queue] : *s) {
      for (Order& o : queue) {
        if (o.id == id) {
          *side = s;
          return &o;
        }
      }
    }
  }
  return nullptr;
}

void ReferenceModel::Erase(std::map<u128, std::deque<Order>>& side, u128 price, uint64_t id) {
  auto& q = side[price];
  q.erase(std::find_if(q.begin(), q.end(), [&](const Order& o) { return o.id == id; }));
  if (q.empty()) side.erase(price);
}

Outcome ReferenceModel::Apply(uint64_t seq, const Command& c) {
  const AccountId& who = c.signer;
  if (const auto* p = std::get_if<PlaceOrder>(&c.body)) return Place(seq, who, *p);
  if (const auto* x = std::get_if<CancelOrder>(&c.body)) {
    auto bit = books_.find({x->market.base.id, x->market.quote.id});
    if (bit == books_.end()) return Reject(RejectCode::kMarketNotFound);
    std::map<u128, std::deque<Order>>* side = nullptr;
    Order* o = FindOrder(bit->second, x->order.value, &side);
    if (o == nullptr) return Reject(RejectCode::kOrderNotFound);
    if (o->owner != who) return Reject(RejectCode::kNotOrderOwner);
    if (o->side == Side::kSell) {
      Frozen(who, x->market.base.id) -= o->unfilled;
      Avail(who, x->market.base.id) += o->unfilled;
    } else {
      const u128 q = Mul(o->price, o->unfilled);
      Frozen(who, x->market.quote.id) -= q;
      Avail(who, x->market.quote.id) += q;
    }
    Erase(*side, o->price, o->id);
    Outcome out;
    out.cancelled.push_back(x->order);
    return out;
  }
  if (const auto* a = std::get_if<AmendOrder>(&c.body)) {
    auto bit = books_.find({a->market.base.id, a->market.quote.id});
    if (bit == books_.end()) return Reject(RejectCode::kMarketNotFound);
    if (a->new_unfilled.IsZero()) return Reject(RejectCode::kBadAmount);
    if (a->new_unfilled.raw() % Pow10(18 - bit->second.record.amount_decimals) != 0) return Reject(RejectCode::kBadLot);
    std::map<u128, std::deque<Order>>* side = nullptr;
    Order* o = FindOrder(bit->second, a->order.value, &side);
    if (o == nullptr) return Reject(RejectCode::kOrderNotFound);
    if (o->owner != who) return Reject(RejectCode::kNotOrderOwner);
    if (a->new_unfilled.raw() >= o->unfilled) return Reject(RejectCode::kAmendNotReduce);
    const u128 cut = o->unfilled - a->new_unfilled.raw();
    if (o->side == Side::kSell) {
      Frozen(who, a->market.base.id) -= cut;
      Avail(who, a->market.base.id) += cut;
    } else {
      const u128 release = Mul(o->price, o->unfilled) - Mul(o->price, a->new_unfilled.raw());
      Frozen(who, a->market.quote.id) -= release;
      Avail(who, a->market.quote.id) += release;
    }
    o->unfilled -= cut;
    o->amount -= cut;
    return Outcome();
  }
  if (const auto* w = std::get_if<Withdraw>(&c.body)) {
    if (w->amount.IsZero()) return Reject(RejectCode::kBadAmount);
    u128& avail = Avail(who, w->currency.id);
    if (avail < w->amount.raw()) return Reject(RejectCode::kInsufficientBalance);
    avail -= w->amount.raw();
    return Outcome();
  }
  if (const auto* d = std::get_if<Deposit>(&c.body)) {
    if (d->amount.IsZero()) return Reject(RejectCode::kBadAmount);
    u128& avail = Avail(who, d->currency.id);
    const u128 frozen = Frozen(who, d->currency.id);
    if (!CheckedAdd(avail, d->amount.raw()) || !CheckedAdd(avail + d->amount.raw(), frozen)) {
      return Reject(RejectCode::kOverflow);
    }
    avail += d->amount.raw();
    return Outcome();
  }
  if (const auto* m = std::get_if<CreateMarket>(&c.body)) {
    const auto id = std::make_pair(m->market.base.id, m->market.quote.id);
    if (books_.contains(id)) return Reject(RejectCode::kMarketExists);
    if (m->market.base == m->market.quote || m->params.price_decimals + m->params.amount_decimals > 18 ||
        !ParamsOk(m->params)) {
      return Reject(RejectCode::kBadMarketParams);
    }
    books_[id].record = m->params;
    return Outcome();
  }
  if (const auto* u = std::get_if<UpdateMarket>(&c.body)) {
    auto bit = books_.find({u->market.base.id, u->market.quote.id});
    if (bit == books_.end()) return Reject(RejectCode::kMarketNotFound);
    MarketRecord next = bit->second.record;
    next.min_amount = u->min_amount;
    next.maker_fee_ppm = u->maker_fee_ppm;
    next.taker_fee_ppm = u->taker_fee_ppm;
    next.max_makers = u->max_makers;
    if (!ParamsOk(next)) return Reject(RejectCode::kBadMarketParams);
    if (bit->second.record.status == MarketStatus::kClosed) return Reject(RejectCode::kMarketClosed);
    bit->second.record = next;
    return Outcome();
  }
  const auto& s = std::get<SetMarketStatus>(c.body);
  auto bit = books_.find({s.market.base.id, s.market.quote.id});
  if (bit == books_.end()) return Reject(RejectCode::kMarketNotFound);
  if (bit->second.record.status == MarketStatus::kClosed) return Reject(RejectCode::kMarketClosed);
  bit->second.record.status = s.status;
  return Outcome();
}

Outcome ReferenceModel::Place(uint64_t seq, const AccountId& taker, const PlaceOrder& p) {
  auto bit = books_.find({p.market.base.id, p.market.quote.id});
  if (bit == books_.end()) return Reject(RejectCode::kMarketNotFound);
  Book& book = bit->second;
  const MarketRecord& m = book.record;
  if (m.status == MarketStatus::kHalted) return Reject(RejectCode::kMarketNotOpen);
  if (m.status == MarketStatus::kClosed) return Reject(RejectCode::kMarketClosed);
  const bool limit = p.type == OrderType::kLimit;
  const u128 price = p.price.raw(), amount = p.amount.raw();
  if (limit != (price != 0) || (!limit && p.time_in_force == TimeInForce::kPostOnly)) return Reject(RejectCode::kBadPrice);
  if (amount == 0) return Reject(RejectCode::kBadAmount);
  const u128 lot = Pow10(18 - m.amount_decimals);
  if (limit && price % Pow10(18 - m.price_decimals) != 0) return Reject(RejectCode::kBadTick);
  if (amount % lot != 0) return Reject(RejectCode::kBadLot);
  if (amount < m.min_amount.raw()) return Reject(RejectCode::kBelowMinimum);
  const uint32_t base = p.market.base.id, quote = p.market.quote.id;
  const bool buy = p.side == Side::kBuy;
  const uint32_t pay = buy ? quote : base;
  u128 reserve = 0;
  if (!buy) {
    reserve = amount;
  } else if (limit) {
    std::optional<u128> n = MulDivFloor(price, amount, kScale);
    if (!n) return Reject(RejectCode::kInsufficientBalance);
    reserve = *n;
  }
  const u128 funds = Avail(taker, pay);
  if (funds < reserve || (!limit && buy && funds == 0)) return Reject(RejectCode::kInsufficientBalance);
  auto& opposite = buy ? book.asks : book.bids;
  const std::optional<u128> best = opposite.empty() ? std::nullopt
                                   : std::optional<u128>(buy ? opposite.begin()->first : opposite.rbegin()->first);
  if (p.time_in_force == TimeInForce::kPostOnly && best && (buy ? *best <= price : *best >= price)) {
    return Reject(RejectCode::kPostOnlyWouldCross);
  }
  // The crossing makers in priority order (best price first, then time), as a flat list.
  auto crossing = [&]() {
    std::vector<Order> list;
    auto take = [&](const std::deque<Order>& q) { list.insert(list.end(), q.begin(), q.end()); };
    if (buy) {
      for (auto& [lvl, q] : opposite) {
        if (limit && lvl > price) break;
        take(q);
      }
    } else {
      for (auto it = opposite.rbegin(); it != opposite.rend(); ++it) {
        if (limit && it->first < price) break;
        take(it->second);
      }
    }
    return list;
  };
  struct Step {
    enum Kind { kFill, kCancelMaker } kind;
    Order maker;
    u128 fill;
  };
  // Plans the match without touching state: the steps and whether the taker was stopped.
  auto plan = [&](std::vector<Step>& steps) {
    u128 remaining = amount;
    uint32_t makers = 0;
    u128 budget = (!limit && buy) ? Avail(taker, quote) : 0;
    for (const Order& o : crossing()) {
      if (remaining == 0) break;
      if (makers >= m.max_makers) return std::make_pair(remaining, true);
      ++makers;
      if (o.owner == taker) {
        if (p.stp != StpMode::kCancelTaker) steps.push_back({Step::kCancelMaker, o, 0});
        if (p.stp != StpMode::kCancelMaker) return std::make_pair(remaining, true);
        continue;
      }
      u128 fill = std::min(remaining, o.unfilled);
      if (!limit && buy) {
        const u128 affordable = *MulDivFloor(budget, kScale, o.price);
        fill = std::min(fill, affordable - affordable % lot);
        if (fill == 0) return std::make_pair(remaining, false);
        budget -= Mul(o.price, fill);
      }
      steps.push_back({Step::kFill, o, fill});
      remaining -= fill;
    }
    return std::make_pair(remaining, false);
  };
  std::vector<Step> steps;
  auto [remaining, stopped] = plan(steps);
  if (p.time_in_force == TimeInForce::kFok && remaining != 0) return Reject(RejectCode::kFokNotFillable);
  if (!limit && !best) return Reject(RejectCode::kNoLiquidity);

  Outcome out;
  out.order = OrderId{seq};
  out.taker_stopped = stopped;
  Avail(taker, pay) -= reserve;
  Frozen(taker, pay) += reserve;
  for (const Step& s : steps) {
    const Order& o = s.maker;
    if (s.kind == Step::kCancelMaker) {
      if (o.side == Side::kSell) {
        Frozen(o.owner, base) -= o.unfilled;
        Avail(o.owner, base) += o.unfilled;
      } else {
        const u128 q = Mul(o.price, o.unfilled);
        Frozen(o.owner, quote) -= q;
        Avail(o.owner, quote) += q;
      }
      Erase(opposite, o.price, o.id);
      out.cancelled.push_back(OrderId{o.id});
      continue;
    }
    const u128 q = Mul(o.price, s.fill);
    Fill f;
    f.maker_order = OrderId{o.id};
    f.maker = o.owner;
    f.price = Price::FromRaw(o.price);
    f.amount = Amount::FromRaw(s.fill);
    f.quote = Amount::FromRaw(q);
    if (!buy) {
      const u128 tf = Fee(q, m.taker_fee_ppm), mf = Fee(s.fill, m.maker_fee_ppm);
      Frozen(taker, base) -= s.fill;
      Avail(taker, quote) += q - tf;
      Frozen(o.owner, quote) -= q;
      Avail(o.owner, base) += s.fill - mf;
      Avail(op_, quote) += tf;
      Avail(op_, base) += mf;
      f.taker_fee = Amount::FromRaw(tf);
      f.maker_fee = Amount::FromRaw(mf);
    } else {
      const u128 tf = Fee(s.fill, m.taker_fee_ppm), mf = Fee(q, m.maker_fee_ppm);
      if (limit) {
        const u128 reserved = Mul(price, s.fill);
        Frozen(taker, quote) -= reserved;
        Avail(taker, quote) += reserved - q;
      } else {
        Avail(taker, quote) -= q;
      }
      Avail(taker, base) += s.fill - tf;
      Frozen(o.owner, base) -= s.fill;
      Avail(o.owner, quote) += q - mf;
      Avail(op_, base) += tf;
      Avail(op_, quote) += mf;
      f.taker_fee = Amount::FromRaw(tf);
      f.maker_fee = Amount::FromRaw(mf);
    }
    out.fills.push_back(f);
    auto& q_at = opposite[o.price];
    auto it = std::find_if(q_at.begin(), q_at.end(), [&](const Order& x) { return x.id == o.id; });
    it->unfilled -= s.fill;
    if (it->unfilled == 0) Erase(opposite, o.price, o.id);
  }
  if (remaining == 0) return out;
  if (limit && !stopped && (p.time_in_force == TimeInForce::kGtc || p.time_in_force == TimeInForce::kPostOnly)) {
    (buy ? book.bids : book.asks)[price].push_back(Order{seq, taker, p.side, price, amount, remaining});
    out.resting = Amount::FromRaw(remaining);
    return out;
  }
  if (!buy) {
    Frozen(taker, base) -= remaining;
    Avail(taker, base) += remaining;
  } else if (limit) {
    const u128 unused = Mul(price, remaining);
    Frozen(taker, quote) -= unused;
    Avail(taker, quote) += unused;
  }
  return out;
}

}  // namespace pom::testing

#include "bench/workload.h"

#include <string>

#include "common/check.h"
#include "common/hash.h"
#include "tests/testing/random.h"

namespace pom::workload {
namespace {

using namespace ::pom::rules;  // NOLINT: generator of rules commands

constexpr Currency kQuote{1};

// Markets cycle through these decimals; 6 + 12 = 18 makes notionals arbitrary raw units, so fee
// rounding matters there.
constexpr std::pair<uint8_t, uint8_t> kDecimals[] = {{2, 4}, {6, 12}, {4, 8}};

u128 Pow10(int n) {
  u128 v = 1;
  while (n-- > 0) v *= 10;
  return v;
}

Bytes32 Derive(std::string_view label, uint64_t seed, uint64_t index) {
  Sha256Hasher h;
  h.Begin();
  h.Update({reinterpret_cast<const uint8_t*>(label.data()), label.size()});
  uint8_t buf[16];
  PutU64Le(seed, buf);
  PutU64Le(index, buf + 8);
  h.Update(buf);
  return h.Finish();
}

MarketId MarketOf(uint32_t i) { return MarketId{Currency{i + 2}, kQuote}; }

class Generator {
 public:
  explicit Generator(const Options& o) : o_(o), rng_(o.seed) {
    POM_CHECK(o.users >= 2 && o.markets >= 1);
    op_ = OperatorKey(o.seed);
    for (uint32_t i = 0; i < o.users; ++i) users_.push_back(UserKey(o.seed, i));
    nonces_.assign(o.users, 0);
    for (uint32_t m = 0; m < o.markets; ++m) {
      mid_ticks_.push_back(static_cast<uint64_t>(100 * Pow10(kDecimals[m % 3].first)));  // 100
    }
    reopen_at_.assign(o.markets, 0);
    live_.resize(o.markets);
    out_.genesis.prover_id = ProverId(o.seed);
    out_.genesis.operator_key = op_.public_key;
    for (uint32_t u = 0; u < o.users; ++u) {
      out_.genesis.chain_balances.push_back({users_[u].public_key, kQuote, Amount::FromUnits(10'000'000)});
      for (uint32_t m = 0; m < o.markets; ++m) {
        out_.genesis.chain_balances.push_back({users_[u].public_key, MarketOf(m).base, Amount::FromUnits(100'000)});
      }
    }
  }

  Workload Run() {
    for (uint32_t m = 0; m < o_.markets && Room(); ++m) {
      MarketRecord params;
      params.status = MarketStatus::kOpen;
      params.price_decimals = kDecimals[m % 3].first;
      params.amount_decimals = kDecimals[m % 3].second;
      params.min_amount = Amount::FromRaw(10 * Lot(m));
      params.maker_fee_ppm = 1234;
      params.taker_fee_ppm = 2345;
      params.max_makers = 20;
      Admin(CreateMarket{MarketOf(m), params});
    }
    // One more market, closed at once: orders sent there must be rejected as market_closed.
    if (Room()) {
      MarketRecord params;
      params.status = MarketStatus::kOpen;
      params.price_decimals = 2;
      params.amount_decimals = 4;
      params.max_makers = 1;
      Admin(CreateMarket{MarketOf(o_.markets), params});
      if (Room()) Admin(SetMarketStatus{MarketOf(o_.markets), MarketStatus::kClosed});
    }
    // Initial deposits: a share of each user's chain-side funds.
    for (uint32_t u = 0; u < o_.users && Room(); ++u) {
      User(u, Deposit{kQuote, Amount::FromUnits(1'000'000)});
      for (uint32_t m = 0; m < o_.markets && Room(); ++m) {
        User(u, Deposit{MarketOf(m).base, Amount::FromUnits(10'000)});
      }
    }
    out_.setup_commands = out_.commands.size();
    while (Room()) Step();
    return std::move(out_);
  }

 private:
  bool Room() const { return out_.commands.size() < o_.events; }

  uint64_t NextSequence() const { return out_.commands.size() + 1; }

  void Emit(const KeyPair& key, uint64_t nonce, CommandBody body) {
    Command c;
    c.signer = key.public_key;
    c.nonce = nonce;
    c.body = std::move(body);
    if (o_.sign) SignCommand(out_.genesis.prover_id, key.secret_key, c);
    out_.commands.push_back(std::move(c));
  }
  void Admin(CommandBody body) { Emit(op_, ++op_nonce_, std::move(body)); }
  void User(uint32_t u, CommandBody body) { Emit(users_[u], ++nonces_[u], std::move(body)); }

  static u128 Tick(uint32_t m) { return Pow10(18 - kDecimals[m % 3].first); }
  static u128 Lot(uint32_t m) { return Pow10(18 - kDecimals[m % 3].second); }

  Price PriceAround(uint32_t m, int64_t spread_ticks) {
    int64_t ticks = static_cast<int64_t>(mid_ticks_[m]) +
                    static_cast<int64_t>(rng_.Uniform(0, 2 * spread_ticks)) - spread_ticks;
    if (ticks < 1) ticks = 1;
    return Price::FromRaw(static_cast<u128>(ticks) * Tick(m));
  }
  Amount Lots(uint32_t m, uint64_t lo, uint64_t hi) { return Amount::FromRaw(rng_.Uniform(lo, hi) * Lot(m)); }

  void Place(uint32_t u, uint32_t m, OrderType type, TimeInForce tif, Price price, Amount amount, Side side) {
    PlaceOrder p;
    p.market = MarketOf(m);
    p.side = side;
    p.type = type;
    p.time_in_force = tif;
    p.stp = static_cast<StpMode>(rng_.Uniform(0, 2));
    p.price = type == OrderType::kLimit ? price : Price();
    p.amount = amount;
    p.client_order_id = rng_.Next();
    if (type == OrderType::kLimit && (tif == TimeInForce::kGtc || tif == TimeInForce::kPostOnly)) {
      live_[m].push_back({NextSequence(), u});
    }
    User(u, p);
  }

  void Step() {
    for (uint32_t i = 0; i < o_.markets; ++i) {
      if (reopen_at_[i] != 0 && out_.commands.size() >= reopen_at_[i]) {
        reopen_at_[i] = 0;
        Admin(SetMarketStatus{MarketOf(i), MarketStatus::kOpen});
        return;
      }
    }
    const uint32_t u = static_cast<uint32_t>(rng_.Uniform(0, o_.users - 1));
    const uint32_t m = static_cast<uint32_t>(rng_.Uniform(0, o_.markets - 1));
    // The mid price takes a small random step.
    if (rng_.OneIn(8)) {
      const int64_t step = static_cast<int64_t>(rng_.Uniform(0, 4)) - 2;
      mid_ticks_[m] = static_cast<uint64_t>(std::max<int64_t>(500, static_cast<int64_t>(mid_ticks_[m]) + step));
    }
    const Side side = rng_.OneIn(2) ? Side::kBuy : Side::kSell;
    const uint64_t dice = rng_.Uniform(0, 999);
    if (dice < 400) {
      // Resting liquidity a little away from the mid on its own side, sometimes crossing.
      const int64_t offset = static_cast<int64_t>(rng_.Uniform(0, 25)) - 3;
      int64_t ticks = static_cast<int64_t>(mid_ticks_[m]) + (side == Side::kBuy ? -offset : offset);
      Place(u, m, OrderType::kLimit, TimeInForce::kGtc, Price::FromRaw(static_cast<u128>(std::max<int64_t>(1, ticks)) * Tick(m)),
            Lots(m, 10, 2000), side);
    } else if (dice < 480) {
      Place(u, m, OrderType::kLimit, TimeInForce::kIoc, PriceAround(m, 10), Lots(m, 10, 3000), side);
    } else if (dice < 530) {
      Place(u, m, OrderType::kLimit, TimeInForce::kFok, PriceAround(m, 10), Lots(m, 10, 3000), side);
    } else if (dice < 580) {
      Place(u, m, OrderType::kLimit, TimeInForce::kPostOnly, PriceAround(m, 15), Lots(m, 10, 2000), side);
    } else if (dice < 640) {
      Place(u, m, OrderType::kMarket, TimeInForce::kIoc, Price(), Lots(m, 10, 1500), side);
    } else if (dice < 790) {
      CancelOrAmend(u, m, /*amend=*/false);
    } else if (dice < 840) {
      CancelOrAmend(u, m, /*amend=*/true);
    } else if (dice < 870) {
      User(u, Withdraw{rng_.OneIn(2) ? kQuote : MarketOf(m).base, Amount::FromRaw(rng_.Uniform(1, 5000) * Pow10(14))});
    } else if (dice < 890) {
      User(u, Deposit{rng_.OneIn(2) ? kQuote : MarketOf(m).base, Amount::FromRaw(rng_.Uniform(1, 1000) * kScale)});
    } else if (dice < 891) {
      // Operator mistakes the rules must reject: re-creating a market, impossible parameters.
      if (rng_.OneIn(2)) {
        Admin(CreateMarket{MarketOf(m), MarketRecord{}});
      } else {
        Admin(UpdateMarket{MarketOf(m), Amount(), 0, 0, 0});
      }
    } else if (dice < 895) {
      UpdateMarket up{MarketOf(m), Amount::FromRaw(10 * Lot(m)), static_cast<uint32_t>(rng_.Uniform(0, 2000)),
                      static_cast<uint32_t>(rng_.Uniform(0, 3000)), static_cast<uint32_t>(rng_.Uniform(1, 30))};
      Admin(up);
    } else if (dice < 897) {
      // A short halt: orders meanwhile are rejected; the market reopens a few events later.
      if (reopen_at_[m] == 0) {
        Admin(SetMarketStatus{MarketOf(m), MarketStatus::kHalted});
        reopen_at_[m] = out_.commands.size() + rng_.Uniform(3, 30);
      }
    } else {
      Bad(u, m, side);
    }
  }

  void CancelOrAmend(uint32_t u, uint32_t m, bool amend) {
    auto& live = live_[m];
    if (live.empty()) {
      User(u, CancelOrder{MarketOf(m), OrderId{rng_.Uniform(1, NextSequence())}});
      return;
    }
    // Mostly recent orders, as real flow cancels what it just placed.
    const size_t back = std::min<size_t>(live.size() - 1, rng_.Uniform(0, rng_.OneIn(4) ? live.size() - 1 : 50));
    const size_t i = live.size() - 1 - back;
    const auto [id, owner] = live[i];
    live.erase(live.begin() + static_cast<long>(i));
    if (amend) {
      // Mostly reductions; sometimes not a reduction at all, which the rules reject.
      User(owner, AmendOrder{MarketOf(m), OrderId{id}, rng_.OneIn(5) ? Lots(m, 5000, 9000) : Lots(m, 10, 500)});
      live.push_back({id, owner});
    } else {
      User(owner, CancelOrder{MarketOf(m), OrderId{id}});
    }
  }

  void Bad(uint32_t u, uint32_t m, Side side) {
    PlaceOrder p;
    p.market = MarketOf(m);
    p.side = side;
    p.price = PriceAround(m, 5);
    p.amount = Lots(m, 10, 100);
    switch (rng_.Uniform(0, 7)) {
      case 0: p.price = Price::FromRaw(p.price.raw() + Tick(m) / 2); break;   // off tick
      case 1: p.amount = Amount::FromRaw(p.amount.raw() + Lot(m) / 2); break;  // off lot
      case 2: p.amount = Amount::FromRaw(Lot(m)); break;                       // below minimum
      case 3: p.amount = Amount::FromUnits(1'000'000'000); break;            // unfunded
      case 4: p.market = rng_.OneIn(2) ? MarketId{Currency{999}, kQuote} : MarketOf(o_.markets); break;  // unknown or closed
      case 5: {                                                               // someone else's order
        if (!live_[m].empty()) {
          const auto [id, owner] = live_[m][rng_.Uniform(0, live_[m].size() - 1)];
          const uint32_t other = owner == u ? (u + 1) % o_.users : u;
          User(other, CancelOrder{MarketOf(m), OrderId{id}});
          return;
        }
        break;
      }
      case 6: p.type = OrderType::kMarket; break;                              // market with a price
      default: p.amount = Amount(); break;                                    // zero
    }
    User(u, p);
  }

  Options o_;
  testing::Rng rng_;
  KeyPair op_;
  uint64_t op_nonce_ = 0;
  std::vector<KeyPair> users_;
  std::vector<uint64_t> nonces_;
  std::vector<uint64_t> mid_ticks_;
  std::vector<uint64_t> reopen_at_;  // per market: command count at which a halt ends (0: open)
  std::vector<std::vector<std::pair<uint64_t, uint32_t>>> live_;  // (order id, owner) per market
  Workload out_;
};

}  // namespace

KeyPair OperatorKey(uint64_t seed) { return KeyPairFromSeed(Derive("pom.gen.operator", seed, 0)); }
KeyPair UserKey(uint64_t seed, uint32_t index) { return KeyPairFromSeed(Derive("pom.gen.user", seed, index)); }
Bytes32 ProverId(uint64_t seed) { return Derive("pom.gen.prover", seed, 0); }

Workload Generate(const Options& options) { return Generator(options).Run(); }

}  // namespace pom::workload

#include "bench/lobster.h"

#include <malloc.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <tuple>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "bench/cycle_clock.h"
#include "common/status_macros.h"
#include "matcher/engine.h"

namespace pom::lobster {
namespace {

using namespace ::pom::rules;  // NOLINT

constexpr MarketId kMarket{Currency{1}, Currency{2}};
constexpr u128 kPriceUnit = 100'000'000'000'000ULL;  // LOBSTER price is dollars x 10^4
constexpr int64_t kEmptyAsk = 9999999999LL;

class GzLines {
 public:
  static absl::StatusOr<GzLines> Open(const std::string& path) {
    gzFile f = gzopen(path.c_str(), "rb");
    if (f == nullptr) return absl::NotFoundError(absl::StrCat("cannot open ", path));
    return GzLines(f);
  }
  GzLines(GzLines&& o) noexcept : f_(std::exchange(o.f_, nullptr)) {}
  ~GzLines() {
    if (f_ != nullptr) gzclose(f_);
  }
  // The next line without its newline; false at the end.
  bool Next(std::string& line) {
    line.clear();
    char buf[4096];
    while (gzgets(f_, buf, sizeof(buf)) != nullptr) {
      line += buf;
      if (!line.empty() && line.back() == '\n') {
        line.pop_back();
        if (!line.empty() && line.back() == '\r') line.pop_back();
        return true;
      }
    }
    return !line.empty();
  }

 private:
  explicit GzLines(gzFile f) : f_(f) {}
  gzFile f_;
};

struct Message {
  int type;
  int64_t id, size, price;
  int direction;
};

absl::StatusOr<Message> ParseMessage(const std::string& line, uint64_t row) {
  std::vector<std::string> f = absl::StrSplit(line, ',');
  Message m;
  if (f.size() < 6 || !absl::SimpleAtoi(f[1], &m.type) || !absl::SimpleAtoi(f[2], &m.id) ||
      !absl::SimpleAtoi(f[3], &m.size) || !absl::SimpleAtoi(f[4], &m.price) || !absl::SimpleAtoi(f[5], &m.direction)) {
    return absl::InvalidArgumentError(absl::StrCat("message row ", row, " is malformed"));
  }
  return m;
}

struct Level {
  int64_t price = 0, size = 0;
  friend bool operator==(const Level&, const Level&) = default;
};
struct BookRow {
  std::vector<Level> asks, bids;  // non-empty levels, best first
};

absl::StatusOr<BookRow> ParseBook(const std::string& line, int levels, uint64_t row) {
  std::vector<std::string> f = absl::StrSplit(line, ',');
  if (f.size() < static_cast<size_t>(4 * levels)) {
    return absl::InvalidArgumentError(absl::StrCat("orderbook row ", row, " has ", f.size(), " fields"));
  }
  BookRow r;
  for (int l = 0; l < levels; ++l) {
    int64_t v[4];
    for (int k = 0; k < 4; ++k) {
      if (!absl::SimpleAtoi(f[4 * l + k], &v[k])) {
        return absl::InvalidArgumentError(absl::StrCat("orderbook row ", row, " is malformed"));
      }
    }
    if (v[1] > 0 && v[0] != kEmptyAsk) r.asks.push_back({v[0], v[1]});
    if (v[3] > 0 && v[2] != -kEmptyAsk) r.bids.push_back({v[2], v[3]});
  }
  return r;
}

AccountId Account(uint8_t n) {
  AccountId a;
  a.bytes[0] = n;
  return a;
}

class Replayer {
 public:
  explicit Replayer(const Options& o) : o_(o) {
    engine_options_.operator_account = op_;
    engine_options_.prove = o.proofs;
    engine_options_.check_signatures = false;
    engine_ = std::make_unique<matcher::Engine>(engine_options_);
  }

  // The second pass: the commands of the first, in order, through a fresh engine and nothing
  // else (no parsing, no book comparison or reconciliation between them), as an exchange's
  // engine thread runs. With kPerMessage, returns each message's engine time in CycleClock
  // ticks (each interval also holds about one clock read). With kStretches, the clock is read
  // only where a run of timed commands starts and ends (untimed reconciliation commands run
  // outside them), and the result holds one element: the total of those runs, the engine's
  // time for all messages without the per-message clock reads. Errors: Internal if any command
  // fails or the final state differs from the first pass's.
  enum class Timing { kPerMessage, kStretches };
  absl::StatusOr<std::vector<int64_t>> ReplayLog(Timing timing) {
    matcher::Engine engine(engine_options_);
    for (const auto& [who, currency, amount] : credits_) POM_RETURN_IF_ERROR(engine.CreditChain(who, currency, amount));
    auto submit = [&](const Logged& l) {
      return o_.proofs ? engine.Submit(l.command).status() : engine.SubmitUnproved(l.command).status();
    };
    std::vector<int64_t> ticks;
    if (timing == Timing::kPerMessage) {
      ticks.assign(latencies_.size(), 0);
      for (const Logged& l : log_) {
        const uint64_t start = bench::CycleClock::Now();
        const absl::Status status = submit(l);
        const uint64_t end = bench::CycleClock::Now();
        if (!status.ok()) return absl::InternalError(absl::StrCat("second pass: ", status.ToString()));
        if (l.timed && l.message < ticks.size()) ticks[l.message] += static_cast<int64_t>(end - start);
      }
    } else {
      int64_t total = 0;
      size_t i = 0;
      while (i < log_.size()) {
        const bool timed = log_[i].timed;
        const uint64_t start = timed ? bench::CycleClock::Now() : 0;
        absl::Status status;
        for (; i < log_.size() && log_[i].timed == timed && status.ok(); ++i) status = submit(log_[i]);
        if (timed) total += static_cast<int64_t>(bench::CycleClock::Now() - start);
        if (!status.ok()) return absl::InternalError(absl::StrCat("second pass: ", status.ToString()));
      }
      ticks.push_back(total);
    }
    if (engine.root() != engine_->root() || !SameLeaves(engine.state(), engine_->state())) {
      return absl::InternalError("second pass: the final state differs from the first pass's");
    }
    return ticks;
  }

  absl::Status Setup() {
    MarketRecord m;
    m.status = MarketStatus::kOpen;
    m.price_decimals = 4;
    m.amount_decimals = 0;
    m.min_amount = Amount::FromUnits(1);
    m.max_makers = 10'000;
    POM_RETURN_IF_ERROR(Untimed(op_, CreateMarket{kMarket, m}).status());
    for (const AccountId& a : {buyer_, seller_, taker_}) {
      for (Currency c : {kMarket.base, kMarket.quote}) {
        const Amount plenty = Amount::FromUnits(1'000'000'000'000ULL);
        POM_RETURN_IF_ERROR(engine_->CreditChain(a, c, plenty));
        credits_.push_back({a, c, plenty});
        POM_RETURN_IF_ERROR(Untimed(a, Deposit{c, plenty}).status());
      }
    }
    return absl::OkStatus();
  }

  // Seeds the book from the reference row of message 0 with message 0 undone.
  absl::Status Seed(BookRow row, const Message& first) {
    if (first.type >= 2 && first.type <= 4) Adjust(row, first, first.size);
    if (first.type == 1) Adjust(row, first, -first.size);
    for (const Level& l : row.asks) POM_RETURN_IF_ERROR(Placeholder(Side::kSell, l.price, l.size));
    for (const Level& l : row.bids) POM_RETURN_IF_ERROR(Placeholder(Side::kBuy, l.price, l.size));
    return absl::OkStatus();
  }

  absl::Status Apply(const Message& m) {
    const Side side = m.direction == 1 ? Side::kBuy : Side::kSell;
    switch (m.type) {
      case 1: {
        PlaceOrder p;
        p.market = kMarket;
        p.side = side;
        p.price = Price::FromRaw(static_cast<u128>(m.price) * kPriceUnit);
        p.amount = Amount::FromUnits(static_cast<uint64_t>(m.size));
        POM_ASSIGN_OR_RETURN(Outcome out, Timed(side == Side::kBuy ? buyer_ : seller_, p));
        if (!out.resting.IsZero()) ids_[m.id] = out.order.value;
        return absl::OkStatus();
      }
      case 2:
      case 3:
      case 4: {
        if (m.type == 4) {
          // The resting order was executed: an incoming opposite order took it. Matching is FIFO,
          // so whatever our book still has ahead of that order was cancelled out of sight.
          POM_RETURN_IF_ERROR(ClearAhead(side, m.price, m.id));
          PlaceOrder p;
          p.market = kMarket;
          p.side = Opposite(side);
          p.time_in_force = TimeInForce::kIoc;
          p.price = Price::FromRaw(static_cast<u128>(m.price) * kPriceUnit);
          p.amount = Amount::FromUnits(static_cast<uint64_t>(m.size));
          return Timed(taker_, p).status();
        }
        int64_t shares = m.size;
        auto it = ids_.find(m.id);
        if (it != ids_.end()) {
          const matcher::FastState::Book* book = engine_->state().FindBook(kMarket);
          auto o = book->orders.find(it->second);
          if (o != book->orders.end()) {
            const int64_t size = static_cast<int64_t>(o->second.unfilled.raw() / kScale);
            POM_RETURN_IF_ERROR(Reduce(side, it->second, m.type == 3 ? INT64_MAX : shares, /*timed=*/true));
            shares -= size;
          }
          if (m.type == 3) ids_.erase(it);
        }
        // An order from before the file, one added while deeper than the file's levels, or one a
        // reconciliation already took for stale depth: its shares are the fungible liquidity at
        // that price (placeholders, then orders that have been out of sight, then the oldest).
        while (shares > 0) {
          uint64_t id = PlaceholderAt(side, m.price);
          if (id == 0) id = OutOfSightAt(m.price);
          if (id == 0) id = OldestAt(m.price);
          if (id == 0) break;
          const int64_t size = static_cast<int64_t>(engine_->state().FindBook(kMarket)->orders.at(id).unfilled.raw() / kScale);
          POM_RETURN_IF_ERROR(Reduce(side, id, shares, /*timed=*/true));
          shares -= size;
        }
        return absl::OkStatus();
      }
      default:
        return absl::OkStatus();  // hidden executions, cross trades, halts: no visible book change
    }
  }

  // Our top `levels` per side.
  BookRow Ours() const {
    BookRow r;
    const matcher::FastState::Book* book = engine_->state().FindBook(kMarket);
    if (book == nullptr) return r;
    auto level = [&](u128 price) {
      return Level{static_cast<int64_t>(price / kPriceUnit),
                   static_cast<int64_t>(book->VolumeAt(price).raw() / kScale)};
    };
    const size_t levels = static_cast<size_t>(o_.levels);
    book->ask_prices.ForEachAscending([&](u128 p) {
      if (r.asks.size() == levels) return false;
      r.asks.push_back(level(p));
      return true;
    });
    book->bid_prices.ForEachDescending([&](u128 p) {
      if (r.bids.size() == levels) return false;
      r.bids.push_back(level(p));
      return true;
    });
    return r;
  }

  // Makes our deepest compared level agree with the reference: adds depth the file never
  // showed, removes depth it cancelled out of sight.
  absl::Status Reconcile(const BookRow& ref) {
    for (Side side : {Side::kSell, Side::kBuy}) {
      for (int guard = 0; guard < 4 * o_.levels; ++guard) {
        const BookRow ours = Ours();
        const auto& mine = side == Side::kSell ? ours.asks : ours.bids;
        const auto& theirs = side == Side::kSell ? ref.asks : ref.bids;
        const size_t deepest = static_cast<size_t>(o_.levels) - 1;
        // Levels above the deepest must already agree for the deepest to be comparable.
        bool above_match = true;
        for (size_t l = 0; l < deepest; ++l) {
          const bool a = l < mine.size(), b = l < theirs.size();
          if (a != b || (a && !(mine[l] == theirs[l]))) above_match = false;
        }
        if (!above_match) break;
        const bool have = mine.size() > deepest, want = theirs.size() > deepest;
        if (!have && !want) break;
        if (have && want && mine[deepest] == theirs[deepest]) break;
        const auto better = [&](int64_t a, int64_t b) { return side == Side::kSell ? a < b : a > b; };
        if (have && (!want || better(mine[deepest].price, theirs[deepest].price))) {
          POM_RETURN_IF_ERROR(ClearLevel(side, mine[deepest].price));  // stale depth
        } else if (have && mine[deepest].price == theirs[deepest].price) {
          const int64_t diff = theirs[deepest].size - mine[deepest].size;
          if (diff > 0) {
            POM_RETURN_IF_ERROR(Placeholder(side, theirs[deepest].price, diff));
          } else {
            POM_RETURN_IF_ERROR(ShrinkLevel(side, mine[deepest].price, -diff));
          }
        } else {
          POM_RETURN_IF_ERROR(Placeholder(side, theirs[deepest].price, theirs[deepest].size));
        }
      }
    }
    return absl::OkStatus();
  }

  matcher::Engine& engine() { return *engine_; }
  // Per message, in CycleClock ticks.
  std::vector<int64_t>& latencies() { return latencies_; }
  uint64_t timed_events() const { return timed_events_; }
  uint64_t untimed_events() const { return untimed_events_; }
  uint64_t proof_bytes() const { return proof_bytes_; }

 private:
  static void Adjust(BookRow& row, const Message& m, int64_t delta) {
    auto& levels = m.direction == 1 ? row.bids : row.asks;
    for (Level& l : levels) {
      if (l.price == m.price) l.size += delta;
    }
  }

  // Builds the command and submits it; with `timed`, the engine's call (and only it: the
  // command is the caller's to build) is added to the message's time.
  absl::StatusOr<Outcome> Submit(const AccountId& who, CommandBody body, bool timed) {
    Command c;
    c.signer = who;
    c.nonce = ++nonces_[who.bytes[0]];
    c.body = std::move(body);
    log_.push_back({c, static_cast<uint32_t>(latencies_.size()), timed});
    if (!o_.proofs) {
      const uint64_t start = timed ? bench::CycleClock::Now() : 0;
      absl::StatusOr<Outcome> out = engine_->SubmitUnproved(c);
      if (timed) pending_ticks_ += bench::CycleClock::Now() - start;
      return out;
    }
    const uint64_t start = timed ? bench::CycleClock::Now() : 0;
    absl::StatusOr<EventProof> proof = engine_->Submit(c);
    if (timed) pending_ticks_ += bench::CycleClock::Now() - start;
    if (!proof.ok()) return proof.status();
    proof_bytes_ += proof->multiproof.size();
    for (const TouchedLeaf& l : proof->leaves) proof_bytes_ += l.key.size + 64 + l.old_record.size() + l.new_record.size();
    return std::move(proof->outcome);
  }

  absl::StatusOr<Outcome> Timed(const AccountId& who, CommandBody body) {
    ++timed_events_;
    return Submit(who, std::move(body), /*timed=*/true);
  }
  absl::StatusOr<Outcome> Untimed(const AccountId& who, CommandBody body) {
    ++untimed_events_;
    return Submit(who, std::move(body), /*timed=*/false);
  }

 public:
  // Closes the timing of one message.
  void EndMessage() {
    latencies_.push_back(static_cast<int64_t>(pending_ticks_));
    pending_ticks_ = 0;
  }

 private:
  absl::Status Placeholder(Side side, int64_t price, int64_t size) {
    if (size <= 0) return absl::OkStatus();
    PlaceOrder p;
    p.market = kMarket;
    p.side = side;
    p.price = Price::FromRaw(static_cast<u128>(price) * kPriceUnit);
    p.amount = Amount::FromUnits(static_cast<uint64_t>(size));
    POM_ASSIGN_OR_RETURN(Outcome out, Untimed(side == Side::kBuy ? buyer_ : seller_, p));
    if (!out.resting.IsZero()) placeholders_[{static_cast<int>(side), price}].push_back(out.order.value);
    return absl::OkStatus();
  }

  // The first live placeholder order at (side, price), or 0.
  uint64_t PlaceholderAt(Side side, int64_t price) {
    auto it = placeholders_.find({static_cast<int>(side), price});
    if (it == placeholders_.end()) return 0;
    const matcher::FastState::Book* book = engine_->state().FindBook(kMarket);
    auto& ids = it->second;
    while (!ids.empty() && !book->orders.contains(ids.front())) ids.erase(ids.begin());
    return ids.empty() ? 0 : ids.front();
  }

  uint64_t OldestAt(int64_t price) const {
    const matcher::FastState::Book* book = engine_->state().FindBook(kMarket);
    const rules::PageRecord* page = book->FindPage(static_cast<u128>(price) * kPriceUnit);
    return page == nullptr ? 0 : page->head.value;
  }

  // The oldest order at `price` that has been deeper than the file's levels since it was placed
  // (only such orders can have been cancelled out of sight), or 0.
  uint64_t OutOfSightAt(int64_t price) const {
    const matcher::FastState::Book* book = engine_->state().FindBook(kMarket);
    const rules::PageRecord* page = book->FindPage(static_cast<u128>(price) * kPriceUnit);
    if (page == nullptr) return 0;
    for (uint64_t id = page->head.value; id != 0; id = book->orders.at(id).next.value) {
      if (out_of_sight_.contains(id)) return id;
    }
    return 0;
  }

 public:
  // Marks the orders just below the compared depth. Our orders move past depth L one level at a
  // time, so watching depths L+1 and L+2 after every message catches every order that leaves
  // the file's sight.
  void MarkOutOfSight() {
    const matcher::FastState::Book* book = engine_->state().FindBook(kMarket);
    if (book == nullptr) return;
    auto mark = [&](u128 price) {
      for (uint64_t id = book->FindPage(price)->head.value; id != 0; id = book->orders.at(id).next.value) {
        out_of_sight_.insert(id);
      }
    };
    const size_t from = static_cast<size_t>(o_.levels), to = from + 2;
    size_t depth = 0;
    auto visit = [&](u128 p) {
      if (depth >= to) return false;
      if (depth++ >= from) mark(p);
      return true;
    };
    book->ask_prices.ForEachAscending(visit);
    depth = 0;
    book->bid_prices.ForEachDescending(visit);
  }

 private:

  // Takes `shares` off a resting order (all of it at most).
  absl::Status Reduce(Side side, uint64_t id, int64_t shares, bool timed) {
    const matcher::FastState::Book* book = engine_->state().FindBook(kMarket);
    auto o = book->orders.find(id);
    if (o == book->orders.end()) return absl::OkStatus();
    const AccountId& owner = side == Side::kBuy ? buyer_ : seller_;
    const u128 unfilled = o->second.unfilled.raw() / kScale;
    CommandBody body;
    if (static_cast<u128>(shares) >= unfilled) {
      body = CancelOrder{kMarket, OrderId{id}};
    } else {
      body = AmendOrder{kMarket, OrderId{id}, Amount::FromUnits(static_cast<uint64_t>(unfilled - static_cast<u128>(shares)))};
    }
    return (timed ? Timed(owner, std::move(body)) : Untimed(owner, std::move(body))).status();
  }

  // Removes our liquidity that an execution at `price` on `side` shows gone: orders at better
  // prices, and orders queued ahead of the executed one, but only those that have been out of
  // sight (only they can have been cancelled unseen; executions within one sweep may be listed
  // out of queue order, so visible orders ahead are left for the fungible reductions).
  absl::Status ClearAhead(Side side, int64_t price, int64_t lobster_id) {
    const matcher::FastState::Book* book = engine_->state().FindBook(kMarket);
    const u128 at = static_cast<u128>(price) * kPriceUnit;
    std::vector<uint64_t> stale;
    auto collect = [&](u128 level, uint64_t stop_at) {
      for (uint64_t id = book->FindPage(level)->head.value; id != 0 && id != stop_at; id = book->orders.at(id).next.value) {
        if (out_of_sight_.contains(id)) stale.push_back(id);
      }
    };
    if (side == Side::kBuy) {
      book->bid_prices.ForEachDescending([&](u128 p) {
        if (p <= at) return false;
        collect(p, 0);
        return true;
      });
    } else {
      book->ask_prices.ForEachAscending([&](u128 p) {
        if (p >= at) return false;
        collect(p, 0);
        return true;
      });
    }
    auto known = ids_.find(lobster_id);
    if (known != ids_.end() && book->orders.contains(known->second) && book->FindPage(at) != nullptr) {
      collect(at, known->second);
    }
    for (uint64_t id : stale) POM_RETURN_IF_ERROR(Reduce(side, id, INT64_MAX, /*timed=*/false));
    return absl::OkStatus();
  }

  absl::Status ClearLevel(Side side, int64_t price) {
    return ShrinkLevel(side, price, INT64_MAX);
  }

  // Removes `shares` from the level at `price`: orders that have been out of sight first
  // (oldest first: only they can be stale), then the newest others.
  absl::Status ShrinkLevel(Side side, int64_t price, int64_t shares) {
    while (shares > 0) {
      const matcher::FastState::Book* book = engine_->state().FindBook(kMarket);
      const rules::PageRecord* page = book->FindPage(static_cast<u128>(price) * kPriceUnit);
      if (page == nullptr) return absl::OkStatus();
      uint64_t id = OutOfSightAt(price);
      if (id == 0) id = page->tail.value;
      const int64_t size = static_cast<int64_t>(book->orders.at(id).unfilled.raw() / kScale);
      POM_RETURN_IF_ERROR(Reduce(side, id, shares, /*timed=*/false));
      shares = shares == INT64_MAX ? INT64_MAX : shares - size;
    }
    return absl::OkStatus();
  }

  static bool SameLeaves(const matcher::FastState& a, const matcher::FastState& b) {
    std::vector<smt::SmtLeaf> x = matcher::StateLeaves(a), y = matcher::StateLeaves(b);
    if (x.size() != y.size()) return false;
    if (x.empty()) return true;
    if (!smt::SortLeavesForProof(x).ok() || !smt::SortLeavesForProof(y).ok()) return false;
    for (size_t i = 0; i < x.size(); ++i) {
      if (x[i].key != y[i].key || x[i].value != y[i].value) return false;
    }
    return true;
  }

  // Every command in submission order, with the message it belongs to (the index of the next
  // EndMessage) and whether it is timed; and the chain credits of the setup.
  struct Logged {
    Command command;
    uint32_t message;
    bool timed;
  };
  std::vector<Logged> log_;
  std::vector<std::tuple<AccountId, Currency, Amount>> credits_;

  Options o_;
  matcher::EngineOptions engine_options_;
  const AccountId op_ = Account(1), buyer_ = Account(2), seller_ = Account(3), taker_ = Account(4);
  std::unique_ptr<matcher::Engine> engine_;
  std::map<uint8_t, uint64_t> nonces_;
  absl::flat_hash_map<int64_t, uint64_t> ids_;  // LOBSTER order id -> engine order id
  std::map<std::pair<int, int64_t>, std::vector<uint64_t>> placeholders_;
  absl::flat_hash_set<uint64_t> out_of_sight_;
  std::vector<int64_t> latencies_;
  uint64_t pending_ticks_ = 0;
  uint64_t timed_events_ = 0, untimed_events_ = 0, proof_bytes_ = 0;
};

}  // namespace

absl::StatusOr<Result> Replay(const Options& options) {
  if (options.levels < 1 || options.levels > 50) return absl::InvalidArgumentError("--levels must be 1..50");
  // Large blocks from the heap rather than fresh mappings, and no trimming: memory the engine
  // frees stays mapped and warm for its next use.
  mallopt(M_MMAP_THRESHOLD, 1 << 30);
  mallopt(M_TRIM_THRESHOLD, std::numeric_limits<int>::max());
  POM_ASSIGN_OR_RETURN(GzLines messages, GzLines::Open(options.messages_path));
  POM_ASSIGN_OR_RETURN(GzLines books, GzLines::Open(options.book_path));
  Replayer r(options);
  POM_RETURN_IF_ERROR(r.Setup());
  bench::CycleClock::Calibration calibration;
  calibration.Start();
  std::string mline, bline;
  std::vector<uint64_t> matches(static_cast<size_t>(options.levels), 0);
  Result result;
  int debug_left = std::getenv("POM_LOBSTER_DEBUG") ? std::atoi(std::getenv("POM_LOBSTER_DEBUG")) : 0;
  for (uint64_t row = 0; (options.max_messages == 0 || row < options.max_messages) && messages.Next(mline); ++row) {
    if (!books.Next(bline)) return absl::InvalidArgumentError(absl::StrCat("orderbook file ends before row ", row));
    POM_ASSIGN_OR_RETURN(Message m, ParseMessage(mline, row));
    POM_ASSIGN_OR_RETURN(BookRow ref, ParseBook(bline, options.levels, row));
    if (row == 0) POM_RETURN_IF_ERROR(r.Seed(ref, m));
    POM_RETURN_IF_ERROR(r.Apply(m));
    r.EndMessage();
    const BookRow ours = r.Ours();
    for (int l = 0; l < options.levels; ++l) {
      auto same = [&](const std::vector<Level>& a, const std::vector<Level>& b) {
        const bool ha = static_cast<size_t>(l) < a.size(), hb = static_cast<size_t>(l) < b.size();
        return ha == hb && (!ha || a[l] == b[l]);
      };
      if (same(ours.asks, ref.asks) && same(ours.bids, ref.bids)) {
        ++matches[l];
      } else if (l < options.levels - 1 && debug_left-- > 0) {  // POM_LOBSTER_DEBUG=N: print N mismatches
        auto dump = [](const BookRow& b) {
          std::string out = "asks";
          for (const Level& x : b.asks) absl::StrAppend(&out, " ", x.size, "@", x.price);
          absl::StrAppend(&out, " | bids");
          for (const Level& x : b.bids) absl::StrAppend(&out, " ", x.size, "@", x.price);
          return out;
        };
        std::fprintf(stderr, "row %llu level %d msg %s\n  ours %s\n  ref  %s\n", static_cast<unsigned long long>(row), l + 1,
                     mline.c_str(), dump(ours).c_str(), dump(ref).c_str());
      }
    }
    POM_RETURN_IF_ERROR(r.Reconcile(ref));
    r.MarkOutOfSight();
    ++result.messages;
  }
  result.events = r.timed_events();
  result.reconcile_events = r.untimed_events();
  // The second pass runs twice and the first run is thrown away: a long-running engine works
  // in memory it has touched before, and on this VM a page fault costs ~11 µs, which would
  // otherwise land in p99.9 whenever a map grows. (Replay keeps freed memory in the process,
  // see the mallopt calls at its start.)
  // POM_LOBSTER_PROFILE_PASSES=N: N more thrown-away runs, so that a profiler sees mostly the
  // engine (one run is ~60 ms).
  const int extra = std::getenv("POM_LOBSTER_PROFILE_PASSES") ? std::atoi(std::getenv("POM_LOBSTER_PROFILE_PASSES")) : 0;
  for (int i = 0; i <= extra; ++i) POM_RETURN_IF_ERROR(r.ReplayLog(Replayer::Timing::kPerMessage).status());
  POM_ASSIGN_OR_RETURN(std::vector<int64_t> engine_only, r.ReplayLog(Replayer::Timing::kPerMessage));
  // The whole-run time is one number per run and a timer interrupt or a slow moment of the VM
  // lands in it whole: the median of three runs.
  std::vector<int64_t> stretches;
  for (int i = 0; i < 3; ++i) {
    POM_ASSIGN_OR_RETURN(std::vector<int64_t> run, r.ReplayLog(Replayer::Timing::kStretches));
    stretches.push_back(run.at(0));
  }
  std::sort(stretches.begin(), stretches.end());
  stretches = {stretches[1]};
  const int64_t clock_read_ticks = bench::CycleClock::MedianReadTicks();
  const double ns_per_tick = calibration.NsPerTick();
  auto to_ns = [ns_per_tick](std::vector<int64_t> ticks, double* seconds) {
    int64_t total = 0;
    for (int64_t& t : ticks) {
      t = std::llround(static_cast<double>(t) * ns_per_tick);
      total += t;
    }
    *seconds = static_cast<double>(total) / 1e9;
    std::sort(ticks.begin(), ticks.end());
    return ticks;
  };
  result.latency_ns = to_ns(std::move(engine_only), &result.per_message_seconds);
  to_ns(std::move(stretches), &result.seconds);
  result.clock_read_ns = static_cast<double>(clock_read_ticks) * ns_per_tick;
  result.inline_latency_ns = to_ns(std::move(r.latencies()), &result.inline_seconds);
  for (int l = 0; l < options.levels; ++l) {
    result.book_match_ratio[l + 1] = result.messages == 0 ? 0 : static_cast<double>(matches[l]) / static_cast<double>(result.messages);
  }
  result.proof_bytes = r.proof_bytes();
  return result;
}

}  // namespace pom::lobster

// pom-matcher and pom-verifier as real processes on loopback, driven over gRPC by the client
// library pom-cli uses (docs/services.md): deposits authorized at the verifier and sequenced by
// the matcher, trades, cancels and withdrawals with the chain-side balances they imply; both
// daemons killed and restarted mid-stream; a matcher that corrupts one proof.
#include <signal.h>

#include <atomic>
#include <condition_variable>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "cli/client.h"
#include "common/money.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/generic/generic_stub.h"
#include "gtest/gtest.h"
#include "proto/codec.h"
#include "proto/rpc.h"
#include "tests/testing/process.h"

namespace pom {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::Process;

constexpr rules::MarketId kMarket{rules::Currency{1}, rules::Currency{2}};
constexpr rules::Currency kBase{1};
constexpr rules::Currency kQuote{2};

Amount Dec(const char* text) {
  absl::StatusOr<Amount> a = ParseAmount(text);
  EXPECT_TRUE(a.ok()) << text;
  return a.ok() ? *a : Amount();
}
Price Px(const char* text) {
  absl::StatusOr<Price> p = ParsePrice(text);
  EXPECT_TRUE(p.ok()) << text;
  return p.ok() ? *p : Price();
}
u128 Raw(const std::string& bytes) {
  absl::StatusOr<u128> v = codec::U128FromBytes(bytes, "amount");
  EXPECT_TRUE(v.ok());
  return v.ok() ? *v : 0;
}

KeyPair KeyOf(uint8_t n) {
  Bytes32 seed;
  seed[0] = n;
  seed[1] = 0x5e;
  return KeyPairFromSeed(seed);
}

class ServicesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/pom-services-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    matcher_port_ = testing::FreePort();
    verifier_port_ = testing::FreePort();
    while (verifier_port_ == matcher_port_) verifier_port_ = testing::FreePort();
    operator_ = KeyOf(200);
    codec::Genesis genesis;
    genesis.prover_id[0] = 0x42;
    genesis.operator_key = operator_.public_key;
    for (uint8_t u = 1; u <= kUsers; ++u) {
      users_.push_back(KeyOf(u));
      for (rules::Currency c : {kBase, kQuote}) {
        genesis.chain_balances.push_back({users_.back().public_key, c, Dec("1000000")});
      }
    }
    std::ofstream(dir_ + "/genesis.json") << codec::GenesisToJson(genesis);
    client_ = std::make_unique<client::Client>(matcher_address(), verifier_address(), milliseconds(10'000));
  }
  void TearDown() override {
    matcher_.reset();
    verifier_.reset();
    std::filesystem::remove_all(dir_);
  }

  std::string matcher_address() const { return absl::StrCat("127.0.0.1:", matcher_port_); }
  std::string verifier_address() const { return absl::StrCat("127.0.0.1:", verifier_port_); }

  void StartMatcher(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {testing::BinDir() + "/pom-matcher", "serve", "--data", dir_ + "/matcher",
                                     "--genesis", dir_ + "/genesis.json", "--listen", matcher_address(),
                                     "--verifier", verifier_address(), "--snapshot-interval", "500",
                                     "--ws-listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"};
    args.insert(args.end(), extra.begin(), extra.end());
    matcher_ = std::make_unique<Process>(args, absl::StrCat(dir_, "/matcher-", ++matcher_runs_, ".out"));
    ASSERT_TRUE(matcher_->WaitForOutput("listening port=", seconds(30))) << matcher_->errors();
  }
  void StartVerifier() {
    verifier_ = std::make_unique<Process>(
        std::vector<std::string>{testing::BinDir() + "/pom-verifier", "serve", "--data", dir_ + "/verifier",
                                 "--genesis", dir_ + "/genesis.json", "--listen", verifier_address(), "--matcher",
                                 matcher_address(), "--threads", "2", "--admin-listen", "127.0.0.1:0"},
        absl::StrCat(dir_, "/verifier-", ++verifier_runs_, ".out"));
    ASSERT_TRUE(verifier_->WaitForOutput("listening port=", seconds(30))) << verifier_->errors();
  }

  rules::Command Signed(const KeyPair& key, rules::CommandBody body) {
    rules::Command c;
    c.body = std::move(body);
    EXPECT_TRUE(client_->Sign(key, c).ok());
    return c;
  }
  v1::SubmitResponse Submit(const KeyPair& key, rules::CommandBody body) {
    absl::StatusOr<v1::SubmitResponse> r = client_->Submit(Signed(key, std::move(body)));
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : v1::SubmitResponse();
  }
  void Deposit(const KeyPair& key, rules::Currency currency, const char* amount) {
    const rules::Command c = Signed(key, rules::Deposit{currency, Dec(amount)});
    absl::StatusOr<v1::AuthorizeResponse> a = client_->Authorize(c);
    ASSERT_TRUE(a.ok()) << a.status();
    ASSERT_TRUE(client_->WaitSequenced(key.public_key, c.nonce, seconds(30)).ok());
  }
  void CreateMarket(uint32_t maker_ppm, uint32_t taker_ppm) {
    rules::MarketRecord params;
    params.status = rules::MarketStatus::kOpen;
    params.price_decimals = 2;
    params.amount_decimals = 3;
    params.maker_fee_ppm = maker_ppm;
    params.taker_fee_ppm = taker_ppm;
    params.max_makers = 50;
    const v1::SubmitResponse r = Submit(operator_, rules::CreateMarket{kMarket, params});
    ASSERT_EQ(r.outcome().reject(), 0u);
  }
  rules::PlaceOrder Limit(rules::Side side, const char* price, const char* amount) {
    rules::PlaceOrder o;
    o.market = kMarket;
    o.side = side;
    o.price = Px(price);
    o.amount = Dec(amount);
    return o;
  }
  // The matcher's and the verifier's heads, once the verifier caught up with the matcher.
  std::pair<v1::MatcherStatus, v1::Head> Settled() {
    absl::StatusOr<v1::MatcherStatus> m = client_->MatcherStatus();
    EXPECT_TRUE(m.ok()) << m.status();
    if (!m.ok()) return {};
    absl::StatusOr<v1::Head> head = client_->WaitVerified(m->sequence(), seconds(60));
    EXPECT_TRUE(head.ok()) << head.status();
    return {*m, head.ok() ? *head : v1::Head()};
  }

  static constexpr uint8_t kUsers = 9;
  std::string dir_;
  int matcher_port_ = 0;
  int verifier_port_ = 0;
  int matcher_runs_ = 0;
  int verifier_runs_ = 0;
  KeyPair operator_;
  std::vector<KeyPair> users_;
  std::unique_ptr<client::Client> client_;
  std::unique_ptr<Process> matcher_;
  std::unique_ptr<Process> verifier_;
};

TEST_F(ServicesTest, DepositsTradesCancelAndWithdrawalsEndWithTheChainBalancesTheTradesImply) {
  StartVerifier();
  StartMatcher();
  CreateMarket(/*maker_ppm=*/1000, /*taker_ppm=*/2000);
  const KeyPair& u1 = users_[0];
  const KeyPair& u2 = users_[1];
  const KeyPair& u3 = users_[2];
  const KeyPair& u4 = users_[3];
  Deposit(u1, kBase, "100");
  Deposit(u2, kQuote, "5000");
  Deposit(u3, kBase, "50");
  Deposit(u4, kQuote, "3000");
  // A deposit nobody authorized is refused by the matcher (deposits come from the verifier).
  absl::StatusOr<v1::SubmitResponse> direct = client_->Submit(Signed(u1, rules::Deposit{kBase, Dec("1")}));
  EXPECT_EQ(direct.status().code(), absl::StatusCode::kFailedPrecondition);
  // Authorizing more than the chain side holds is refused by the verifier.
  absl::StatusOr<v1::AuthorizeResponse> too_much = client_->Authorize(Signed(u1, rules::Deposit{kBase, Dec("2000000")}));
  EXPECT_EQ(too_much.status().code(), absl::StatusCode::kFailedPrecondition);

  const v1::SubmitResponse a = Submit(u1, Limit(rules::Side::kSell, "100", "10"));
  const v1::SubmitResponse b = Submit(u3, Limit(rules::Side::kSell, "101", "5"));
  const v1::SubmitResponse c = Submit(u3, Limit(rules::Side::kSell, "105", "5"));
  // The book with its proof: three ask levels, chained by their page records. A client that is
  // shown the book without its middle level, or with a changed amount, or cut short, notices.
  absl::StatusOr<v1::GetBookResponse> asks = client_->GetBook(kMarket, 10);
  ASSERT_TRUE(asks.ok()) << asks.status();
  ASSERT_EQ(asks->asks_size(), 3);
  EXPECT_EQ(FormatDecimal(Raw(asks->asks(1).price())), "101");
  ASSERT_TRUE(client_->GetBook(kMarket, 2).ok());
  {
    v1::GetBookResponse hidden = *asks;  // level 101 left out (its leaves too)
    hidden.mutable_asks()->DeleteSubrange(1, 1);
    hidden.mutable_proof()->mutable_leaves()->DeleteSubrange(5, 2);
    EXPECT_TRUE(absl::IsDataLoss(client::CheckBookAgainstProof(hidden, 10)));
    v1::GetBookResponse changed = *asks;
    changed.mutable_asks(0)->set_amount(codec::U128Bytes(Dec("9").raw()));
    EXPECT_TRUE(absl::IsDataLoss(client::CheckBookAgainstProof(changed, 10)));
    v1::GetBookResponse cut = *asks;  // the last level dropped, as if there were no more
    cut.mutable_asks()->RemoveLast();
    cut.mutable_proof()->mutable_leaves()->DeleteSubrange(7, 2);
    EXPECT_TRUE(absl::IsDataLoss(client::CheckBookAgainstProof(cut, 10)));
    EXPECT_TRUE(client::CheckBookAgainstProof(*asks, 10).ok());
  }
  // u2 takes all of a at 100 and 2 of b at 101; u4 takes the other 3 of b.
  const v1::SubmitResponse t1 = Submit(u2, Limit(rules::Side::kBuy, "101", "12"));
  ASSERT_EQ(t1.outcome().fills_size(), 2);
  EXPECT_EQ(t1.outcome().fills(0).maker_order(), a.outcome().order_id());
  EXPECT_EQ(t1.outcome().fills(1).maker_order(), b.outcome().order_id());
  const v1::SubmitResponse t2 = Submit(u4, Limit(rules::Side::kBuy, "101", "3"));
  ASSERT_EQ(t2.outcome().fills_size(), 1);
  const v1::SubmitResponse cancel = Submit(u3, rules::CancelOrder{kMarket, rules::OrderId{c.outcome().order_id()}});
  EXPECT_EQ(cancel.outcome().reject(), 0u);
  // Someone else's cancel is a business reject.
  const v1::SubmitResponse not_owner = Submit(u1, rules::CancelOrder{kMarket, rules::OrderId{c.outcome().order_id()}});
  EXPECT_NE(not_owner.outcome().reject(), 0u);
  // Book: empty after all that.
  absl::StatusOr<v1::GetBookResponse> book = client_->GetBook(kMarket, 10);
  ASSERT_TRUE(book.ok()) << book.status();
  EXPECT_EQ(book->asks_size() + book->bids_size(), 0);

  // Everyone (the operator too: it holds the fees) withdraws everything available.
  std::vector<const KeyPair*> everyone = {&u1, &u2, &u3, &u4, &operator_};
  for (const KeyPair* k : everyone) {
    absl::StatusOr<v1::GetAccountResponse> acct = client_->GetAccount(k->public_key, {1, 2});
    ASSERT_TRUE(acct.ok()) << acct.status();
    for (const v1::AccountBalance& bal : acct->balances()) {
      EXPECT_EQ(Raw(bal.frozen()), 0u);
      if (Raw(bal.available()) == 0) continue;
      const v1::SubmitResponse w =
          Submit(*k, rules::Withdraw{rules::Currency{bal.currency()}, Amount::FromRaw(Raw(bal.available()))});
      EXPECT_EQ(w.outcome().reject(), 0u);
    }
  }
  const auto [matcher, head] = Settled();
  EXPECT_EQ(head.sequence(), matcher.sequence());
  EXPECT_EQ(head.root(), matcher.root());

  // Chain side = genesis - deposits + withdrawals, by hand: maker fee 0.1% and taker fee 0.2% of
  // what each receives.
  const std::map<std::pair<const KeyPair*, uint32_t>, const char*> expected = {
      {{&u1, 1}, "999990"},         {{&u1, 2}, "1000999"},          // sold 10 @ 100, fee 1
      {{&u2, 1}, "1000011.976"},    {{&u2, 2}, "998798"},           // bought 12 for 1202, fee 0.024
      {{&u3, 1}, "999995"},         {{&u3, 2}, "1000504.495"},      // sold 5 @ 101, fee 0.505
      {{&u4, 1}, "1000002.994"},    {{&u4, 2}, "999697"},           // bought 3 for 303, fee 0.006
      {{&operator_, 1}, "0.03"},    {{&operator_, 2}, "1.505"},     // the fees
  };
  for (const auto& [key, amount] : expected) {
    absl::StatusOr<v1::GetBalanceResponse> chain = client_->ChainBalance(key.first->public_key, rules::Currency{key.second});
    ASSERT_TRUE(chain.ok()) << chain.status();
    EXPECT_EQ(FormatDecimal(Raw(chain->chain())), amount) << "currency " << key.second;
    EXPECT_EQ(Raw(chain->reserved()), 0u);
    EXPECT_EQ(Raw(chain->custody()), 0u) << "everything was withdrawn";
  }
  absl::StatusOr<v1::VerifierStatus> status = client_->VerifierStatus();
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->state(), "following");
  EXPECT_EQ(status->authorizations_outstanding(), 0u);

  // Both stop cleanly and promptly on SIGTERM (an idle client connection does not hold them).
  const auto stopping = std::chrono::steady_clock::now();
  matcher_->Signal(SIGTERM);
  verifier_->Signal(SIGTERM);
  EXPECT_EQ(matcher_->Wait(), 0) << matcher_->errors();
  EXPECT_EQ(verifier_->Wait(), 0) << verifier_->errors();
  EXPECT_LT(std::chrono::steady_clock::now() - stopping, seconds(3));
}

// Signed random orders from several threads (each owns some users, so a user's nonces go in
// order), each retried with the identical command until the matcher answers: a command that was
// sequenced before a crash comes back as a duplicate with its original sequence.
struct Stream {
  std::mutex mu;
  std::map<uint64_t, std::string> sequenced;  // sequence -> signer:nonce
  std::set<std::string> commands;             // signer:nonce of every answered command
  std::atomic<uint64_t> answered{0};
  std::atomic<uint64_t> retries{0};
  std::atomic<uint64_t> duplicates{0};
  std::atomic<bool> failed{false};
  std::string failure;
};

void SubmitStream(client::Client& client, const std::vector<KeyPair>& users, size_t first, size_t step,
                  uint64_t count, uint64_t seed, Stream& stream) {
  std::mt19937_64 rng(seed);
  for (uint64_t i = 0; i < count && !stream.failed; ++i) {
    const KeyPair& key = users[first + step * (rng() % ((users.size() - first + step - 1) / step))];
    rules::PlaceOrder o;
    o.market = kMarket;
    o.side = rng() % 2 ? rules::Side::kBuy : rules::Side::kSell;
    o.price = Price::FromRaw(static_cast<u128>(95 + rng() % 11) * 1'000'000'000'000'000'000ull);
    o.amount = Amount::FromRaw(static_cast<u128>(1 + rng() % 5) * 1'000'000'000'000'000'000ull);
    o.time_in_force = rng() % 5 == 0 ? rules::TimeInForce::kIoc : rules::TimeInForce::kGtc;
    rules::Command c;
    c.body = o;
    if (!client.Sign(key, c).ok()) continue;  // the matcher is down: prover id not known yet
    const std::string id = absl::StrCat(ToHex(key.public_key.bytes), ":", c.nonce);
    const auto give_up = std::chrono::steady_clock::now() + seconds(120);
    while (true) {
      absl::StatusOr<v1::SubmitResponse> r = client.Submit(c);
      if (r.ok()) {
        std::lock_guard<std::mutex> lock(stream.mu);
        auto [it, fresh] = stream.sequenced.emplace(r->sequence(), id);
        if (!fresh && it->second != id) {
          stream.failed = true;
          stream.failure = absl::StrCat("sequence ", r->sequence(), " given to two commands");
        }
        if (!stream.commands.insert(id).second) {
          stream.failed = true;
          stream.failure = absl::StrCat("command ", id, " answered twice");
        }
        if (r->duplicate()) ++stream.duplicates;
        ++stream.answered;
        break;
      }
      if (std::chrono::steady_clock::now() > give_up) {
        std::lock_guard<std::mutex> lock(stream.mu);
        stream.failed = true;
        stream.failure = r.status().ToString();
        return;
      }
      ++stream.retries;
      std::this_thread::sleep_for(milliseconds(50));
    }
  }
}

TEST_F(ServicesTest, KillingTheVerifierThenTheMatcherMidStreamResumesWithNoGapNoDuplicateAndOneRoot) {
  StartVerifier();
  StartMatcher();
  CreateMarket(500, 1000);
  // Users 0-7 trade; user 8 only deposits, around the matcher's crash.
  const std::vector<KeyPair> traders(users_.begin(), users_.begin() + 8);
  const KeyPair& depositor = users_[8];
  for (const KeyPair& u : traders) {
    Deposit(u, kBase, "100000");
    Deposit(u, kQuote, "100000");
  }
  Stream stream;
  constexpr int kThreads = 4;
  constexpr uint64_t kPerThread = 700;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      client::Client own(matcher_address(), verifier_address(), milliseconds(3000));
      SubmitStream(own, traders, static_cast<size_t>(t), kThreads, kPerThread, 1000 + t, stream);
    });
  }
  auto wait_answered = [&](uint64_t n) {
    const auto end = std::chrono::steady_clock::now() + seconds(120);
    while (stream.answered < n && !stream.failed && std::chrono::steady_clock::now() < end) {
      std::this_thread::sleep_for(milliseconds(10));
    }
  };
  // The verifier dies mid-stream (while it follows) and comes back.
  wait_answered(600);
  ASSERT_TRUE(client_->WaitVerified(1 + 2 * traders.size() + 100, seconds(60)).ok());
  absl::StatusOr<v1::Head> before_kill = client_->VerifierHead();
  ASSERT_TRUE(before_kill.ok()) << before_kill.status();
  const uint64_t verifier_was_at = before_kill->sequence();
  verifier_->Signal(SIGKILL);
  verifier_->Wait();
  std::this_thread::sleep_for(milliseconds(300));
  StartVerifier();
  EXPECT_GT(verifier_was_at, 0u) << verifier_->errors();
  // Then the matcher, with deposits authorized just before it dies and while it is down: each
  // must be sequenced exactly once (the restarted matcher re-reads outstanding authorizations).
  wait_answered(1600);
  std::vector<uint64_t> deposit_nonces;
  for (const char* amount : {"1", "2"}) {
    const rules::Command d = Signed(depositor, rules::Deposit{kBase, Dec(amount)});
    ASSERT_TRUE(client_->Authorize(d).ok());
    deposit_nonces.push_back(d.nonce);
  }
  matcher_->Signal(SIGKILL);
  matcher_->Wait();
  const rules::Command while_down = Signed(depositor, rules::Deposit{kBase, Dec("4")});
  ASSERT_TRUE(client_->Authorize(while_down).ok());
  deposit_nonces.push_back(while_down.nonce);
  std::this_thread::sleep_for(milliseconds(300));
  StartMatcher();
  for (std::thread& t : threads) t.join();
  ASSERT_FALSE(stream.failed) << stream.failure;
  EXPECT_EQ(stream.answered, kThreads * kPerThread);
  EXPECT_GT(stream.retries, 0u) << "the matcher's death must have been seen by the submitters";
  ASSERT_TRUE(client_->WaitSequenced(depositor.public_key, deposit_nonces.back(), seconds(60)).ok());

  const auto [matcher, head] = Settled();
  // Every answered command has its own sequence, and the sequences have no gap: after the
  // market and the traders' deposits come the stream and the depositor's three deposits.
  const uint64_t first = 1 + 2 * traders.size() + 1;
  EXPECT_EQ(matcher.sequence(), first - 1 + stream.answered + deposit_nonces.size());
  ASSERT_EQ(stream.sequenced.size(), stream.answered.load());
  EXPECT_GE(stream.sequenced.begin()->first, first);
  EXPECT_LE(stream.sequenced.rbegin()->first, matcher.sequence());
  EXPECT_EQ(head.sequence(), matcher.sequence());
  EXPECT_EQ(head.root(), matcher.root());
  // The depositor's three deposits, each once: 1 + 2 + 4, and nothing left reserved.
  absl::StatusOr<v1::GetAccountResponse> deposited = client_->GetAccount(depositor.public_key, {1});
  ASSERT_TRUE(deposited.ok()) << deposited.status();
  EXPECT_EQ(FormatDecimal(Raw(deposited->balances(0).available())), "7");
  EXPECT_EQ(deposited->nonce(), deposit_nonces.back());
  absl::StatusOr<v1::GetBalanceResponse> chain = client_->ChainBalance(depositor.public_key, kBase);
  ASSERT_TRUE(chain.ok());
  EXPECT_EQ(FormatDecimal(Raw(chain->chain())), "999993");
  EXPECT_EQ(Raw(chain->reserved()), 0u);
  const std::string verifier_log = verifier_->output();
  EXPECT_NE(verifier_log.find("resumed_from="), std::string::npos);
  EXPECT_EQ(verifier_log.find("resumed_from=0\n"), std::string::npos) << "the restarted verifier resumes its head";

  // The whole stored history checks offline from the genesis to the same root.
  matcher_->Signal(SIGTERM);
  ASSERT_EQ(matcher_->Wait(), 0);
  Process exported({testing::BinDir() + "/pom-matcher", "proofs", "--data", dir_ + "/matcher", "--from", "1", "--out",
                    dir_ + "/all.proofs"},
                   dir_ + "/export.out");
  ASSERT_EQ(exported.Wait(), 0) << exported.errors();
  Process check({testing::BinDir() + "/pom-verifier", "check", "--proofs", dir_ + "/all.proofs", "--genesis",
                 dir_ + "/genesis.json"},
                dir_ + "/check.out");
  ASSERT_EQ(check.Wait(), 0) << check.output() << check.errors();
  EXPECT_NE(check.output().find("root=" + ToHex(std::span<const uint8_t>(
                                               reinterpret_cast<const uint8_t*>(head.root().data()), 32))),
            std::string::npos);
}

TEST_F(ServicesTest, ACorruptedProofStopsTheVerifierAtItsSequenceWithTheLastGoodRoot) {
  StartVerifier();
  StartMatcher({"--test-corrupt-proof-at", "8"});
  CreateMarket(0, 0);
  Deposit(users_[0], kBase, "10");
  Deposit(users_[1], kQuote, "1000");
  std::map<uint64_t, std::string> roots;
  for (int i = 0; i < 6; ++i) {
    const v1::SubmitResponse r = Submit(users_[i % 2], Limit(i % 2 ? rules::Side::kBuy : rules::Side::kSell, "10", "1"));
    roots[r.sequence()] = r.root();
  }
  ASSERT_TRUE(roots.contains(7) && roots.contains(9));
  const auto end = std::chrono::steady_clock::now() + seconds(30);
  absl::StatusOr<v1::VerifierStatus> status;
  while (std::chrono::steady_clock::now() < end) {
    status = client_->VerifierStatus();
    if (status.ok() && status->state() == "stopped") break;
    std::this_thread::sleep_for(milliseconds(20));
  }
  ASSERT_TRUE(status.ok()) << status.status();
  EXPECT_EQ(status->state(), "stopped");
  EXPECT_EQ(status->faulty_sequence(), 8u);
  EXPECT_EQ(status->reject_name(), "wrong_new_root");
  EXPECT_EQ(status->sequence(), 7u);
  EXPECT_EQ(status->root(), roots[7]);
  // It stays there (the matcher went on to 9) and its head says so.
  std::this_thread::sleep_for(milliseconds(300));
  absl::StatusOr<v1::Head> head = client_->VerifierHead();
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->sequence(), 7u);
  EXPECT_EQ(head->root(), roots[7]);
  // A restarted verifier stops at the same proof again, from its persisted head.
  verifier_->Signal(SIGTERM);
  ASSERT_EQ(verifier_->Wait(), 0);
  StartVerifier();
  EXPECT_TRUE(verifier_->WaitForOutput("resumed_from=7", seconds(10)));
}

// grpc.reflection.v1alpha by hand (its .proto is not installed; gRPC's own copy is linked in):
// one ServerReflectionRequest {list_services: ""} over a generic bidi call, the raw answer back.
class ReflectionCall final : public grpc::ClientBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer> {
 public:
  explicit ReflectionCall(const std::shared_ptr<grpc::Channel>& channel) {
    rpc::SetDeadline(context_, seconds(10));
    grpc::GenericStub stub(channel);
    stub.PrepareBidiStreamingCall(&context_, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
                                  grpc::StubOptions(), this);
    const char list_services[] = {0x3a, 0x00};  // field 7 (list_services), length 0
    grpc::Slice slice(list_services, sizeof(list_services));
    request_ = grpc::ByteBuffer(&slice, 1);
    StartWrite(&request_);
    StartRead(&response_);
    StartCall();
  }
  void OnWriteDone(bool) override { StartWritesDone(); }
  void OnReadDone(bool ok) override {
    if (!ok) return;
    std::vector<grpc::Slice> slices;
    if (response_.Dump(&slices).ok()) {
      for (const grpc::Slice& sl : slices) answer_.append(reinterpret_cast<const char*>(sl.begin()), sl.size());
    }
  }
  void OnDone(const grpc::Status& status) override {
    std::lock_guard<std::mutex> lock(mu_);
    status_ = status;
    done_ = true;
    cv_.notify_all();
  }
  // The raw response bytes (service names are in them as plain strings).
  std::string Await() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [this] { return done_; });
    EXPECT_TRUE(status_.ok()) << status_.error_message();
    return answer_;
  }

 private:
  grpc::ClientContext context_;
  grpc::ByteBuffer request_;
  grpc::ByteBuffer response_;
  std::string answer_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  grpc::Status status_;
};

TEST_F(ServicesTest, BothServeHealthAndReflection) {
  StartVerifier();
  StartMatcher();
  for (const auto& [address, service] : {std::pair(matcher_address(), std::string("pom.v1.Matcher")),
                                         std::pair(verifier_address(), std::string("pom.v1.Verifier"))}) {
    auto channel = rpc::MakeChannel(address);
    auto health = grpc::health::v1::Health::NewStub(channel);
    for (const std::string& name : {std::string(), service}) {
      grpc::ClientContext context;
      rpc::SetDeadline(context, seconds(5));
      grpc::health::v1::HealthCheckRequest request;
      request.set_service(name);
      grpc::health::v1::HealthCheckResponse response;
      ASSERT_TRUE(health->Check(&context, request, &response).ok()) << address << " " << name;
      EXPECT_EQ(response.status(), grpc::health::v1::HealthCheckResponse::SERVING);
    }
    grpc::ClientContext context;
    rpc::SetDeadline(context, seconds(5));
    grpc::health::v1::HealthCheckRequest unknown;
    unknown.set_service("no.such.Service");
    grpc::health::v1::HealthCheckResponse response;
    EXPECT_EQ(health->Check(&context, unknown, &response).error_code(), grpc::StatusCode::NOT_FOUND);

    ReflectionCall reflection(channel);
    const std::string listed = reflection.Await();
    EXPECT_NE(listed.find(service), std::string::npos) << address;
    EXPECT_NE(listed.find("grpc.health.v1.Health"), std::string::npos) << address;
  }
}

TEST_F(ServicesTest, PrunedProofsAreOutOfRangeAndASlowSubscriberGetsEveryProofInOrder) {
  StartVerifier();
  // Snapshots every 500 events keep the newest 100 proofs.
  StartMatcher({"--proof-retention", "100"});
  CreateMarket(0, 0);
  Deposit(users_[0], kBase, "100000");
  Deposit(users_[1], kQuote, "100000");

  // A subscriber that reads one proof and then stalls while many events are made.
  grpc::ClientContext slow_context;
  v1::SubscribeProofsRequest from_start;
  from_start.set_from_sequence(1);
  from_start.set_max_batch(1);
  std::unique_ptr<grpc::ClientReader<v1::ProofBatch>> slow = client_->matcher().SubscribeProofs(&slow_context, from_start);
  v1::ProofBatch batch;
  ASSERT_TRUE(slow->Read(&batch));
  ASSERT_EQ(batch.proofs_size(), 1);
  EXPECT_EQ(batch.proofs(0).sequence(), 1u);
  uint64_t last = 0;
  for (int i = 0; i < 560; ++i) {
    last = Submit(users_[i % 2], Limit(i % 2 ? rules::Side::kBuy : rules::Side::kSell, "10", "1")).sequence();
  }
  // The other subscriber (the verifier) was not held back by the stalled one.
  const auto [matcher, head] = Settled();
  EXPECT_EQ(head.sequence(), last);
  // The stalled subscriber still gets every proof, consecutively. (Its stream started before
  // the pruning, and proofs it had not read yet were pruned when the snapshot at 500 ran, so
  // the stream ends with OUT_OF_RANGE at the first pruned sequence.)
  uint64_t expected = 2;
  while (expected <= last && slow->Read(&batch)) {
    for (const v1::Proof& p : batch.proofs()) {
      ASSERT_EQ(p.sequence(), expected);
      ++expected;
    }
  }
  const grpc::Status slow_status = expected > last ? grpc::Status::OK : slow->Finish();
  if (expected <= last) {
    EXPECT_EQ(slow_status.error_code(), grpc::StatusCode::OUT_OF_RANGE) << slow_status.error_message();
  } else {
    slow_context.TryCancel();
    slow->Finish();
  }

  // After the snapshot at 500 only the newest 100 proofs are kept: asking for sequence 1 now is
  // OUT_OF_RANGE at once; asking for a kept one works.
  ASSERT_GT(last, 500u);
  grpc::ClientContext old_context;
  rpc::SetDeadline(old_context, seconds(10));
  std::unique_ptr<grpc::ClientReader<v1::ProofBatch>> old = client_->matcher().SubscribeProofs(&old_context, from_start);
  EXPECT_FALSE(old->Read(&batch));
  EXPECT_EQ(old->Finish().error_code(), grpc::StatusCode::OUT_OF_RANGE);
  grpc::ClientContext recent_context;
  rpc::SetDeadline(recent_context, seconds(10));
  v1::SubscribeProofsRequest recent;
  recent.set_from_sequence(last - 5);
  std::unique_ptr<grpc::ClientReader<v1::ProofBatch>> fresh = client_->matcher().SubscribeProofs(&recent_context, recent);
  ASSERT_TRUE(fresh->Read(&batch));
  EXPECT_EQ(batch.proofs(0).sequence(), last - 5);
  recent_context.TryCancel();
  fresh->Finish();
}

}  // namespace
}  // namespace pom

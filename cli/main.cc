// pom-cli: keys, deposits, orders, withdrawals and queries against pom-matcher and pom-verifier
// (docs/services.md). Output is key=value lines; exit 0 on success, 1 on an error (printed on
// stderr with its gRPC code), 2 on a usage error.
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "cli/client.h"
#include "cli/ws_client.h"
#include "common/flags.h"
#include "common/money.h"
#include "common/status_macros.h"
#include "common/rules/types.h"
#include "proto/codec.h"

namespace {

using pom::client::Client;
namespace rules = pom::rules;

constexpr char kUsage[] =
    "usage: pom-cli COMMAND [flags]   (common: --matcher HOST:PORT (127.0.0.1:50051),\n"
    "                                  --verifier HOST:PORT (127.0.0.1:50052), --timeout-ms N)\n"
    "  keygen --out FILE                              new key; prints account=<hex>\n"
    "  dev-genesis --dir DIR [--users N] [--currencies 1,2] [--amount D]\n"
    "        a development genesis: DIR/genesis.json, DIR/operator.key, DIR/user1.key ... (funded)\n"
    "  account --key FILE                             prints the key's account\n"
    "  deposit --key FILE --currency N --amount D [--wait]   authorize a deposit at the verifier\n"
    "  place --key FILE --market B/Q --side buy|sell --amount D [--price P] [--type limit|market]\n"
    "        [--tif gtc|ioc|fok|post-only] [--stp cancel-taker|cancel-maker|cancel-both]\n"
    "        [--client-order-id N]\n"
    "  cancel --key FILE --market B/Q --order N\n"
    "  amend --key FILE --market B/Q --order N --amount D   (new unfilled amount)\n"
    "  withdraw --key FILE --currency N --amount D\n"
    "  balances (--key FILE | --account HEX) [--currencies 1,2]\n"
    "  book --market B/Q [--depth N]\n"
    "  head                                           the verifier's head next to the matcher's\n"
    "  watch-book --market B/Q [--count N]            (WebSocket) the book, every checksum checked\n"
    "  watch-trades --market B/Q [--count N]          (WebSocket) trades\n"
    "  executions --key FILE [--count N]              (WebSocket) the account's executions\n"
    "  account-proof --key FILE                       (WebSocket) the account proof, checked against\n"
    "                                                 the verifier's root at the same sequence\n"
    "  (WebSocket commands take --ws ws://HOST:PORT, default ws://127.0.0.1:8080)\n"
    "  status                                         both daemons' status\n"
    "  market-create --key OPERATOR_KEY --market B/Q --price-decimals N --amount-decimals N\n"
    "        [--min-amount D] [--maker-fee-ppm N] [--taker-fee-ppm N] [--max-makers N] [--status open|halted]\n"
    "  market-status --key OPERATOR_KEY --market B/Q --status open|halted|closed\n"
    "  (signed commands take --nonce N; default: microseconds since the epoch)\n";

int Usage(const std::string& problem = "") {
  if (!problem.empty()) std::fprintf(stderr, "pom-cli: %s\n", problem.c_str());
  std::fputs(kUsage, stderr);
  return 2;
}

int Fail(const absl::Status& s) {
  std::fprintf(stderr, "pom-cli: %s\n", s.ToString().c_str());
  return 1;
}

absl::StatusOr<rules::MarketId> ParseMarket(const std::string& text) {
  std::vector<std::string> parts = absl::StrSplit(text, '/');
  uint32_t base = 0, quote = 0;
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &base) || !absl::SimpleAtoi(parts[1], &quote)) {
    return absl::InvalidArgumentError(absl::StrCat("--market must be BASE/QUOTE currency ids, e.g. 1/2, not '", text, "'"));
  }
  return rules::MarketId{rules::Currency{base}, rules::Currency{quote}};
}

template <typename T>
absl::StatusOr<T> Choice(const std::string& flag, const std::string& value,
                         std::initializer_list<std::pair<const char*, T>> options) {
  std::string names;
  for (const auto& [name, v] : options) {
    if (value == name) return v;
    absl::StrAppend(&names, names.empty() ? "" : "|", name);
  }
  return absl::InvalidArgumentError(absl::StrCat("--", flag, " must be ", names, ", not '", value, "'"));
}

std::string Dec(const std::string& bytes) {
  absl::StatusOr<pom::u128> v = pom::codec::U128FromBytes(bytes, "amount");
  return v.ok() ? pom::FormatDecimal(*v) : "?";
}

void PrintOutcome(const pom::v1::SubmitResponse& r) {
  const pom::v1::Outcome& o = r.outcome();
  std::printf("sequence=%llu\n", static_cast<unsigned long long>(r.sequence()));
  if (r.duplicate()) std::printf("duplicate=true\n");
  std::printf("result=%s\n",
              o.reject() == 0 ? "accepted"
                              : std::string(rules::RejectCodeName(static_cast<rules::RejectCode>(o.reject()))).c_str());
  if (o.order_id() != 0) std::printf("order_id=%llu\n", static_cast<unsigned long long>(o.order_id()));
  for (const pom::v1::Fill& f : o.fills()) {
    std::printf("fill maker_order=%llu price=%s amount=%s\n", static_cast<unsigned long long>(f.maker_order()),
                Dec(f.price()).c_str(), Dec(f.amount()).c_str());
  }
  if (o.order_id() != 0 && !o.resting().empty()) std::printf("resting=%s\n", Dec(o.resting()).c_str());
  for (uint64_t c : o.cancelled()) std::printf("cancelled=%llu\n", static_cast<unsigned long long>(c));
  std::printf("root=%s\n", pom::ToHex(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(r.root().data()),
                                                                 r.root().size()))
                               .c_str());
}

std::string HexOf(const std::string& bytes) {
  return pom::ToHex(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()));
}

class Cli {
 public:
  Cli(const pom::Flags& flags, Client& client) : flags_(flags), client_(client) {}

  absl::StatusOr<pom::KeyPair> Key() {
    auto path = flags_.Get("key");
    if (!path.ok()) return path.status();
    return pom::client::ReadKeyFile(*path);
  }

  // Signs and submits `body` with --key; prints the outcome.
  absl::Status SubmitSigned(rules::CommandBody body) {
    POM_ASSIGN_OR_RETURN(pom::KeyPair key, Key());
    rules::Command command;
    command.body = std::move(body);
    POM_ASSIGN_OR_RETURN(command.nonce, flags_.GetU64Or("nonce", 0));
    if (absl::Status s = client_.Sign(key, command); !s.ok()) return s;
    POM_ASSIGN_OR_RETURN(pom::v1::SubmitResponse response, client_.Submit(command));
    std::printf("nonce=%llu\n", static_cast<unsigned long long>(command.nonce));
    PrintOutcome(response);
    return absl::OkStatus();
  }

  absl::StatusOr<pom::Amount> AmountFlag(const std::string& name) {
    POM_ASSIGN_OR_RETURN(std::string text, flags_.Get(name));
    return pom::ParseAmount(text);
  }

  absl::StatusOr<uint32_t> U32Flag(const std::string& name) {
    POM_ASSIGN_OR_RETURN(uint64_t v, flags_.GetU64(name));
    if (v > UINT32_MAX) return absl::InvalidArgumentError(absl::StrCat("--", name, " is too large"));
    return static_cast<uint32_t>(v);
  }

  absl::Status Run(const std::string& command) {
    if (command == "keygen") return Keygen();
    if (command == "dev-genesis") return DevGenesis();
    if (command == "account") {
      POM_ASSIGN_OR_RETURN(pom::KeyPair key, Key());
      std::printf("account=%s\n", pom::ToHex(key.public_key.bytes).c_str());
      return absl::OkStatus();
    }
    if (command == "deposit") return Deposit();
    if (command == "place") return Place();
    if (command == "cancel" || command == "amend") {
      POM_ASSIGN_OR_RETURN(std::string market_text, flags_.Get("market"));
      POM_ASSIGN_OR_RETURN(rules::MarketId market, ParseMarket(market_text));
      POM_ASSIGN_OR_RETURN(uint64_t order, flags_.GetU64("order"));
      if (command == "cancel") return SubmitSigned(rules::CancelOrder{market, rules::OrderId{order}});
      POM_ASSIGN_OR_RETURN(pom::Amount amount, AmountFlag("amount"));
      return SubmitSigned(rules::AmendOrder{market, rules::OrderId{order}, amount});
    }
    if (command == "withdraw") {
      POM_ASSIGN_OR_RETURN(uint32_t currency, U32Flag("currency"));
      POM_ASSIGN_OR_RETURN(pom::Amount amount, AmountFlag("amount"));
      return SubmitSigned(rules::Withdraw{rules::Currency{currency}, amount});
    }
    if (command == "balances") return Balances();
    if (command == "book") return Book();
    if (command == "head") return Head();
    if (command == "status") {
      POM_ASSIGN_OR_RETURN(pom::v1::MatcherStatus m, client_.MatcherStatus());
      POM_ASSIGN_OR_RETURN(pom::v1::VerifierStatus v, client_.VerifierStatus());
      std::printf("matcher {\n%s}\nverifier {\n%s}\n", m.DebugString().c_str(), v.DebugString().c_str());
      return absl::OkStatus();
    }
    if (command == "market-create") return MarketCreate();
    if (command == "watch-book" || command == "watch-trades" || command == "executions") return Watch(command);
    if (command == "account-proof") return AccountProof();
    if (command == "market-status") {
      POM_ASSIGN_OR_RETURN(std::string market_text, flags_.Get("market"));
      POM_ASSIGN_OR_RETURN(rules::MarketId market, ParseMarket(market_text));
      POM_ASSIGN_OR_RETURN(rules::MarketStatus status,
                     Choice<rules::MarketStatus>("status", flags_.GetOr("status", ""),
                                                 {{"open", rules::MarketStatus::kOpen},
                                                  {"halted", rules::MarketStatus::kHalted},
                                                  {"closed", rules::MarketStatus::kClosed}}));
      return SubmitSigned(rules::SetMarketStatus{market, status});
    }
    return absl::InvalidArgumentError(absl::StrCat("unknown command '", command, "'"));
  }

 private:

  absl::Status Keygen() {
    POM_ASSIGN_OR_RETURN(std::string out, flags_.Get("out"));
    pom::Bytes32 seed;
    const pom::KeyPair random = pom::GenerateKeyPair();
    std::copy(random.secret_key.bytes.begin(), random.secret_key.bytes.begin() + 32, seed.data());
    if (absl::Status s = pom::client::WriteKeyFile(out, seed); !s.ok()) return s;
    const pom::KeyPair key = pom::KeyPairFromSeed(seed);
    std::printf("account=%s\nkey_file=%s\n", pom::ToHex(key.public_key.bytes).c_str(), out.c_str());
    return absl::OkStatus();
  }

  // Writes a fresh development genesis: a random prover id, an operator key and N users with
  // chain-side funds in each currency.
  absl::Status DevGenesis() {
    POM_ASSIGN_OR_RETURN(std::string dir, flags_.Get("dir"));
    POM_ASSIGN_OR_RETURN(uint64_t users, flags_.GetU64Or("users", 3));
    POM_ASSIGN_OR_RETURN(pom::Amount amount, pom::ParseAmount(flags_.GetOr("amount", "1000000")));
    std::vector<uint32_t> currencies;
    for (absl::string_view part : absl::StrSplit(flags_.GetOr("currencies", "1,2"), ',', absl::SkipEmpty())) {
      uint32_t c = 0;
      if (!absl::SimpleAtoi(part, &c)) return absl::InvalidArgumentError("--currencies must be ids like 1,2");
      currencies.push_back(c);
    }
    if (users > 1000) return absl::InvalidArgumentError("--users is at most 1000");
    pom::codec::Genesis genesis;
    const pom::KeyPair prover = pom::GenerateKeyPair();
    std::copy(prover.public_key.bytes.begin(), prover.public_key.bytes.end(), genesis.prover_id.data());
    auto new_key = [&](const std::string& name) -> absl::StatusOr<pom::PublicKey> {
      pom::Bytes32 seed;
      const pom::KeyPair random = pom::GenerateKeyPair();
      std::copy(random.secret_key.bytes.begin(), random.secret_key.bytes.begin() + 32, seed.data());
      POM_RETURN_IF_ERROR(pom::client::WriteKeyFile(dir + "/" + name, seed));
      return pom::KeyPairFromSeed(seed).public_key;
    };
    POM_ASSIGN_OR_RETURN(genesis.operator_key, new_key("operator.key"));
    for (uint64_t u = 1; u <= users; ++u) {
      POM_ASSIGN_OR_RETURN(pom::PublicKey user, new_key(absl::StrCat("user", u, ".key")));
      for (uint32_t c : currencies) genesis.chain_balances.push_back({user, rules::Currency{c}, amount});
      std::printf("user%llu=%s\n", static_cast<unsigned long long>(u), pom::ToHex(user.bytes).c_str());
    }
    const std::string path = dir + "/genesis.json";
    FILE* f = std::fopen(path.c_str(), "wx");
    if (f == nullptr) return absl::FailedPreconditionError(absl::StrCat("cannot create ", path, " (does it exist?)"));
    const std::string json = pom::codec::GenesisToJson(genesis);
    const bool ok = std::fwrite(json.data(), 1, json.size(), f) == json.size();
    if (std::fclose(f) != 0 || !ok) return absl::InternalError(absl::StrCat("cannot write ", path));
    std::printf("genesis=%s\noperator=%s\nprover_id=%s\n", path.c_str(), pom::ToHex(genesis.operator_key.bytes).c_str(),
                pom::ToHex(genesis.prover_id).c_str());
    return absl::OkStatus();
  }

  absl::Status Deposit() {
    POM_ASSIGN_OR_RETURN(pom::KeyPair key, Key());
    POM_ASSIGN_OR_RETURN(uint32_t currency, U32Flag("currency"));
    POM_ASSIGN_OR_RETURN(pom::Amount amount, AmountFlag("amount"));
    rules::Command command;
    command.body = rules::Deposit{rules::Currency{currency}, amount};
    POM_ASSIGN_OR_RETURN(command.nonce, flags_.GetU64Or("nonce", 0));
    if (absl::Status s = client_.Sign(key, command); !s.ok()) return s;
    POM_ASSIGN_OR_RETURN(pom::v1::AuthorizeResponse r, client_.Authorize(command));
    std::printf("nonce=%llu\nauthorization=%llu\n", static_cast<unsigned long long>(command.nonce),
                static_cast<unsigned long long>(r.authorization()));
    if (r.duplicate()) std::printf("duplicate=true\n");
    if (flags_.Has("wait")) {
      if (absl::Status s = client_.WaitSequenced(key.public_key, command.nonce, std::chrono::seconds(30)); !s.ok()) {
        return s;
      }
      std::printf("sequenced=true\n");
    }
    return absl::OkStatus();
  }

  absl::Status Place() {
    rules::PlaceOrder order;
    POM_ASSIGN_OR_RETURN(std::string market_text, flags_.Get("market"));
    POM_ASSIGN_OR_RETURN(order.market, ParseMarket(market_text));
    POM_ASSIGN_OR_RETURN(order.side, Choice<rules::Side>("side", flags_.GetOr("side", ""),
                                                   {{"buy", rules::Side::kBuy}, {"sell", rules::Side::kSell}}));
    POM_ASSIGN_OR_RETURN(order.type, Choice<rules::OrderType>("type", flags_.GetOr("type", "limit"),
                                                        {{"limit", rules::OrderType::kLimit},
                                                         {"market", rules::OrderType::kMarket}}));
    POM_ASSIGN_OR_RETURN(order.time_in_force,
                   Choice<rules::TimeInForce>("tif", flags_.GetOr("tif", "gtc"),
                                              {{"gtc", rules::TimeInForce::kGtc},
                                               {"ioc", rules::TimeInForce::kIoc},
                                               {"fok", rules::TimeInForce::kFok},
                                               {"post-only", rules::TimeInForce::kPostOnly}}));
    POM_ASSIGN_OR_RETURN(order.stp, Choice<rules::StpMode>("stp", flags_.GetOr("stp", "cancel-taker"),
                                                     {{"cancel-taker", rules::StpMode::kCancelTaker},
                                                      {"cancel-maker", rules::StpMode::kCancelMaker},
                                                      {"cancel-both", rules::StpMode::kCancelBoth}}));
    if (order.type == rules::OrderType::kLimit) {
      POM_ASSIGN_OR_RETURN(std::string price, flags_.Get("price"));
      POM_ASSIGN_OR_RETURN(order.price, pom::ParsePrice(price));
    }
    POM_ASSIGN_OR_RETURN(order.amount, AmountFlag("amount"));
    POM_ASSIGN_OR_RETURN(order.client_order_id, flags_.GetU64Or("client-order-id", 0));
    return SubmitSigned(order);
  }

  absl::StatusOr<rules::AccountId> AccountFlag() {
    if (flags_.Has("account")) {
      POM_ASSIGN_OR_RETURN(pom::Bytes32 id, pom::Bytes32FromHex(flags_.GetOr("account", "")));
      rules::AccountId account;
      account.bytes = id.bytes;
      return account;
    }
    POM_ASSIGN_OR_RETURN(pom::KeyPair key, Key());
    return key.public_key;
  }

  absl::Status Balances() {
    POM_ASSIGN_OR_RETURN(rules::AccountId account, AccountFlag());
    std::vector<uint32_t> currencies;
    for (absl::string_view part : absl::StrSplit(flags_.GetOr("currencies", ""), ',', absl::SkipEmpty())) {
      uint32_t c = 0;
      if (!absl::SimpleAtoi(part, &c)) return absl::InvalidArgumentError("--currencies must be ids like 1,2");
      currencies.push_back(c);
    }
    POM_ASSIGN_OR_RETURN(pom::v1::GetAccountResponse r, client_.GetAccount(account, currencies));
    std::printf("account=%s\nsequence=%llu\nroot=%s\nproof=verified\nnonce=%llu\n", pom::ToHex(account.bytes).c_str(),
                static_cast<unsigned long long>(r.proof().sequence()), HexOf(r.proof().root()).c_str(),
                static_cast<unsigned long long>(r.nonce()));
    for (const pom::v1::AccountBalance& b : r.balances()) {
      POM_ASSIGN_OR_RETURN(pom::v1::GetBalanceResponse chain, client_.ChainBalance(account, rules::Currency{b.currency()}));
      std::printf("currency=%u available=%s frozen=%s chain=%s reserved=%s\n", b.currency(), Dec(b.available()).c_str(),
                  Dec(b.frozen()).c_str(), Dec(chain.chain()).c_str(), Dec(chain.reserved()).c_str());
    }
    return absl::OkStatus();
  }

  absl::Status Book() {
    POM_ASSIGN_OR_RETURN(std::string market_text, flags_.Get("market"));
    POM_ASSIGN_OR_RETURN(rules::MarketId market, ParseMarket(market_text));
    POM_ASSIGN_OR_RETURN(uint64_t depth, flags_.GetU64Or("depth", 10));
    POM_ASSIGN_OR_RETURN(pom::v1::GetBookResponse r, client_.GetBook(market, static_cast<uint32_t>(std::min<uint64_t>(depth, 1000))));
    std::printf("sequence=%llu\nroot=%s\nproof=verified\n", static_cast<unsigned long long>(r.proof().sequence()),
                HexOf(r.proof().root()).c_str());
    for (const pom::v1::BookLevel& l : r.asks()) std::printf("ask price=%s amount=%s\n", Dec(l.price()).c_str(), Dec(l.amount()).c_str());
    for (const pom::v1::BookLevel& l : r.bids()) std::printf("bid price=%s amount=%s\n", Dec(l.price()).c_str(), Dec(l.amount()).c_str());
    return absl::OkStatus();
  }

  absl::Status Head() {
    POM_ASSIGN_OR_RETURN(pom::v1::MatcherStatus m, client_.MatcherStatus());
    POM_ASSIGN_OR_RETURN(pom::v1::VerifierStatus v, client_.VerifierStatus());
    std::printf("matcher_sequence=%llu\nmatcher_root=%s\nverifier_sequence=%llu\nverifier_root=%s\nverifier_state=%s\n",
                static_cast<unsigned long long>(m.sequence()), HexOf(m.root()).c_str(),
                static_cast<unsigned long long>(v.sequence()), HexOf(v.root()).c_str(), v.state().c_str());
    if (v.faulty_sequence() != 0) {
      std::printf("faulty_sequence=%llu\nreject=%s %s\n", static_cast<unsigned long long>(v.faulty_sequence()),
                  v.reject_name().c_str(), v.reject_detail().c_str());
    }
    std::printf("in_sync=%s\n", m.sequence() == v.sequence() && m.root() == v.root() ? "yes" : "no");
    return absl::OkStatus();
  }

  absl::Status MarketCreate() {
    rules::CreateMarket create;
    POM_ASSIGN_OR_RETURN(std::string market_text, flags_.Get("market"));
    POM_ASSIGN_OR_RETURN(create.market, ParseMarket(market_text));
    POM_ASSIGN_OR_RETURN(uint64_t price_decimals, flags_.GetU64("price-decimals"));
    POM_ASSIGN_OR_RETURN(uint64_t amount_decimals, flags_.GetU64("amount-decimals"));
    if (price_decimals > 18 || amount_decimals > 18) return absl::InvalidArgumentError("decimals are at most 18");
    create.params.price_decimals = static_cast<uint8_t>(price_decimals);
    create.params.amount_decimals = static_cast<uint8_t>(amount_decimals);
    POM_ASSIGN_OR_RETURN(create.params.min_amount, pom::ParseAmount(flags_.GetOr("min-amount", "0")));
    POM_ASSIGN_OR_RETURN(uint64_t maker, flags_.GetU64Or("maker-fee-ppm", 0));
    POM_ASSIGN_OR_RETURN(uint64_t taker, flags_.GetU64Or("taker-fee-ppm", 0));
    POM_ASSIGN_OR_RETURN(uint64_t max_makers, flags_.GetU64Or("max-makers", 100));
    if (maker > 1'000'000 || taker > 1'000'000 || max_makers > UINT32_MAX) {
      return absl::InvalidArgumentError("fees are at most 1000000 ppm");
    }
    create.params.maker_fee_ppm = static_cast<uint32_t>(maker);
    create.params.taker_fee_ppm = static_cast<uint32_t>(taker);
    create.params.max_makers = static_cast<uint32_t>(max_makers);
    POM_ASSIGN_OR_RETURN(create.params.status,
                   Choice<rules::MarketStatus>("status", flags_.GetOr("status", "open"),
                                               {{"open", rules::MarketStatus::kOpen},
                                                {"halted", rules::MarketStatus::kHalted}}));
    return SubmitSigned(create);
  }

  absl::StatusOr<std::unique_ptr<pom::client::WsClient>> Ws() {
    return pom::client::WsClient::Connect(flags_.GetOr("ws", "ws://127.0.0.1:8080"), std::chrono::milliseconds(5000));
  }

  // Streams: prints each message as one line; the book is kept locally and every message's
  // sequence and checksum are checked (a mismatch is an error, exit 1).
  absl::Status Watch(const std::string& command) {
    POM_ASSIGN_OR_RETURN(uint64_t count, flags_.GetU64Or("count", 0));
    POM_ASSIGN_OR_RETURN(std::unique_ptr<pom::client::WsClient> ws, Ws());
    nlohmann::json params;
    if (command == "executions") {
      POM_ASSIGN_OR_RETURN(pom::KeyPair key, Key());
      POM_RETURN_IF_ERROR(ws->Logon(key));
      params = {{"channel", "executions"}};
    } else {
      POM_ASSIGN_OR_RETURN(std::string market, flags_.Get("market"));
      params = {{"channel", command == "watch-book" ? "book" : "trades"}, {"market", market}};
    }
    POM_RETURN_IF_ERROR(ws->Call("subscribe", params).status());
    const std::string channel = params["channel"].get<std::string>();
    pom::client::LocalBook book;
    for (uint64_t seen = 0; count == 0 || seen < count;) {
      absl::StatusOr<nlohmann::json> msg = ws->NextPush(std::chrono::hours(24));
      if (!msg.ok()) return msg.status();
      if (msg->value("channel", std::string()) != channel) continue;
      ++seen;
      if (channel != "book") {
        std::printf("%s\n", msg->dump().c_str());
        std::fflush(stdout);
        continue;
      }
      POM_RETURN_IF_ERROR(book.Apply(*msg));
      if (!book.ready()) continue;
      std::string best_bid = book.bids().empty() ? "-" : pom::FormatDecimal(book.bids().begin()->first);
      std::string best_ask = book.asks().empty() ? "-" : pom::FormatDecimal(book.asks().begin()->first);
      std::printf("%s seq=%llu checksum=ok bids=%zu asks=%zu best_bid=%s best_ask=%s\n",
                  msg->value("type", std::string()).c_str(), static_cast<unsigned long long>(book.sequence()),
                  book.bids().size(), book.asks().size(), best_bid.c_str(), best_ask.c_str());
      std::fflush(stdout);
    }
    return absl::OkStatus();
  }

  // The account proof over the WebSocket, its multiproof checked here, and its root compared
  // with the verifier's at the same sequence (waiting for the verifier to get there).
  absl::Status AccountProof() {
    POM_ASSIGN_OR_RETURN(pom::KeyPair key, Key());
    POM_ASSIGN_OR_RETURN(std::unique_ptr<pom::client::WsClient> ws, Ws());
    POM_RETURN_IF_ERROR(ws->Logon(key));
    POM_ASSIGN_OR_RETURN(nlohmann::json proof, ws->Call("account_proof", nlohmann::json::object()));
    pom::v1::StateProof state;
    state.set_sequence(proof.value("sequence", uint64_t{0}));
    auto bytes_of = [](const nlohmann::json& v) -> absl::StatusOr<std::string> {
      if (!v.is_string()) return absl::DataLossError("a proof field that is not a hex string");
      POM_ASSIGN_OR_RETURN(std::vector<uint8_t> b, pom::FromHex(v.get<std::string>()));
      return std::string(b.begin(), b.end());
    };
    POM_ASSIGN_OR_RETURN(std::string root, bytes_of(proof.value("root", nlohmann::json())));
    state.set_root(root);
    POM_ASSIGN_OR_RETURN(std::string multiproof, bytes_of(proof.value("multiproof", nlohmann::json())));
    state.set_multiproof(multiproof);
    for (const nlohmann::json& leaf : proof.value("leaves", nlohmann::json::array())) {
      pom::v1::LeafValue* out = state.add_leaves();
      POM_ASSIGN_OR_RETURN(std::string raw, bytes_of(leaf.value("raw_key", nlohmann::json())));
      POM_ASSIGN_OR_RETURN(std::string value, bytes_of(leaf.value("value", nlohmann::json())));
      out->set_raw_key(raw);
      out->set_value(value);
    }
    POM_RETURN_IF_ERROR(pom::client::VerifyStateProof(state));
    std::printf("sequence=%llu\nroot=%s\nproof=verified\n", static_cast<unsigned long long>(state.sequence()),
                HexOf(state.root()).c_str());
    for (const nlohmann::json& b : proof.value("balances", nlohmann::json::array())) {
      std::printf("currency=%u available=%s frozen=%s\n", b.value("currency", 0u),
                  b.value("available", std::string()).c_str(), b.value("frozen", std::string()).c_str());
    }
    POM_ASSIGN_OR_RETURN(pom::v1::Head head, client_.WaitVerified(state.sequence(), std::chrono::seconds(30)));
    if (head.sequence() != state.sequence()) {
      // The verifier moved past it meanwhile: the roots of different sequences do not compare.
      std::printf("verifier_sequence=%llu\nverifier_root=not-comparable\n", static_cast<unsigned long long>(head.sequence()));
      return absl::OkStatus();
    }
    if (head.root() != state.root()) {
      return absl::DataLossError(absl::StrCat("the account proof's root differs from the verifier's at sequence ",
                                              state.sequence()));
    }
    std::printf("verifier_root=match\n");
    return absl::OkStatus();
  }

  const pom::Flags& flags_;
  Client& client_;
};

}  // namespace

int main(int argc, char** argv) {
  // The command is the first word that is not a flag or a flag's value, so common flags may
  // come first (pom-cli --matcher HOST:PORT place ...).
  std::vector<char*> args(argv, argv + argc);
  std::string command;
  for (size_t i = 1; i < args.size(); ++i) {
    const std::string a = args[i];
    if (a.rfind("--", 0) != 0) {
      command = a;
      args.erase(args.begin() + static_cast<std::ptrdiff_t>(i));
      break;
    }
    if (a.find('=') == std::string::npos && a != "--wait" && a != "--help") ++i;  // skip its value
  }
  if (command.empty() || command == "help" || std::find(args.begin(), args.end(), std::string_view("--help")) != args.end()) {
    return Usage();
  }
  pom::Flags flags({"matcher", "verifier", "timeout-ms", "out", "key", "currency", "amount", "market", "side", "price",
                    "type", "tif", "stp", "client-order-id", "order", "account", "currencies", "depth", "nonce",
                    "price-decimals", "dir", "users", "amount-decimals", "min-amount", "maker-fee-ppm", "taker-fee-ppm", "max-makers",
                    "status", "ws", "count"},
                   {"wait"});
  if (absl::Status s = flags.Parse(static_cast<int>(args.size()), args.data(), 1); !s.ok()) {
    return Usage(std::string(s.message()));
  }
  absl::StatusOr<uint64_t> timeout = flags.GetU64Or("timeout-ms", 5000);
  if (!timeout.ok()) return Usage(std::string(timeout.status().message()));
  Client client(flags.GetOr("matcher", "127.0.0.1:50051"), flags.GetOr("verifier", "127.0.0.1:50052"),
                std::chrono::milliseconds(std::max<uint64_t>(*timeout, 1)));
  Cli cli(flags, client);
  const absl::Status s = cli.Run(command);
  if (absl::IsInvalidArgument(s) && absl::StrContains(s.message(), "unknown command")) return Usage(std::string(s.message()));
  return s.ok() ? 0 : Fail(s);
}

#include "matcher/gateway/ws_gateway.h"

#include <algorithm>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <unordered_map>
#include <utility>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <nlohmann/json.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "common/ed25519.h"
#include "common/money.h"
#include "common/rules/records.h"
#include "matcher/gateway/market_data.h"
#include "proto/codec.h"

namespace pom::gateway {
namespace {

using matcher::Engine;

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

// Stable error codes (docs/websocket-api.md). Append only.
enum ErrorCode : int {
  kBadJson = 1000,
  kBadRequest = 1001,
  kUnknownMethod = 1002,
  kBadParams = 1003,
  kBadNumber = 1004,
  kRateLimited = 1005,
  kNotLoggedOn = 1006,
  kBadLogon = 1007,
  kBadSignature = 1008,
  kStaleNonce = 1009,
  kTooManySubscriptions = 1010,
  kUnknownMarket = 1011,
  kUnavailable = 1012,
  kNotFound = 1013,
  kNotOperator = 1014,
  kInternal = 1015,
};

// A request that cannot be served: an error code and a message naming the problem.
struct Failure {
  int code;
  std::string message;
};

constexpr char kLogonTag[] = "pom.logon.v1";
constexpr size_t kMaxCancelAll = 100;
constexpr int kSendBufferBytes = 64 * 1024;

int ErrorCodeOf(const absl::Status& status) {
  switch (status.code()) {
    case absl::StatusCode::kInvalidArgument: return kBadParams;
    case absl::StatusCode::kUnauthenticated: return kBadSignature;
    case absl::StatusCode::kPermissionDenied: return kNotOperator;
    case absl::StatusCode::kFailedPrecondition: return kStaleNonce;
    case absl::StatusCode::kResourceExhausted:
    case absl::StatusCode::kUnavailable: return kUnavailable;
    default: return kInternal;
  }
}

std::string Hex(std::span<const uint8_t> b) { return ToHex(b); }
std::string Dec(u128 v) { return FormatDecimal(v); }
std::string MarketName(rules::MarketId m) { return absl::StrCat(m.base.id, "/", m.quote.id); }

// ---- Parameter parsing: every failure names the parameter ----

const json* Param(const json& params, const char* name) {
  auto it = params.find(name);
  return it == params.end() ? nullptr : &*it;
}

std::optional<Failure> NeedString(const json& params, const char* name, std::string* out) {
  const json* v = Param(params, name);
  if (v == nullptr) return Failure{kBadParams, absl::StrCat("missing parameter '", name, "'")};
  if (!v->is_string()) return Failure{kBadParams, absl::StrCat("parameter '", name, "' must be a string")};
  *out = v->get<std::string>();
  return std::nullopt;
}

// A u64 given as a JSON unsigned integer or a string of decimal digits.
std::optional<Failure> NeedU64(const json& params, const char* name, uint64_t* out, bool required = true) {
  const json* v = Param(params, name);
  if (v == nullptr) {
    if (!required) return std::nullopt;
    return Failure{kBadParams, absl::StrCat("missing parameter '", name, "'")};
  }
  if (v->is_number_unsigned()) {
    *out = v->get<uint64_t>();
    return std::nullopt;
  }
  if (v->is_string()) {
    const std::string s = v->get<std::string>();
    if (!s.empty() && s.size() <= 20 && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }) &&
        absl::SimpleAtoi(s, out)) {
      return std::nullopt;
    }
  }
  return Failure{kBadNumber, absl::StrCat("parameter '", name, "' must be an unsigned 64-bit integer (a number or a string of digits)")};
}

std::optional<Failure> NeedDecimal(const json& params, const char* name, u128* out) {
  std::string text;
  if (auto f = NeedString(params, name, &text)) {
    if (f->message.find("must be a string") != std::string::npos) {
      f->code = kBadNumber;
      f->message = absl::StrCat("parameter '", name, "' must be a decimal string such as \"12.5\"");
    }
    return f;
  }
  absl::StatusOr<u128> v = ParseDecimal(text);
  if (!v.ok()) return Failure{kBadNumber, absl::StrCat("parameter '", name, "': ", v.status().message())};
  *out = *v;
  return std::nullopt;
}

std::optional<Failure> NeedMarket(const json& params, rules::MarketId* out) {
  std::string text;
  if (auto f = NeedString(params, "market", &text)) return f;
  std::vector<std::string> parts = absl::StrSplit(text, '/');
  uint32_t base = 0, quote = 0;
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &base) || !absl::SimpleAtoi(parts[1], &quote) ||
      parts[0].empty() || parts[1].empty() || parts[0][0] == '-' || parts[1][0] == '-' || parts[0][0] == '+' ||
      parts[1][0] == '+') {
    return Failure{kBadParams, "parameter 'market' must be BASE/QUOTE currency ids, e.g. \"1/2\""};
  }
  *out = rules::MarketId{rules::Currency{base}, rules::Currency{quote}};
  return std::nullopt;
}

template <typename T>
std::optional<Failure> NeedChoice(const json& params, const char* name, std::initializer_list<std::pair<const char*, T>> options,
                                  T* out, std::optional<T> fallback = std::nullopt) {
  const json* v = Param(params, name);
  if (v == nullptr && fallback.has_value()) {
    *out = *fallback;
    return std::nullopt;
  }
  std::string names;
  for (const auto& [n, value] : options) {
    if (v != nullptr && v->is_string() && v->get<std::string>() == n) {
      *out = value;
      return std::nullopt;
    }
    absl::StrAppend(&names, names.empty() ? "" : ", ", n);
  }
  return Failure{kBadParams, absl::StrCat("parameter '", name, "' must be one of: ", names)};
}

std::optional<Failure> NeedHex(const json& params, const char* name, size_t bytes, std::vector<uint8_t>* out) {
  std::string text;
  if (auto f = NeedString(params, name, &text)) return f;
  absl::StatusOr<std::vector<uint8_t>> v = FromHex(text);
  if (!v.ok() || v->size() != bytes) {
    return Failure{kBadParams, absl::StrCat("parameter '", name, "' must be ", bytes * 2, " hex digits")};
  }
  *out = *std::move(v);
  return std::nullopt;
}

json LevelsJson(const std::vector<Level>& levels) {
  json out = json::array();
  for (const Level& l : levels) out.push_back(json::array({Dec(l.price), Dec(l.amount)}));
  return out;
}

json FillJson(const rules::Fill& f) {
  return json{{"maker_order", f.maker_order.value}, {"maker", Hex(f.maker.bytes)},
              {"price", Dec(f.price.raw())},         {"amount", Dec(f.amount.raw())},
              {"quote", Dec(f.quote.raw())},         {"maker_fee", Dec(f.maker_fee.raw())},
              {"taker_fee", Dec(f.taker_fee.raw())}};
}

json OutcomeJson(const rules::Outcome& o) {
  json fills = json::array();
  for (const rules::Fill& f : o.fills) fills.push_back(FillJson(f));
  json cancelled = json::array();
  for (const rules::OrderId& c : o.cancelled) cancelled.push_back(c.value);
  return json{{"status", o.reject == rules::RejectCode::kNone ? "accepted" : std::string(rules::RejectCodeName(o.reject))},
              {"order_id", o.order.value},
              {"fills", fills},
              {"resting", Dec(o.resting.raw())},
              {"cancelled", cancelled}};
}

// A token bucket.
struct Bucket {
  double tokens = 0;
  Clock::time_point last = Clock::now();
  bool Take(double rate, double burst) {
    const Clock::time_point now = Clock::now();
    tokens = std::min(burst, tokens + rate * std::chrono::duration<double>(now - last).count());
    last = now;
    if (tokens < 1) return false;
    tokens -= 1;
    return true;
  }
};

}  // namespace

class Session;

class Gateway::Impl {
 public:
  Impl(GatewayOptions options, GatewayBackend* backend)
      : options_(std::move(options)), backend_(backend), acceptor_(io_), heartbeat_(io_) {}

  absl::Status Start(const DurableMatcher& matcher);
  void Stop();
  int port() const { return port_; }
  void Publish(std::vector<std::shared_ptr<const rules::EventProof>> events);

  // ---- used by sessions (I/O thread) ----
  const GatewayOptions& options() const { return options_; }
  GatewayBackend& backend() { return *backend_; }
  MarketData& data() { return data_; }
  asio::io_context& io() { return io_; }
  void Register(const std::shared_ptr<Session>& s);
  void Unregister(Session* s, const std::string& address);
  bool TakeAccountToken(const rules::AccountId& account) {
    const double burst = options_.account_requests_per_second * 2;
    auto [it, fresh] = account_buckets_.try_emplace(account);
    if (fresh) it->second.tokens = burst;  // a new account starts with a full bucket
    return it->second.Take(options_.account_requests_per_second, burst);
  }
  std::string BookSnapshot(rules::MarketId market) const;
  GatewayStats& stats() { return stats_; }
  const GatewayStats& stats() const { return stats_; }

 private:
  void Accept();
  void Beat();
  void Fanout(const Published& published, uint64_t event);

  GatewayOptions options_;
  GatewayBackend* backend_;
  asio::io_context io_;
  tcp::acceptor acceptor_;
  asio::steady_timer heartbeat_;
  std::thread thread_;
  int port_ = 0;
  MarketData data_;
  std::vector<std::weak_ptr<Session>> sessions_;
  std::unordered_map<std::string, size_t> per_address_;
  absl::flat_hash_map<rules::AccountId, Bucket> account_buckets_;
  GatewayStats stats_;
  uint64_t epoch_ = 0;         // names this start's book sequence space (start time, ms)
  bool stopped_ = false;       // I/O thread
  bool stop_called_ = false;   // owner thread
};

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, Gateway::Impl* gateway)
      : ws_(std::move(socket)), gateway_(gateway) {
    bucket_.tokens = gateway_->options().burst;
    tolerance_.tokens = gateway_->options().burst;
    beast::error_code ec;
    // A bounded kernel send buffer, so a client that stops reading shows up in our own queue
    // (and gets a resync) instead of in megabytes of socket buffer.
    beast::get_lowest_layer(ws_).socket().set_option(asio::socket_base::send_buffer_size(kSendBufferBytes), ec);
    beast::get_lowest_layer(ws_).socket().set_option(tcp::no_delay(true), ec);  // no Nagle delay on replies
    const tcp::endpoint remote = beast::get_lowest_layer(ws_).socket().remote_endpoint(ec);
    address_ = ec ? "unknown" : remote.address().to_string();
  }

  const std::string& address() const { return address_; }

  void Start(bool over_limit) {
    websocket::stream_base::timeout timeout = websocket::stream_base::timeout::suggested(beast::role_type::server);
    timeout.idle_timeout = gateway_->options().idle_timeout;
    // A connection that never completes its handshake (half-open, or a port scan) is dropped too.
    timeout.handshake_timeout = gateway_->options().handshake_timeout;
    timeout.keep_alive_pings = true;
    ws_.set_option(timeout);
    ws_.read_message_max(gateway_->options().max_frame_bytes);
    ws_.async_accept([self = shared_from_this(), over_limit](beast::error_code ec) {
      if (ec) return self->Done();
      self->open_ = true;
      if (over_limit) return self->Close(websocket::close_code::try_again_later, "too many connections from this address");
      RandomBytes(self->challenge_);
      self->Send(json{{"channel", "session"},
                      {"challenge", Hex(self->challenge_)},
                      {"prover_id", Hex(self->gateway_->backend().prover_id().span())},
                      {"sequence", self->gateway_->data().last_event()}}
                     .dump());
      self->Read();
    });
  }

  // Queues a message. Market data may be replaced by a resync when the client is slow;
  // replies and private messages are never dropped (past twice the limit the connection closes).
  void Send(std::string message, std::optional<rules::MarketId> book = std::nullopt) {
    Send(std::make_shared<const std::string>(std::move(message)), book);
  }
  // The same, for a message shared by every subscriber (a fan-out serializes it once).
  void Send(std::shared_ptr<const std::string> message, std::optional<rules::MarketId> book = std::nullopt) {
    if (closing_ || !open_) return;  // nothing before the handshake completed
    if (book.has_value() && queue_.size() >= gateway_->options().max_queued_messages) {
      Resync(*book);
      return;
    }
    if (queue_.size() >= 2 * gateway_->options().max_queued_messages) {
      Close(websocket::close_code::try_again_later, "too slow: the send queue is full");
      return;
    }
    queue_.push_back(Queued{std::move(message), book});
    if (!writing_) Write();
  }

  using SubscriptionKey = std::pair<std::string, std::string>;  // (channel, market or "")
  bool Subscribed(const SubscriptionKey& key) const { return subscriptions_.contains(key); }
  bool WantsExecutions(const rules::AccountId& account) const {
    return account_.has_value() && *account_ == account && subscriptions_.contains({"executions", ""});
  }

  void Close(websocket::close_code code, const std::string& reason) {
    if (closing_) return;
    closing_ = true;
    if (!open_) {  // still in its handshake: no WebSocket to close, just the socket
      beast::error_code ec;
      beast::get_lowest_layer(ws_).socket().close(ec);
      return;
    }
    DropQueued([](const Queued&) { return true; });
    ws_.async_close(websocket::close_reason(code, reason), [self = shared_from_this()](beast::error_code) { self->Done(); });
  }

 private:
  struct Queued {
    std::shared_ptr<const std::string> text;
    std::optional<rules::MarketId> book;
  };

  // Removes queued messages matching `drop`, except one being written (its buffer is in use).
  template <typename Pred>
  void DropQueued(Pred drop) {
    auto first = queue_.begin();
    if (writing_ && first != queue_.end()) ++first;
    queue_.erase(std::remove_if(first, queue_.end(), drop), queue_.end());
  }

  static void RandomBytes(std::array<uint8_t, 32>& out) {
    const KeyPair k = GenerateKeyPair();  // libsodium's CSPRNG behind it
    std::copy(k.public_key.bytes.begin(), k.public_key.bytes.end(), out.begin());
  }

  // Drops everything queued for this book (deltas, and an earlier resync not yet sent), tells
  // the client, and queues a fresh snapshot; later deltas follow it in order.
  void Resync(rules::MarketId market) {
    gateway_->stats().resyncs.fetch_add(1, std::memory_order_relaxed);
    DropQueued([&](const Queued& q) { return q.book.has_value() && *q.book == market; });
    queue_.push_back(Queued{std::make_shared<const std::string>(
                                json{{"channel", "book"}, {"type", "resync"}, {"market", MarketName(market)},
                                     {"reason", "the connection fell behind; a snapshot follows"}}
                                    .dump()),
                            market});
    queue_.push_back(Queued{std::make_shared<const std::string>(gateway_->BookSnapshot(market)), market});
    if (!writing_) Write();
  }

  void Write() {
    if (queue_.empty() || closing_) {
      writing_ = false;
      return;
    }
    writing_ = true;
    ws_.text(true);
    ws_.async_write(asio::buffer(*queue_.front().text), [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) return self->Done();
      if (!self->queue_.empty()) self->queue_.pop_front();
      self->Write();
    });
  }

  void Read() {
    ws_.async_read(buffer_, [self = shared_from_this()](beast::error_code ec, size_t) {
      if (ec) {
        // Beast has already answered an oversized frame with close 1009.
        return self->Done();
      }
      std::string text = beast::buffers_to_string(self->buffer_.data());
      self->buffer_.consume(self->buffer_.size());
      self->Handle(text);
      if (!self->closing_) self->Read();
    });
  }

  void Done() {
    if (done_) return;
    done_ = true;
    closing_ = true;
    gateway_->stats().connections_closed.fetch_add(1, std::memory_order_relaxed);
    gateway_->Unregister(this, address_);
  }

  void Reply(const json& id, json result) {
    json out{{"id", id}, {"result", std::move(result)}, {"rate_limit", Usage()}};
    Send(out.dump());
  }
  void Error(const json& id, const Failure& f) {
    const int slot = f.code - GatewayStats::kFirstErrorCode;
    if (slot >= 0 && static_cast<size_t>(slot) < GatewayStats::kErrorCodes) {
      gateway_->stats().errors[slot].fetch_add(1, std::memory_order_relaxed);
    }
    json out{{"id", id}, {"error", {{"code", f.code}, {"message", f.message}}}, {"rate_limit", Usage()}};
    Send(out.dump());
  }
  json Usage() const {
    return json{{"remaining", static_cast<int64_t>(bucket_.tokens)},
                {"burst", gateway_->options().burst},
                {"per_second", gateway_->options().requests_per_second}};
  }

  void Handle(const std::string& text);
  std::optional<Failure> Dispatch(const json& id, const std::string& method, const json& params);
  std::optional<Failure> Logon(const json& id, const json& params);
  std::optional<Failure> Subscribe(const json& id, const json& params, bool on);
  std::optional<Failure> SignedCommand(const json& id, const std::string& method, const json& params);
  std::optional<Failure> BuildCommand(const std::string& method, const json& params, rules::Command& command);
  void SubmitCommands(const json& id, std::vector<rules::Command> commands, bool batch);
  std::optional<Failure> CancelAll(const json& id, const json& params);
  std::optional<Failure> Balances(const json& id, bool with_proof);
  std::optional<Failure> OrderStatus(const json& id, const json& params);

  websocket::stream<beast::tcp_stream> ws_;
  Gateway::Impl* gateway_;
  std::string address_;
  beast::flat_buffer buffer_;
  std::deque<Queued> queue_;
  bool writing_ = false;
  bool open_ = false;  // the WebSocket handshake completed
  bool closing_ = false;
  bool done_ = false;
  std::array<uint8_t, 32> challenge_{};
  std::optional<rules::AccountId> account_;
  std::set<SubscriptionKey> subscriptions_;
  Bucket bucket_;
  Bucket tolerance_;  // refused requests a connection may send before it is closed
};

// ---- Requests ----

void Session::Handle(const std::string& text) {
  json request = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (request.is_discarded()) return Error(nullptr, Failure{kBadJson, "the message is not valid JSON"});
  if (!request.is_object()) return Error(nullptr, Failure{kBadRequest, "a request is a JSON object {\"id\",\"method\",\"params\"}"});
  json id = nullptr;
  if (auto it = request.find("id"); it != request.end()) {
    if (!it->is_number_integer() && !it->is_string()) {
      return Error(nullptr, Failure{kBadRequest, "'id' must be an integer or a string"});
    }
    if (it->is_string() && it->get<std::string>().size() > 64) {
      return Error(nullptr, Failure{kBadRequest, "'id' is longer than 64 characters"});
    }
    id = *it;
  } else {
    return Error(nullptr, Failure{kBadRequest, "missing 'id'"});
  }
  // Rate limits: per connection, then per account. Persistent flooding closes the connection.
  const bool allowed = bucket_.Take(gateway_->options().requests_per_second, gateway_->options().burst) &&
                       (!account_.has_value() || gateway_->TakeAccountToken(*account_));
  if (!allowed) {
    // Each refusal spends tolerance, which comes back at a quarter of the request rate: a client
    // that keeps sending well past its limit is closed; one slightly over it is only refused.
    if (!tolerance_.Take(gateway_->options().requests_per_second / 4, gateway_->options().burst)) {
      return Close(websocket::close_code::policy_error, "request flood");
    }
    return Error(id, Failure{kRateLimited, "rate limit exceeded; slow down"});
  }
  auto method = request.find("method");
  if (method == request.end() || !method->is_string()) return Error(id, Failure{kBadRequest, "'method' must be a string"});
  json params = json::object();
  if (auto it = request.find("params"); it != request.end()) {
    if (!it->is_object()) return Error(id, Failure{kBadRequest, "'params' must be an object"});
    params = *it;
  }
  if (std::optional<Failure> f = Dispatch(id, method->get<std::string>(), params)) Error(id, *f);
}

std::optional<Failure> Session::Dispatch(const json& id, const std::string& method, const json& params) {
  {
    size_t slot = GatewayStats::kMethodCount - 1;  // "unknown"
    for (size_t i = 0; i + 1 < GatewayStats::kMethodCount; ++i) {
      if (GatewayStats::kMethods[i] == method) slot = i;
    }
    gateway_->stats().requests[slot].fetch_add(1, std::memory_order_relaxed);
  }
  if (method == "ping") {
    Reply(id, json{{"sequence", gateway_->data().last_event()}});
    return std::nullopt;
  }
  if (method == "logon") return Logon(id, params);
  if (method == "markets") {
    json markets = json::array();
    for (rules::MarketId m : gateway_->data().Markets()) markets.push_back(MarketName(m));
    Reply(id, json{{"markets", markets}});
    return std::nullopt;
  }
  if (method == "subscribe") return Subscribe(id, params, true);
  if (method == "unsubscribe") return Subscribe(id, params, false);
  const bool is_private = method == "place" || method == "cancel" || method == "amend" || method == "cancel_all" ||
                          method == "balances" ||
                          method == "open_orders" || method == "order_status" || method == "account_proof";
  if (!is_private) return Failure{kUnknownMethod, absl::StrCat("unknown method '", method.substr(0, 64), "'")};
  if (!account_.has_value()) return Failure{kNotLoggedOn, "log on first (method 'logon')"};
  if (method == "place" || method == "cancel" || method == "amend") return SignedCommand(id, method, params);
  if (method == "cancel_all") return CancelAll(id, params);
  if (method == "balances") return Balances(id, false);
  if (method == "account_proof") return Balances(id, true);
  if (method == "order_status") return OrderStatus(id, params);
  // open_orders
  json orders = json::array();
  for (const MarketData::OpenOrder& o : gateway_->data().OpenOrders(*account_)) {
    orders.push_back(json{{"order_id", o.id},
                          {"market", MarketName(o.market)},
                          {"side", o.record.side == rules::Side::kBuy ? "buy" : "sell"},
                          {"price", Dec(o.record.price.raw())},
                          {"amount", Dec(o.record.amount.raw())},
                          {"unfilled", Dec(o.record.unfilled.raw())},
                          {"client_order_id", o.record.client_order_id}});
  }
  Reply(id, json{{"orders", orders}, {"sequence", gateway_->data().last_event()}});
  return std::nullopt;
}

std::optional<Failure> Session::Logon(const json& id, const json& params) {
  if (account_.has_value()) return Failure{kBadLogon, "already logged on"};
  std::vector<uint8_t> account, signature;
  if (auto f = NeedHex(params, "account", 32, &account)) return f;
  if (auto f = NeedHex(params, "signature", 64, &signature)) return f;
  PublicKey key;
  std::copy(account.begin(), account.end(), key.bytes.begin());
  Signature sig;
  std::copy(signature.begin(), signature.end(), sig.bytes.begin());
  std::vector<uint8_t> message(kLogonTag, kLogonTag + sizeof(kLogonTag) - 1);
  const Bytes32& prover = gateway_->backend().prover_id();
  message.insert(message.end(), prover.bytes.begin(), prover.bytes.end());
  message.insert(message.end(), challenge_.begin(), challenge_.end());
  if (!Verify(key, message, sig)) return Failure{kBadLogon, "the signature does not sign this session's challenge"};
  account_ = key;
  Reply(id, json{{"account", Hex(key.bytes)}});
  return std::nullopt;
}

std::optional<Failure> Session::Subscribe(const json& id, const json& params, bool on) {
  std::string channel;
  if (auto f = NeedString(params, "channel", &channel)) return f;
  std::string market_name;
  rules::MarketId market;
  if (channel == "book" || channel == "trades") {
    if (auto f = NeedMarket(params, &market)) return f;
    if (!gateway_->data().HasMarket(market)) return Failure{kUnknownMarket, absl::StrCat("no market ", MarketName(market))};
    market_name = MarketName(market);
  } else if (channel == "executions") {
    if (!account_.has_value()) return Failure{kNotLoggedOn, "log on first (method 'logon')"};
  } else {
    return Failure{kBadParams, "parameter 'channel' must be one of: book, trades, executions"};
  }
  const std::pair<std::string, std::string> key{channel, market_name};
  if (!on) {
    subscriptions_.erase(key);
    Reply(id, json{{"unsubscribed", channel}});
    return std::nullopt;
  }
  if (!subscriptions_.contains(key) && subscriptions_.size() >= gateway_->options().max_subscriptions) {
    return Failure{kTooManySubscriptions, absl::StrCat("at most ", gateway_->options().max_subscriptions, " subscriptions per connection")};
  }
  subscriptions_.insert(key);
  Reply(id, json{{"subscribed", channel}, {"market", market_name}});
  if (channel == "book") Send(gateway_->BookSnapshot(market));
  return std::nullopt;
}

std::optional<Failure> Session::BuildCommand(const std::string& method, const json& params, rules::Command& command) {
  command.signer = *account_;
  if (auto f = NeedU64(params, "nonce", &command.nonce)) return f;
  std::vector<uint8_t> signature;
  if (auto f = NeedHex(params, "signature", 64, &signature)) return f;
  std::copy(signature.begin(), signature.end(), command.signature.bytes.begin());
  rules::MarketId market;
  if (auto f = NeedMarket(params, &market)) return f;
  if (method == "place") {
    rules::PlaceOrder p;
    p.market = market;
    if (auto f = NeedChoice<rules::Side>(params, "side", {{"buy", rules::Side::kBuy}, {"sell", rules::Side::kSell}}, &p.side)) return f;
    if (auto f = NeedChoice<rules::OrderType>(params, "type", {{"limit", rules::OrderType::kLimit}, {"market", rules::OrderType::kMarket}},
                                              &p.type, rules::OrderType::kLimit)) return f;
    if (auto f = NeedChoice<rules::TimeInForce>(params, "time_in_force",
                                                {{"gtc", rules::TimeInForce::kGtc}, {"ioc", rules::TimeInForce::kIoc},
                                                 {"fok", rules::TimeInForce::kFok}, {"post_only", rules::TimeInForce::kPostOnly}},
                                                &p.time_in_force, rules::TimeInForce::kGtc)) return f;
    if (auto f = NeedChoice<rules::StpMode>(params, "stp",
                                            {{"cancel_taker", rules::StpMode::kCancelTaker}, {"cancel_maker", rules::StpMode::kCancelMaker},
                                             {"cancel_both", rules::StpMode::kCancelBoth}},
                                            &p.stp, rules::StpMode::kCancelTaker)) return f;
    u128 amount = 0, price = 0;
    if (auto f = NeedDecimal(params, "amount", &amount)) return f;
    if (p.type == rules::OrderType::kLimit) {
      if (auto f = NeedDecimal(params, "price", &price)) return f;
    } else if (Param(params, "price") != nullptr) {
      return Failure{kBadParams, "a market order has no 'price'"};
    }
    p.amount = Amount::FromRaw(amount);
    p.price = Price::FromRaw(price);
    if (auto f = NeedU64(params, "client_order_id", &p.client_order_id, /*required=*/false)) return f;
    command.body = p;
  } else if (method == "cancel") {
    uint64_t order = 0;
    if (auto f = NeedU64(params, "order_id", &order)) return f;
    command.body = rules::CancelOrder{market, rules::OrderId{order}};
  } else {
    uint64_t order = 0;
    u128 amount = 0;
    if (auto f = NeedU64(params, "order_id", &order)) return f;
    if (auto f = NeedDecimal(params, "amount", &amount)) return f;
    command.body = rules::AmendOrder{market, rules::OrderId{order}, Amount::FromRaw(amount)};
  }
  if (absl::Status s = rules::ValidateCommand(command); !s.ok()) return Failure{kBadParams, std::string(s.message())};
  if (!rules::VerifyCommandSignature(gateway_->backend().prover_id(), command)) {
    return Failure{kBadSignature, "the signature does not sign this command (docs/protocol.md section 7) for this prover"};
  }
  return std::nullopt;
}

// Submits `commands` (checked and signed) in order; answers with the one outcome, or with
// {"results": [...]} for a batch, when every command has been answered.
void Session::SubmitCommands(const json& id, std::vector<rules::Command> commands, bool batch) {
  struct Pending {
    std::vector<json> results;
    size_t left = 0;
  };
  auto pending = std::make_shared<Pending>();
  pending->results.resize(commands.size());
  pending->left = commands.size();
  std::weak_ptr<Session> weak = weak_from_this();
  asio::io_context& io = gateway_->io();
  for (size_t i = 0; i < commands.size(); ++i) {
    gateway_->backend().Submit(std::move(commands[i]), [weak, id, &io, pending, i, batch](const SubmitResult& r) {
      asio::post(io, [weak, id, r, pending, i, batch] {
        std::shared_ptr<Session> self = weak.lock();
        if (!self) return;
        json one;
        std::optional<Failure> failure;
        if (r.status.ok() || absl::IsAlreadyExists(r.status)) {
          one = OutcomeJson(r.outcome);
          one["sequence"] = r.sequence;
          one["root"] = Hex(r.new_root.span());
          one["duplicate"] = !r.status.ok();
        } else {
          failure = Failure{ErrorCodeOf(r.status), std::string(r.status.message())};
          one = json{{"error", {{"code", failure->code}, {"message", failure->message}}}};
        }
        if (!batch) {
          if (failure.has_value()) return self->Error(id, *failure);
          return self->Reply(id, std::move(one));
        }
        pending->results[i] = std::move(one);
        if (--pending->left == 0) self->Reply(id, json{{"results", pending->results}});
      });
    });
  }
}

std::optional<Failure> Session::SignedCommand(const json& id, const std::string& method, const json& params) {
  rules::Command command;
  if (auto f = BuildCommand(method, params, command)) return f;
  std::vector<rules::Command> one;
  one.push_back(std::move(command));
  SubmitCommands(id, std::move(one), /*batch=*/false);
  return std::nullopt;
}

// cancel_all: the account's signed cancels for one market, checked first (any bad one refuses
// the whole request, naming it), then sequenced in order, one event each.
std::optional<Failure> Session::CancelAll(const json& id, const json& params) {
  rules::MarketId market;
  if (auto f = NeedMarket(params, &market)) return f;
  const json* orders = Param(params, "orders");
  if (orders == nullptr || !orders->is_array() || orders->empty() || orders->size() > kMaxCancelAll) {
    return Failure{kBadParams, absl::StrCat("parameter 'orders' must be an array of 1 to ", kMaxCancelAll,
                                            " signed cancels {order_id, nonce, signature}")};
  }
  std::vector<rules::Command> commands;
  for (size_t i = 0; i < orders->size(); ++i) {
    const json& entry = (*orders)[i];
    if (!entry.is_object()) return Failure{kBadParams, absl::StrCat("orders[", i, "] must be an object")};
    json cancel = entry;
    cancel["market"] = params["market"];
    rules::Command command;
    if (auto f = BuildCommand("cancel", cancel, command)) {
      f->message = absl::StrCat("orders[", i, "]: ", f->message);
      return f;
    }
    commands.push_back(std::move(command));
  }
  SubmitCommands(id, std::move(commands), /*batch=*/true);
  return std::nullopt;
}

std::optional<Failure> Session::Balances(const json& id, bool with_proof) {
  std::weak_ptr<Session> weak = weak_from_this();
  asio::io_context& io = gateway_->io();
  const rules::AccountId account = *account_;
  auto unavailable = [weak, id, &io] {
    asio::post(io, [weak, id] {
      if (auto self = weak.lock()) self->Error(id, Failure{kUnavailable, "the matcher is stopping"});
    });
  };
  gateway_->backend().Query(
      [weak, id, &io, account, with_proof](DurableMatcher& m) {
        const Engine& engine = m.engine();
        absl::StatusOr<Engine::AccountProof> proof = engine.ProveAccount(account, {});
        json result;
        json balances = json::array();
        json leaves = json::array();
        for (size_t i = 0; proof.ok() && i < proof->currencies.size(); ++i) {
          const rules::Balance b = proof->balance(i);
          balances.push_back(
              json{{"currency", proof->currencies[i]}, {"available", Dec(b.available.raw())}, {"frozen", Dec(b.frozen.raw())}});
        }
        result["balances"] = balances;
        result["nonce"] = engine.state().NonceOf(account);
        result["sequence"] = engine.sequence();
        if (with_proof && proof.ok()) {
          for (size_t k = 0; k < proof->keys.size(); ++k) {
            leaves.push_back(json{{"raw_key", Hex(proof->keys[k].span())}, {"value", Hex(proof->proof.values[k].span())}});
          }
          result["root"] = Hex(engine.root().span());
          result["leaves"] = leaves;
          result["multiproof"] = Hex(proof->proof.multiproof);
        }
        const bool ok = proof.ok();
        asio::post(io, [weak, id, result = std::move(result), ok]() mutable {
          std::shared_ptr<Session> self = weak.lock();
          if (!self) return;
          if (!ok) return self->Error(id, Failure{kInternal, "the account proof could not be built"});
          self->Reply(id, std::move(result));
        });
      },
      unavailable);
  return std::nullopt;
}

std::optional<Failure> Session::OrderStatus(const json& id, const json& params) {
  uint64_t order = 0, coid = 0;
  if (auto f = NeedU64(params, "order_id", &order, /*required=*/false)) return f;
  if (auto f = NeedU64(params, "client_order_id", &coid, /*required=*/false)) return f;
  if ((order == 0) == (coid == 0)) return Failure{kBadParams, "give exactly one of 'order_id' and 'client_order_id'"};
  std::weak_ptr<Session> weak = weak_from_this();
  asio::io_context& io = gateway_->io();
  const rules::AccountId account = *account_;
  // On the engine thread: the placing event's stored proof (by order id = its sequence, or via
  // the client order id index) and whether the order still rests.
  gateway_->backend().Query(
      [weak, id, &io, account, order, coid](DurableMatcher& m) mutable {
        std::optional<Failure> failure;
        json result;
        if (coid != 0) {
          absl::StatusOr<std::optional<uint64_t>> seq = m.store().FindClientOrder(account, coid);
          if (!seq.ok() || !seq->has_value()) {
            failure = Failure{kNotFound, absl::StrCat("no order with client_order_id ", coid)};
          } else {
            order = **seq;
          }
        }
        v1::Proof proof;
        if (!failure.has_value()) {
          absl::StatusOr<std::optional<std::string>> stored = m.store().ReadProof(order);
          if (!stored.ok() || !stored->has_value() || !proof.ParseFromString(**stored) ||
              proof.command().signer() != std::string(account.bytes.begin(), account.bytes.end()) ||
              !proof.command().has_place()) {
            failure = Failure{kNotFound, absl::StrCat("no order ", order, " of this account (or its proof was pruned)")};
          }
        }
        if (!failure.has_value()) {
          absl::StatusOr<rules::Outcome> outcome = codec::FromProto(proof.outcome());
          result = outcome.ok() ? OutcomeJson(*outcome) : json::object();
          result["sequence"] = order;
          result["client_order_id"] = proof.command().place().client_order_id();
          result["root"] = Hex(std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(proof.new_root().data()),
                                                        proof.new_root().size()));
          const matcher::FastState::Book* book =
              m.engine().state().FindBook(codec::MarketFromProto(proof.command().place().market()));
          auto resting = book == nullptr ? decltype(book->orders)::const_iterator() : book->orders.find(order);
          const bool open = book != nullptr && resting != book->orders.end();
          result["open"] = open;
          result["unfilled"] = open ? Dec(resting->second.unfilled.raw()) : "0";
        }
        asio::post(io, [weak, id, result = std::move(result), failure]() mutable {
          std::shared_ptr<Session> self = weak.lock();
          if (!self) return;
          if (failure.has_value()) return self->Error(id, *failure);
          self->Reply(id, std::move(result));
        });
      },
      [weak, id, &io] {
        asio::post(io, [weak, id] {
          if (auto self = weak.lock()) self->Error(id, Failure{kUnavailable, "the matcher is stopping"});
        });
      });
  return std::nullopt;
}

// ---- The gateway ----

absl::Status Gateway::Impl::Start(const DurableMatcher& matcher) {
  data_.Load(matcher.engine().state(), matcher.sequence());
  // A new sequence space per gateway start: its wall-clock start in milliseconds.
  epoch_ = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count());
  const size_t colon = options_.listen.rfind(':');
  if (colon == std::string::npos) return absl::InvalidArgumentError("the WebSocket address must be HOST:PORT");
  beast::error_code ec;
  const asio::ip::address address = asio::ip::make_address(options_.listen.substr(0, colon), ec);
  uint32_t port = 0;
  if (ec || !absl::SimpleAtoi(options_.listen.substr(colon + 1), &port) || port > 65535) {
    return absl::InvalidArgumentError(absl::StrCat("bad WebSocket address ", options_.listen));
  }
  const tcp::endpoint endpoint(address, static_cast<uint16_t>(port));
  acceptor_.open(endpoint.protocol(), ec);
  if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) acceptor_.bind(endpoint, ec);
  if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return absl::UnavailableError(absl::StrCat("cannot listen on ", options_.listen, ": ", ec.message()));
  port_ = acceptor_.local_endpoint().port();
  Accept();
  Beat();
  thread_ = std::thread([this] { io_.run(); });
  return absl::OkStatus();
}

void Gateway::Impl::Stop() {
  if (stop_called_) return;
  stop_called_ = true;
  asio::post(io_, [self = this] {
    self->stopped_ = true;
    beast::error_code ec;
    self->acceptor_.close(ec);
    self->heartbeat_.cancel();
    for (auto& weak : self->sessions_) {
      if (auto s = weak.lock()) s->Close(websocket::close_code::going_away, "the server is stopping");
    }
  });
  // Give the close handshakes a moment, then stop.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  io_.stop();
  if (thread_.joinable()) thread_.join();
}

void Gateway::Impl::Accept() {
  acceptor_.async_accept([self = this](beast::error_code ec, tcp::socket socket) {
    if (self->stopped_) return;
    if (!ec) {
      auto session = std::make_shared<Session>(std::move(socket), self);
      self->stats_.connections_opened.fetch_add(1, std::memory_order_relaxed);
      const bool over = ++self->per_address_[session->address()] > self->options_.max_connections_per_address;
      self->Register(session);
      session->Start(over);
    }
    self->Accept();
  });
}

void Gateway::Impl::Register(const std::shared_ptr<Session>& s) {
  std::erase_if(sessions_, [](const std::weak_ptr<Session>& w) { return w.expired(); });
  sessions_.push_back(s);
}

void Gateway::Impl::Unregister(Session*, const std::string& address) {
  auto it = per_address_.find(address);
  if (it != per_address_.end() && --it->second == 0) per_address_.erase(it);
}

std::string Gateway::Impl::BookSnapshot(rules::MarketId market) const {
  const BookTop top = data_.Top(market, 1'000'000);
  return json{{"channel", "book"},
              {"type", "snapshot"},
              {"market", MarketName(market)},
              {"seq", data_.MarketSequence(market)},
              {"epoch", epoch_},
              {"event", data_.last_event()},
              {"bids", LevelsJson(top.bids)},
              {"asks", LevelsJson(top.asks)},
              {"checksum", MarketData::Checksum(data_.Top(market, 10))}}
      .dump();
}

void Gateway::Impl::Beat() {
  heartbeat_.expires_after(options_.heartbeat);
  heartbeat_.async_wait([self = this](beast::error_code ec) {
    if (ec || self->stopped_) return;
    const std::string beat = json{{"channel", "heartbeat"}, {"sequence", self->data_.last_event()}}.dump();
    for (auto& weak : self->sessions_) {
      if (auto s = weak.lock()) s->Send(beat);
    }
    self->Beat();
  });
}

void Gateway::Impl::Publish(std::vector<std::shared_ptr<const rules::EventProof>> events) {
  asio::post(io_, [self = this, events = std::move(events)] {
    for (const auto& event : events) {
      if (event->sequence.value <= self->data_.last_event()) continue;  // already in the loaded state
      const Published published = self->data_.Apply(*event);
      self->Fanout(published, event->sequence.value);
    }
  });
}

void Gateway::Impl::Fanout(const Published& published, uint64_t event) {
  // Each message is serialized once, for the first connection that wants it, and shared by every
  // other one; a message nobody subscribed to is never serialized.
  struct Message {
    Session::SubscriptionKey key;              // market data (empty for executions)
    std::optional<rules::MarketId> book;       // a book delta's market
    std::optional<rules::AccountId> account;   // an execution's owner
    std::function<std::string()> serialize;
    std::shared_ptr<const std::string> text;
    const std::shared_ptr<const std::string>& Text() {
      if (!text) text = std::make_shared<const std::string>(serialize());
      return text;
    }
  };
  std::vector<Message> messages;
  for (const BookDelta& d : published.books) {
    messages.push_back({{"book", MarketName(d.market)}, d.market, std::nullopt, [this, &d] {
                          return json{{"channel", "book"},
                                      {"type", "delta"},
                                      {"market", MarketName(d.market)},
                                      {"seq", d.market_sequence},
                                      {"epoch", epoch_},
                                      {"event", d.event},
                                      {"bids", LevelsJson(d.bids)},
                                      {"asks", LevelsJson(d.asks)},
                                      {"checksum", d.checksum}}
                              .dump();
                        }, nullptr});
  }
  if (!published.trades.empty()) {
    messages.push_back({{"trades", MarketName(published.trades[0].market)}, std::nullopt, std::nullopt, [&published, event] {
                          json list = json::array();
                          for (const Trade& t : published.trades) {
                            list.push_back(json{{"price", Dec(t.price)},
                                                {"amount", Dec(t.amount)},
                                                {"taker_side", t.taker_side == rules::Side::kBuy ? "buy" : "sell"},
                                                {"maker_order", t.maker_order},
                                                {"taker_order", t.taker_order}});
                          }
                          return json{{"channel", "trades"}, {"market", MarketName(published.trades[0].market)},
                                      {"event", event}, {"trades", list}}
                              .dump();
                        }, nullptr});
  }
  for (const Execution& e : published.executions) {
    messages.push_back({{}, std::nullopt, e.account, [&e] {
                          json fills = json::array();
                          for (const rules::Fill& f : e.fills) fills.push_back(FillJson(f));
                          json cancelled = json::array();
                          for (uint64_t c : e.cancelled) cancelled.push_back(c);
                          return json{{"channel", "executions"},
                                      {"kind", e.kind},
                                      {"sequence", e.event},
                                      {"root", Hex(e.root.span())},
                                      {"status", e.reject == 0 ? "accepted"
                                                               : std::string(rules::RejectCodeName(static_cast<rules::RejectCode>(e.reject)))},
                                      {"market", MarketName(e.market)},
                                      {"order_id", e.order},
                                      {"client_order_id", e.client_order_id},
                                      {"fills", fills},
                                      {"resting", Dec(e.resting)},
                                      {"cancelled", cancelled}}
                              .dump();
                        }, nullptr});
  }
  for (auto& weak : sessions_) {
    std::shared_ptr<Session> s = weak.lock();
    if (!s) continue;
    for (Message& m : messages) {
      if (m.account.has_value() ? s->WantsExecutions(*m.account) : s->Subscribed(m.key)) s->Send(m.Text(), m.book);
    }
  }
}

// ---- Gateway ----

Gateway::Gateway(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Gateway::~Gateway() { Stop(); }

absl::StatusOr<std::unique_ptr<Gateway>> Gateway::Start(GatewayOptions options, GatewayBackend* backend,
                                                         const DurableMatcher& matcher) {
  auto impl = std::make_unique<Impl>(std::move(options), backend);
  if (absl::Status s = impl->Start(matcher); !s.ok()) return s;
  return std::unique_ptr<Gateway>(new Gateway(std::move(impl)));
}

int Gateway::port() const { return impl_->port(); }
const GatewayStats& Gateway::stats() const { return impl_->stats(); }

void Gateway::Publish(std::vector<std::shared_ptr<const rules::EventProof>> events) { impl_->Publish(std::move(events)); }

void Gateway::Stop() {
  if (impl_) {
    impl_->Stop();
  }
}

}  // namespace pom::gateway

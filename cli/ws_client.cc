#include "cli/ws_client.h"

#include <optional>
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "proto/book_checksum.h"

namespace pom::client {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using json = nlohmann::json;

absl::StatusOr<u128> Decimal(const json& v) {
  if (!v.is_string()) return absl::DataLossError("a decimal that is not a string");
  return ParseDecimal(v.get<std::string>());
}

}  // namespace

class WsClient::Impl {
 public:
  Impl() : ws_(io_) {}

  absl::Status Connect(const std::string& url, std::chrono::milliseconds timeout) {
    timeout_ = timeout;
    constexpr std::string_view kScheme = "ws://";
    if (url.rfind(kScheme, 0) != 0) return absl::InvalidArgumentError("the WebSocket URL must be ws://HOST:PORT");
    const std::string hostport = url.substr(kScheme.size());
    const size_t colon = hostport.rfind(':');
    uint32_t port = 0;
    if (colon == std::string::npos || !absl::SimpleAtoi(hostport.substr(colon + 1), &port) || port > 65535) {
      return absl::InvalidArgumentError("the WebSocket URL must be ws://HOST:PORT");
    }
    beast::error_code ec;
    tcp::resolver resolver(io_);
    auto endpoints = resolver.resolve(hostport.substr(0, colon), std::to_string(port), ec);
    if (!ec) beast::get_lowest_layer(ws_).connect(endpoints, ec);
    if (!ec) ws_.handshake(hostport, "/", ec);
    if (ec) return absl::UnavailableError(absl::StrCat("WebSocket ", url, ": ", ec.message()));
    ws_.text(true);
    return absl::OkStatus();
  }

  // The next message from the server, or DeadlineExceeded.
  absl::StatusOr<json> Read(std::chrono::milliseconds timeout) {
    std::optional<beast::error_code> done;
    ws_.async_read(buffer_, [&](beast::error_code ec, size_t) { done = ec; });
    io_.restart();
    io_.run_for(timeout);
    if (!done.has_value()) {
      beast::get_lowest_layer(ws_).cancel();
      io_.restart();
      io_.run();
      return absl::DeadlineExceededError("no message from the server in time");
    }
    if (*done) return absl::UnavailableError(absl::StrCat("WebSocket read: ", done->message()));
    json msg = json::parse(beast::buffers_to_string(buffer_.data()), nullptr, false);
    buffer_.consume(buffer_.size());
    if (msg.is_discarded()) return absl::DataLossError("the server sent something that is not JSON");
    return msg;
  }

  absl::Status Write(const std::string& text) {
    beast::error_code ec;
    ws_.write(asio::buffer(text), ec);
    if (ec) return absl::UnavailableError(absl::StrCat("WebSocket write: ", ec.message()));
    return absl::OkStatus();
  }

  absl::StatusOr<json> Call(const std::string& method, const json& params) {
    const uint64_t id = next_id_++;
    POM_RETURN_IF_ERROR(Write(json{{"id", id}, {"method", method}, {"params", params}}.dump()));
    const auto end = std::chrono::steady_clock::now() + timeout_;
    while (true) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(end - std::chrono::steady_clock::now());
      if (left.count() <= 0) return absl::DeadlineExceededError(absl::StrCat(method, ": no answer in time"));
      POM_ASSIGN_OR_RETURN(json msg, Read(left));
      if (msg.contains("id") && msg["id"].is_number_unsigned() && msg["id"].get<uint64_t>() == id) {
        if (msg.contains("result")) return msg["result"];
        const json& e = msg.value("error", json::object());
        return absl::FailedPreconditionError(
            absl::StrCat(method, ": error ", e.value("code", 0), ": ", e.value("message", std::string("?"))));
      }
      pushes_.push_back(std::move(msg));
    }
  }

  absl::StatusOr<json> NextPush(std::chrono::milliseconds timeout) {
    if (!pushes_.empty()) {
      json msg = std::move(pushes_.front());
      pushes_.pop_front();
      return msg;
    }
    return Read(timeout);
  }

 private:
  asio::io_context io_;
  websocket::stream<beast::tcp_stream> ws_;
  beast::flat_buffer buffer_;
  std::deque<json> pushes_;
  uint64_t next_id_ = 1;
  std::chrono::milliseconds timeout_{5000};
};

WsClient::WsClient(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
WsClient::~WsClient() = default;

absl::StatusOr<std::unique_ptr<WsClient>> WsClient::Connect(const std::string& url, std::chrono::milliseconds timeout) {
  auto impl = std::make_unique<Impl>();
  POM_RETURN_IF_ERROR(impl->Connect(url, timeout));
  POM_ASSIGN_OR_RETURN(json hello, impl->Read(timeout));
  if (hello.value("channel", std::string()) != "session" || !hello.contains("prover_id")) {
    return absl::UnavailableError(absl::StrCat("no session message from ", url));
  }
  std::unique_ptr<WsClient> client(new WsClient(std::move(impl)));
  POM_ASSIGN_OR_RETURN(client->prover_id_, Bytes32FromHex(hello["prover_id"].get<std::string>()));
  client->challenge_hex_ = hello.value("challenge", std::string());
  return client;
}

absl::Status WsClient::Logon(const KeyPair& key) {
  POM_ASSIGN_OR_RETURN(std::vector<uint8_t> challenge, FromHex(challenge_hex_));
  const std::string tag = "pom.logon.v1";
  std::vector<uint8_t> message(tag.begin(), tag.end());
  message.insert(message.end(), prover_id_.bytes.begin(), prover_id_.bytes.end());
  message.insert(message.end(), challenge.begin(), challenge.end());
  const Signature signature = Sign(key.secret_key, message);
  return impl_->Call("logon", json{{"account", ToHex(key.public_key.bytes)}, {"signature", ToHex(signature.bytes)}}).status();
}

absl::StatusOr<json> WsClient::Call(const std::string& method, const json& params) { return impl_->Call(method, params); }

absl::StatusOr<json> WsClient::NextPush(std::chrono::milliseconds timeout) { return impl_->NextPush(timeout); }

absl::Status LocalBook::Apply(const json& message) {
  const std::string type = message.value("type", std::string());
  if (type == "resync") {
    ready_ = false;  // a snapshot follows
    return absl::OkStatus();
  }
  const uint64_t seq = message.value("seq", uint64_t{0});
  auto apply_side = [&](const char* side, auto& levels, bool replace) -> absl::Status {
    if (replace) levels.clear();
    for (const json& level : message.value(side, json::array())) {
      if (!level.is_array() || level.size() != 2) return absl::DataLossError("a malformed book level");
      POM_ASSIGN_OR_RETURN(const u128 price, Decimal(level[0]));
      POM_ASSIGN_OR_RETURN(const u128 amount, Decimal(level[1]));
      if (amount == 0) {
        levels.erase(price);
      } else {
        levels[price] = amount;
      }
    }
    return absl::OkStatus();
  };
  if (type == "snapshot") {
    POM_RETURN_IF_ERROR(apply_side("bids", bids_, true));
    POM_RETURN_IF_ERROR(apply_side("asks", asks_, true));
    ready_ = true;
  } else if (type == "delta") {
    if (!ready_) return absl::OkStatus();  // waiting for the snapshot after a resync
    if (seq != sequence_ + 1) {
      return absl::DataLossError(absl::StrCat("book sequence ", seq, " after ", sequence_, ": a message was lost"));
    }
    POM_RETURN_IF_ERROR(apply_side("bids", bids_, false));
    POM_RETURN_IF_ERROR(apply_side("asks", asks_, false));
  } else {
    return absl::DataLossError(absl::StrCat("unknown book message type '", type, "'"));
  }
  sequence_ = seq;
  std::vector<wire::PriceLevel> bids(bids_.begin(), bids_.end()), asks(asks_.begin(), asks_.end());
  const uint32_t mine = wire::BookChecksum(bids, asks);
  if (mine != message.value("checksum", uint32_t{0})) {
    return absl::DataLossError(absl::StrCat("book checksum mismatch at sequence ", seq, ": local ", mine, ", server ",
                                            message.value("checksum", uint32_t{0})));
  }
  return absl::OkStatus();
}

}  // namespace pom::client

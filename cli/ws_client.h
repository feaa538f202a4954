// A blocking WebSocket client of the matcher's gateway (docs/websocket-api.md) for pom-cli:
// connect, log on by signing the challenge, requests with ids, and the pushed messages between
// them; plus a local book kept from snapshot and deltas, checking the per-market sequence and
// the CRC32 of every message.
// Thread-safety: not thread-safe; one owner.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "absl/status/statusor.h"
#include "common/ed25519.h"
#include "common/money.h"

namespace pom::client {

class WsClient {
 public:
  // `url` is ws://HOST:PORT. Errors: Unavailable if it cannot connect or no session message comes.
  static absl::StatusOr<std::unique_ptr<WsClient>> Connect(const std::string& url, std::chrono::milliseconds timeout);
  ~WsClient();

  const Bytes32& prover_id() const { return prover_id_; }
  absl::Status Logon(const KeyPair& key);
  // Sends a request and waits for its response: the "result", or an error status carrying the
  // server's error code and message. Pushed messages that arrive meanwhile are kept for NextPush.
  absl::StatusOr<nlohmann::json> Call(const std::string& method, const nlohmann::json& params);
  // The next server push (book, trades, executions, heartbeat). Errors: DeadlineExceeded.
  absl::StatusOr<nlohmann::json> NextPush(std::chrono::milliseconds timeout);

  class Impl;

 private:
  explicit WsClient(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
  Bytes32 prover_id_;
  std::string challenge_hex_;
};

// A market's book from a snapshot and deltas. Apply returns DataLoss if a delta skips a
// sequence or a message's checksum does not match the book it leaves.
class LocalBook {
 public:
  absl::Status Apply(const nlohmann::json& message);
  uint64_t sequence() const { return sequence_; }
  const std::map<u128, u128, std::greater<u128>>& bids() const { return bids_; }
  const std::map<u128, u128>& asks() const { return asks_; }
  bool ready() const { return ready_; }

 private:
  std::map<u128, u128, std::greater<u128>> bids_;
  std::map<u128, u128> asks_;
  uint64_t sequence_ = 0;
  bool ready_ = false;
};

}  // namespace pom::client

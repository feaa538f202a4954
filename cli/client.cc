#include "cli/client.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <optional>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "common/hash.h"
#include "common/rules/records.h"
#include "common/smt/multiproof.h"
#include "common/status_macros.h"
#include "proto/codec.h"
#include "proto/rpc.h"

namespace pom::client {

absl::Status WriteKeyFile(const std::string& path, const Bytes32& seed) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return absl::FailedPreconditionError(absl::StrCat("create ", path, ": ", std::strerror(errno)));
  const std::string line = ToHex(seed) + "\n";
  const bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) && ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) return absl::InternalError(absl::StrCat("write ", path, ": ", std::strerror(errno)));
  return absl::OkStatus();
}

absl::StatusOr<KeyPair> ReadKeyFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read key file ", path));
  std::string line;
  std::getline(in, line);
  absl::StatusOr<Bytes32> seed = Bytes32FromHex(std::string(absl::StripAsciiWhitespace(line)));
  if (!seed.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("key file ", path, " must hold 64 hex digits (a 32-byte seed)"));
  }
  return KeyPairFromSeed(*seed);
}

uint64_t FreshNonce() {
  static std::atomic<uint64_t> last{0};
  const uint64_t now = static_cast<uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::system_clock::now().time_since_epoch())
          .count());
  uint64_t prev = last.load();
  uint64_t next;
  do {
    next = std::max(now, prev + 1);
  } while (!last.compare_exchange_weak(prev, next));
  return next;
}

absl::Status VerifyStateProof(const v1::StateProof& proof) {
  POM_ASSIGN_OR_RETURN(const Bytes32 root, rpc::Bytes32FromWire(proof.root(), "proof.root"));
  std::vector<smt::SmtLeaf> leaves;
  for (const v1::LeafValue& leaf : proof.leaves()) {
    if (leaf.raw_key().empty() || leaf.raw_key().size() > 37) return absl::DataLossError("a proof leaf has a bad key");
    rules::RawKey raw;
    raw.size = static_cast<uint8_t>(leaf.raw_key().size());
    std::memcpy(raw.bytes.data(), leaf.raw_key().data(), raw.size);
    POM_ASSIGN_OR_RETURN(const Bytes32 value, rpc::Bytes32FromWire(leaf.value(), "leaf.value"));
    if (!leaf.record().empty()) {
      const std::span<const uint8_t> record(reinterpret_cast<const uint8_t*>(leaf.record().data()),
                                            leaf.record().size());
      if (rules::RecordHashOfEncoding(raw.kind(), record) != value) {
        return absl::DataLossError(absl::StrCat("the record of leaf ", ToHex(raw.span()), " does not hash to its value"));
      }
    }
    leaves.push_back({rules::TreeKey(raw), value});
  }
  Sha256Hasher hasher;
  const std::span<const uint8_t> program(reinterpret_cast<const uint8_t*>(proof.multiproof().data()),
                                         proof.multiproof().size());
  absl::StatusOr<Bytes32> proven = smt::ComputeMultiproofRoot(hasher, program, std::move(leaves));
  if (!proven.ok()) return absl::DataLossError(absl::StrCat("malformed state proof: ", proven.status().message()));
  if (*proven != root) {
    return absl::DataLossError(absl::StrCat("the state proof gives root ", ToHex(*proven), ", not ", ToHex(root)));
  }
  return absl::OkStatus();
}

Client::Client(const std::string& matcher, const std::string& verifier, std::chrono::milliseconds deadline)
    : matcher_(v1::Matcher::NewStub(rpc::MakeChannel(matcher.empty() ? "127.0.0.1:1" : matcher))),
      verifier_(v1::Verifier::NewStub(rpc::MakeChannel(verifier.empty() ? "127.0.0.1:1" : verifier))),
      has_matcher_(!matcher.empty()),
      deadline_(deadline) {}

namespace {
// One unary call with the client's deadline, gRPC status turned into absl.
template <typename Response, typename Call>
absl::StatusOr<Response> Unary(std::chrono::milliseconds deadline, Call call) {
  grpc::ClientContext context;
  rpc::SetDeadline(context, deadline);
  Response response;
  POM_RETURN_IF_ERROR(rpc::FromGrpc(call(&context, &response)));
  return response;
}
}  // namespace

absl::StatusOr<Bytes32> Client::ProverId() {
  if (prover_id_.has_value()) return *prover_id_;
  std::string hex;
  if (has_matcher_) {
    POM_ASSIGN_OR_RETURN(v1::MatcherStatus status, MatcherStatus());
    hex = status.prover_id();
  } else {
    POM_ASSIGN_OR_RETURN(v1::VerifierStatus status, VerifierStatus());
    hex = status.prover_id();
  }
  POM_ASSIGN_OR_RETURN(Bytes32 id, Bytes32FromHex(hex));
  prover_id_ = id;
  return id;
}

absl::Status Client::Sign(const KeyPair& key, rules::Command& command) {
  POM_ASSIGN_OR_RETURN(const Bytes32 prover, ProverId());
  command.signer = key.public_key;
  if (command.nonce == 0) command.nonce = FreshNonce();
  rules::SignCommand(prover, key.secret_key, command);
  return absl::OkStatus();
}

absl::StatusOr<v1::SubmitResponse> Client::Submit(const rules::Command& command) {
  v1::SubmitRequest request;
  codec::ToProto(command, request.mutable_command());
  return Unary<v1::SubmitResponse>(deadline_, [&](grpc::ClientContext* c, v1::SubmitResponse* r) {
    return matcher_->Submit(c, request, r);
  });
}

absl::StatusOr<v1::AuthorizeResponse> Client::Authorize(const rules::Command& deposit) {
  v1::AuthorizeRequest request;
  codec::ToProto(deposit, request.mutable_deposit());
  return Unary<v1::AuthorizeResponse>(deadline_, [&](grpc::ClientContext* c, v1::AuthorizeResponse* r) {
    return verifier_->Authorize(c, request, r);
  });
}

absl::StatusOr<v1::GetAccountResponse> Client::GetAccount(const rules::AccountId& account,
                                                          const std::vector<uint32_t>& currencies) {
  v1::GetAccountRequest request;
  request.set_account(std::string(account.bytes.begin(), account.bytes.end()));
  for (uint32_t c : currencies) request.add_currencies(c);
  POM_ASSIGN_OR_RETURN(v1::GetAccountResponse response,
                       (Unary<v1::GetAccountResponse>(deadline_, [&](grpc::ClientContext* c, v1::GetAccountResponse* r) {
                         return matcher_->GetAccount(c, request, r);
                       })));
  POM_RETURN_IF_ERROR(VerifyStateProof(response.proof()));
  // The balances shown must be the proven leaves.
  for (int i = 0; i < response.balances_size(); ++i) {
    const v1::AccountBalance& b = response.balances(i);
    if (i >= response.proof().leaves_size()) return absl::DataLossError("the proof lacks a balance leaf");
    const std::string& value = response.proof().leaves(i).value();
    if (value.substr(0, 16) != b.available() || value.substr(16, 16) != b.frozen()) {
      return absl::DataLossError(absl::StrCat("balance of currency ", b.currency(), " differs from its proven leaf"));
    }
  }
  return response;
}

absl::StatusOr<v1::GetBookResponse> Client::GetBook(rules::MarketId market, uint32_t depth) {
  v1::GetBookRequest request;
  codec::MarketToProto(market, request.mutable_market());
  request.set_depth(depth);
  POM_ASSIGN_OR_RETURN(v1::GetBookResponse response,
                       (Unary<v1::GetBookResponse>(deadline_, [&](grpc::ClientContext* c, v1::GetBookResponse* r) {
                         return matcher_->GetBook(c, request, r);
                       })));
  POM_RETURN_IF_ERROR(VerifyStateProof(response.proof()));
  POM_RETURN_IF_ERROR(CheckBookAgainstProof(response, depth == 0 ? 10 : depth));
  return response;
}

absl::Status CheckBookAgainstProof(const v1::GetBookResponse& book, uint32_t depth) {
  const v1::StateProof& proof = book.proof();
  const size_t levels = static_cast<size_t>(book.bids_size() + book.asks_size());
  if (proof.leaves_size() != static_cast<int>(3 + 2 * levels)) {
    return absl::DataLossError("the book proof does not hold the market, best price, book and level leaves");
  }
  POM_ASSIGN_OR_RETURN(const Bytes32 best_value, rpc::Bytes32FromWire(proof.leaves(1).value(), "bestprice"));
  const rules::BestPrices best = rules::BestPricesFromValue(best_value);
  int leaf = 3;
  for (const bool bids : {true, false}) {
    const auto& side = bids ? book.bids() : book.asks();
    u128 expected = bids ? best.bid.raw() : best.ask.raw();  // the next level's price (0: none)
    for (int i = 0; i < side.size(); ++i, leaf += 2) {
      POM_ASSIGN_OR_RETURN(const u128 price, codec::U128FromBytes(side[i].price(), "price"));
      POM_ASSIGN_OR_RETURN(const u128 amount, codec::U128FromBytes(side[i].amount(), "amount"));
      if (price != expected) {
        return absl::DataLossError(absl::StrCat("book level ", i, " is not the next proven level: a level was left out"));
      }
      POM_ASSIGN_OR_RETURN(const Bytes32 volume_value, rpc::Bytes32FromWire(proof.leaves(leaf).value(), "orderpage"));
      absl::StatusOr<Amount> volume = rules::PageVolumeFromValue(volume_value);
      if (!volume.ok() || volume->raw() != amount) {
        return absl::DataLossError(absl::StrCat("book level ", i, " amount differs from its proven orderpage leaf"));
      }
      const std::string& record = proof.leaves(leaf + 1).record();
      absl::StatusOr<rules::PageRecord> page = rules::DecodePageRecord(
          std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(record.data()), record.size()));
      if (!page.ok() || page->side != (bids ? rules::Side::kBuy : rules::Side::kSell)) {
        return absl::DataLossError(absl::StrCat("book level ", i, " has no proven page record of its side"));
      }
      expected = page->worse.raw();
    }
    // A side shorter than the depth asked for must end where the proven chain ends.
    if (static_cast<uint32_t>(side.size()) < depth && expected != 0) {
      return absl::DataLossError("the book ends before its proven last level: levels were left out");
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::MatcherStatus> Client::MatcherStatus() {
  return Unary<v1::MatcherStatus>(deadline_, [&](grpc::ClientContext* c, v1::MatcherStatus* r) {
    return matcher_->Status(c, v1::MatcherStatusRequest(), r);
  });
}

absl::StatusOr<v1::Head> Client::VerifierHead() {
  return Unary<v1::Head>(deadline_, [&](grpc::ClientContext* c, v1::Head* r) {
    return verifier_->GetHead(c, v1::GetHeadRequest(), r);
  });
}

absl::StatusOr<v1::GetBalanceResponse> Client::ChainBalance(const rules::AccountId& account, rules::Currency currency) {
  v1::GetBalanceRequest request;
  request.set_account(std::string(account.bytes.begin(), account.bytes.end()));
  request.set_currency(currency.id);
  return Unary<v1::GetBalanceResponse>(deadline_, [&](grpc::ClientContext* c, v1::GetBalanceResponse* r) {
    return verifier_->GetBalance(c, request, r);
  });
}

absl::StatusOr<v1::VerifierStatus> Client::VerifierStatus() {
  return Unary<v1::VerifierStatus>(deadline_, [&](grpc::ClientContext* c, v1::VerifierStatus* r) {
    return verifier_->Status(c, v1::VerifierStatusRequest(), r);
  });
}

absl::Status Client::WaitSequenced(const rules::AccountId& account, uint64_t nonce, std::chrono::milliseconds timeout) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  absl::Status last;
  while (std::chrono::steady_clock::now() < end) {
    absl::StatusOr<v1::GetAccountResponse> r = GetAccount(account, {});
    if (r.ok() && r->nonce() >= nonce) return absl::OkStatus();
    last = r.status();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return absl::DeadlineExceededError(absl::StrCat("nonce ", nonce, " was not sequenced in time (", last.ToString(), ")"));
}

absl::StatusOr<v1::Head> Client::WaitVerified(uint64_t sequence, std::chrono::milliseconds timeout) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  absl::StatusOr<v1::Head> head = absl::UnavailableError("not asked yet");
  while (std::chrono::steady_clock::now() < end) {
    head = VerifierHead();
    if (head.ok() && head->sequence() >= sequence) return head;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return absl::DeadlineExceededError(absl::StrCat("the verifier did not reach sequence ", sequence, " in time (",
                                                  head.ok() ? absl::StrCat("at ", head->sequence()) : head.status().ToString(), ")"));
}

}  // namespace pom::client

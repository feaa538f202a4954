#include "verifier/daemon.h"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <system_error>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "ops/metrics.h"
#include "ops/log.h"
#include "prometheus/counter.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "proto/codec.h"
#include "proto/feed_writer.h"
#include "proto/pom.grpc.pb.h"
#include "proto/rpc.h"
#include "verifier/authorizations.h"
#include "verifier/check.h"
#include "verifier/store.h"
#include "verifier/verify.h"

namespace pom::verify {
namespace {

constexpr size_t kAuthorizationsPerMessage = 1;  // the feed is a stream of single authorizations
// The verified head reaches disk at most this long after it was verified (one synced write per
// interval, however many proofs): a crash re-fetches and re-verifies at most that much.
constexpr std::chrono::milliseconds kCommitInterval{20};

std::string CommandBytes(const rules::Command& command) {
  v1::Command wire;
  codec::ToProto(command, &wire);
  return wire.SerializeAsString();
}

double SecondsSince(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// pom_verifier_* (docs/operations.md "Metrics"); labels: reject reasons only.
struct Metrics {
  explicit Metrics(prometheus::Registry& r)
      : verified(ops::AddCounter(r, "pom_verifier_proofs_verified_total", "Proofs verified and accepted")),
        rejects(ops::AddCounterFamily(r, "pom_verifier_rejects_total", "Proofs rejected, by reason (the follower stops at the first)")),
        verify(ops::AddLatencyHistogram(r, "pom_verifier_verify_seconds", "Per proof: re-running the rules on its witness and checking both roots")),
        head(ops::AddGauge(r, "pom_verifier_head_sequence", "Sequence of the last verified proof")),
        matcher_head(ops::AddGauge(r, "pom_verifier_matcher_head_sequence", "The matcher's last sequence, from its feed")),
        lag(ops::AddGauge(r, "pom_verifier_lag_events", "Events the matcher sequenced that are not verified yet")),
        commits(ops::AddCounter(r, "pom_verifier_commits_total", "Synced commits of the verified head")),
        commit(ops::AddLatencyHistogram(r, "pom_verifier_commit_seconds", "Per commit of the verified head (a synced write)")),
        following(ops::AddGauge(r, "pom_verifier_following", "1 after the first proof batch of the current feed stream")),
        faulty(ops::AddGauge(r, "pom_verifier_faulty", "1 once a proof was rejected: the prover is faulty or cheating")),
        reconnects(ops::AddCounter(r, "pom_verifier_reconnects_total", "Reconnections to the matcher's feed")) {
    for (uint8_t i = 1; i <= static_cast<uint8_t>(RejectReason::kCustody); ++i) {
      const std::string_view name = RejectReasonName(static_cast<RejectReason>(i));
      reject_by_reason.push_back(&rejects.Add({{"reason", std::string(name.substr(0, name.find(':')))}}));
    }
  }
  void Reject(RejectReason reason) {
    const size_t i = static_cast<size_t>(reason);
    if (i >= 1 && i <= reject_by_reason.size()) reject_by_reason[i - 1]->Increment();
  }

  prometheus::Counter& verified;
  prometheus::Family<prometheus::Counter>& rejects;
  std::vector<prometheus::Counter*> reject_by_reason;
  prometheus::Histogram& verify;
  prometheus::Gauge& head;
  prometheus::Gauge& matcher_head;
  prometheus::Gauge& lag;
  prometheus::Counter& commits;
  prometheus::Histogram& commit;
  prometheus::Gauge& following;
  prometheus::Gauge& faulty;
  prometheus::Counter& reconnects;
};

}  // namespace

class VerifierServer::Impl final : public v1::Verifier::CallbackService {
 public:
  explicit Impl(VerifierServiceOptions options) : options_(std::move(options)) {
    if (options_.metrics != nullptr) metrics_ = std::make_unique<Metrics>(*options_.metrics);
  }

  absl::Status Open() {
    POM_ASSIGN_OR_RETURN(VerifierGenesis genesis, LoadVerifierGenesis(options_.genesis_path));
    config_ = genesis.config;
    std::error_code error;
    std::filesystem::create_directories(options_.data_dir, error);
    if (error) return absl::InternalError(absl::StrCat("create directory ", options_.data_dir, ": ", error.message()));
    POM_ASSIGN_OR_RETURN(store_, VerifierStore::Open({options_.data_dir, GenesisDigest(config_, genesis.ledger)}));
    POM_ASSIGN_OR_RETURN(std::optional<VerifierHead> head, store_->Load());
    if (head.has_value()) {
      verifier_.emplace(config_, std::move(head->ledger), head->root, head->sequence);
    } else {
      verifier_.emplace(config_, std::move(genesis.ledger));
    }
    resumed_from_ = verifier_->sequence();
    POM_ASSIGN_OR_RETURN(VerifierStore::StoredAuthorizations stored, store_->LoadAuthorizations());
    next_authorization_ = stored.next_index;
    for (const auto& [index, bytes] : stored.outstanding) {
      v1::Command wire;
      if (!wire.ParseFromString(bytes)) {
        return absl::DataLossError(absl::StrCat("verifier store: authorization ", index, " does not parse"));
      }
      POM_ASSIGN_OR_RETURN(rules::Command deposit, codec::FromProto(wire));
      POM_RETURN_IF_ERROR(book_.Add(index, std::move(deposit)));
    }
    verifier_->RequireAuthorizations(&book_);
    return absl::OkStatus();
  }

  absl::Status Start() {
    POM_ASSIGN_OR_RETURN(rpc::StartedServer started, rpc::StartServer(options_.listen, {this}, {"pom.v1.Verifier"}));
    server_ = std::move(started.server);
    port_ = started.port;
    follower_ = std::thread([this] { Follow(); });
    committer_ = std::thread([this] { CommitLoop(); });
    return absl::OkStatus();
  }

  int port() const { return port_; }
  uint64_t resumed_from() const { return resumed_from_; }
  uint64_t VerifiedSequence() {
    std::lock_guard<std::mutex> lock(mu_);
    return verifier_->sequence();
  }

  void Shutdown() {
    if (shut_down_.exchange(true)) return;
    {
      std::lock_guard<std::mutex> lock(follow_mu_);
      stop_ = true;
      if (follow_context_ != nullptr) follow_context_->TryCancel();
    }
    follow_cv_.notify_all();
    if (follower_.joinable()) follower_.join();
    if (committer_.joinable()) committer_.join();
    (void)CommitHead();  // the last verified head
    // The streams end with UNAVAILABLE; then the server stops at once (every unary call here
    // answers inline, and waiting would only wait for idle clients to notice the GOAWAY).
    hub_.Close();
    rpc::AwaitNoSubscribers(hub_, std::chrono::seconds(2));
    if (server_) server_->Shutdown(std::chrono::system_clock::now());
    log::Info("verifier stopped", {{"sequence", VerifiedSequence()}});
  }

  std::string Health() {
    std::lock_guard<std::mutex> lock(mu_);
    if (state_ == "stopped" && rejection_.ok()) return "stopped: " + last_error_;
    return "";
  }

  bool Alive() {
    std::lock_guard<std::mutex> lock(mu_);
    return !(state_ == "stopped" && rejection_.ok());  // a store failure: let systemd restart it
  }

  void SampleMetrics() {
    if (!metrics_) return;
    std::lock_guard<std::mutex> lock(mu_);
    const uint64_t head = verifier_->sequence();
    metrics_->head.Set(static_cast<double>(head));
    metrics_->matcher_head.Set(static_cast<double>(matcher_head_));
    metrics_->lag.Set(static_cast<double>(matcher_head_ > head ? matcher_head_ - head : 0));
    metrics_->following.Set(state_ == "following" ? 1 : 0);
    metrics_->faulty.Set(rejection_.ok() ? 0 : 1);
  }

  // ---- pom.v1.Verifier ----

  grpc::ServerUnaryReactor* GetHead(grpc::CallbackServerContext* context, const v1::GetHeadRequest*,
                                    v1::Head* response) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      response->set_sequence(verifier_->sequence());
      response->set_root(rpc::WireBytes(verifier_->root()));
    }
    return Done(context, grpc::Status::OK);
  }

  grpc::ServerUnaryReactor* GetBalance(grpc::CallbackServerContext* context, const v1::GetBalanceRequest* request,
                                       v1::GetBalanceResponse* response) override {
    absl::StatusOr<Bytes32> account = rpc::Bytes32FromWire(request->account(), "account");
    if (!account.ok()) return Done(context, rpc::ToGrpc(account.status()));
    rules::AccountId user;
    user.bytes = account->bytes;
    const rules::Currency currency{request->currency()};
    std::lock_guard<std::mutex> lock(mu_);
    const Amount chain = verifier_->ledger().ChainBalance(user, currency);
    const Amount reserved = book_.Reserved(user, currency);
    response->set_chain(codec::U128Bytes(chain.raw() - reserved.raw()));
    response->set_reserved(codec::U128Bytes(reserved.raw()));
    response->set_custody(codec::U128Bytes(verifier_->ledger().Custody(currency).raw()));
    response->set_sequence(verifier_->sequence());
    return Done(context, grpc::Status::OK);
  }

  grpc::ServerUnaryReactor* Authorize(grpc::CallbackServerContext* context, const v1::AuthorizeRequest* request,
                                      v1::AuthorizeResponse* response) override {
    return Done(context, rpc::ToGrpc(RecordAuthorization(request->deposit(), response)));
  }

  grpc::ServerWriteReactor<v1::Authorization>* WatchAuthorizations(
      grpc::CallbackServerContext*, const v1::WatchAuthorizationsRequest* request) override {
    uint64_t next = std::max<uint64_t>(1, request->from_authorization());
    return new rpc::FeedWriter<v1::Authorization>(
        &hub_, [this, next](v1::Authorization* out) mutable -> absl::StatusOr<bool> {
          std::lock_guard<std::mutex> lock(mu_);
          const std::vector<AuthorizationBook::Entry> entries = book_.From(next, kAuthorizationsPerMessage);
          if (entries.empty()) return false;
          out->set_index(entries[0].index);
          codec::ToProto(entries[0].deposit, out->mutable_deposit());
          next = entries[0].index + 1;
          return true;
        });
  }

  grpc::ServerUnaryReactor* Status(grpc::CallbackServerContext* context, const v1::VerifierStatusRequest*,
                                   v1::VerifierStatus* response) override {
    {
      std::lock_guard<std::mutex> lock(mu_);
      response->set_sequence(verifier_->sequence());
      response->set_root(rpc::WireBytes(verifier_->root()));
      response->set_state(state_);
      response->set_faulty_sequence(faulty_sequence_);
      response->set_reject_reason(static_cast<uint32_t>(rejection_.reason));
      if (!rejection_.ok()) {
        // The stable short name: RejectReasonName is "name: explanation".
        const std::string_view name = RejectReasonName(rejection_.reason);
        response->set_reject_name(std::string(name.substr(0, name.find(':'))));
      }
      response->set_reject_detail(rejection_.detail);
      response->set_proofs_verified(proofs_verified_);
      response->set_authorizations_outstanding(book_.size());
      response->set_reconnects(reconnects_);
      response->set_last_error(last_error_);
    }
    response->set_prover_id(ToHex(config_.prover_id));
    response->set_operator_key(ToHex(config_.operator_account.bytes));
    response->set_matcher(options_.matcher);
    return Done(context, grpc::Status::OK);
  }

 private:
  static grpc::ServerUnaryReactor* Done(grpc::CallbackServerContext* context, const grpc::Status& status) {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(status);
    return reactor;
  }

  absl::Status RecordAuthorization(const v1::Command& wire, v1::AuthorizeResponse* response) {
    POM_ASSIGN_OR_RETURN(rules::Command deposit, codec::FromProto(wire));
    const auto* body = std::get_if<rules::Deposit>(&deposit.body);
    if (body == nullptr) return absl::InvalidArgumentError("an authorization must be a signed deposit command");
    if (body->amount.raw() == 0) return absl::InvalidArgumentError("the deposit amount must be positive");
    if (!CheckSignature(config_, deposit)) {
      return absl::UnauthenticatedError("the deposit is not signed by its signer for this prover");
    }
    std::lock_guard<std::mutex> lock(mu_);
    if (const AuthorizationBook::Entry* existing = book_.Find(deposit.signer, deposit.nonce)) {
      if (CommandBytes(existing->deposit) != CommandBytes(deposit)) {
        return absl::AlreadyExistsError(absl::StrCat("another authorization with nonce ", deposit.nonce,
                                                     " is outstanding for this account"));
      }
      response->set_authorization(existing->index);
      response->set_duplicate(true);
      return absl::OkStatus();
    }
    const Amount chain = verifier_->ledger().ChainBalance(deposit.signer, body->currency);
    const Amount reserved = book_.Reserved(deposit.signer, body->currency);
    if (chain.raw() - reserved.raw() < body->amount.raw()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "insufficient chain-side funds: ", FormatDecimal(chain.raw() - reserved.raw()), " available in currency ",
          body->currency.id, ", ", FormatDecimal(body->amount.raw()), " asked"));
    }
    const uint64_t index = next_authorization_;
    POM_RETURN_IF_ERROR(store_->AddAuthorization(index, CommandBytes(deposit)));
    ++next_authorization_;
    POM_RETURN_IF_ERROR(book_.Add(index, std::move(deposit)));
    response->set_authorization(index);
    hub_.Notify();
    return absl::OkStatus();
  }

  // ---- Following the matcher's proof feed ----

  void Follow() {
    std::unique_ptr<v1::Matcher::Stub> stub = v1::Matcher::NewStub(rpc::MakeChannel(options_.matcher));
    rpc::Backoff backoff;
    while (true) {
      grpc::ClientContext context;
      // Wait for the channel to connect (gRPC retries it every <= 1 s) instead of failing fast,
      // so a matcher that comes up is followed within a second.
      context.set_wait_for_ready(true);
      v1::SubscribeProofsRequest request;
      {
        std::lock_guard<std::mutex> lock(follow_mu_);
        if (stop_) return;
        follow_context_ = &context;
      }
      {
        std::lock_guard<std::mutex> lock(mu_);
        request.set_from_sequence(verifier_->sequence() + 1);
        state_ = "connecting";
      }
      std::unique_ptr<grpc::ClientReader<v1::ProofBatch>> reader = stub->SubscribeProofs(&context, request);
      v1::ProofBatch batch;
      bool rejected = false;
      absl::Status failure;
      while (!rejected && failure.ok() && reader->Read(&batch)) {
        backoff.Reset();
        absl::StatusOr<bool> ok = VerifyBatch(batch);
        if (!ok.ok()) {
          failure = ok.status();
        } else {
          rejected = !*ok;
        }
      }
      if (rejected || !failure.ok()) context.TryCancel();
      const grpc::Status status = reader->Finish();
      {
        std::lock_guard<std::mutex> lock(follow_mu_);
        follow_context_ = nullptr;
      }
      if (!failure.ok()) {
        // The store failed: the head on disk is the last committed one; stop (fail-stop).
        log::Error("verifier stopped: its store failed", {{"error", failure.ToString()}});
        std::lock_guard<std::mutex> lock(mu_);
        state_ = "stopped";
        last_error_ = failure.ToString();
        return;
      }
      if (rejected) return;
      std::unique_lock<std::mutex> lock(follow_mu_);
      if (stop_) return;
      {
        std::lock_guard<std::mutex> head_lock(mu_);
        state_ = "connecting";
        last_error_ = absl::StrCat(status.error_code(), ": ", status.error_message());
        log::Warn("the proof feed ended; reconnecting",
                  {{"code", static_cast<int>(status.error_code())}, {"message", status.error_message()}});
        ++reconnects_;
        if (metrics_) metrics_->reconnects.Increment();
      }
      follow_cv_.wait_for(lock, backoff.Next(), [this] { return stop_; });
    }
  }

  // Verifies one feed message and commits the head. Returns false when a proof was rejected
  // (the follower stops); errors are store failures.
  absl::StatusOr<bool> VerifyBatch(const v1::ProofBatch& batch) {
    std::vector<absl::StatusOr<rules::EventProof>> proofs;
    proofs.reserve(batch.proofs_size());
    std::vector<const rules::EventProof*> decoded;
    decoded.reserve(batch.proofs_size());
    for (const v1::Proof& wire : batch.proofs()) proofs.push_back(codec::FromProto(wire));
    for (const auto& p : proofs) decoded.push_back(p.ok() ? &*p : nullptr);
    const std::vector<char> signature_ok = options_.check_signatures
                                               ? CheckSignaturesParallel(config_, decoded, options_.threads)
                                               : std::vector<char>(proofs.size(), 1);
    std::unique_lock<std::mutex> lock(mu_);
    state_ = "following";
    matcher_head_ = std::max(matcher_head_, batch.head_sequence());
    bool rejected = false;
    for (int i = 0; i < batch.proofs_size() && !rejected; ++i) {
      const uint64_t sequence = batch.proofs(i).sequence();
      if (sequence != 0 && sequence <= verifier_->sequence()) continue;  // already verified
      Verdict verdict;
      if (!proofs[i].ok()) {
        verdict = Verdict{RejectReason::kBadCommand, std::string(proofs[i].status().message())};
      } else if (!signature_ok[i]) {
        verdict = Verdict{RejectReason::kBadSignature, ""};
      } else {
        const auto started = std::chrono::steady_clock::now();
        verdict = verifier_->Verify(*proofs[i], /*signature_checked=*/true);
        if (metrics_) metrics_->verify.Observe(SecondsSince(started));
      }
      if (!verdict.ok()) {
        rejected = true;
        faulty_sequence_ = sequence;
        rejection_ = verdict;
        state_ = "stopped";
        if (metrics_) metrics_->Reject(verdict.reason);
        log::Error("proof rejected: the prover is faulty; keeping the last good root",
                   {{"sequence", sequence},
                    {"reason", RejectReasonName(verdict.reason)},
                    {"detail", verdict.detail},
                    {"head_sequence", verifier_->sequence()},
                    {"head_root", ToHex(verifier_->root())}});
        break;
      }
      ++proofs_verified_;
      if (metrics_) metrics_->verified.Increment();
      dirty_ = true;
      if (verdict.consumed_authorization != 0) consumed_.push_back(verdict.consumed_authorization);
      consumed_.insert(consumed_.end(), verdict.released_authorizations.begin(), verdict.released_authorizations.end());
    }
    lock.unlock();
    // A rejection persists the last good head at once; otherwise the committer thread does it.
    if (rejected) POM_RETURN_IF_ERROR(CommitHead());
    return !rejected;
  }

  // Persists the verified head and the authorizations it consumed, if anything changed since
  // the last commit. Serialized by commit_mu_; the head is copied under mu_ and written outside
  // it, so queries and verification do not wait for the sync.
  absl::Status CommitHead() {
    std::lock_guard<std::mutex> commit_lock(commit_mu_);
    VerifierHead head;
    std::vector<uint64_t> consumed;
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!dirty_) return absl::OkStatus();
      head = VerifierHead{verifier_->sequence(), verifier_->root(), verifier_->ledger()};
      consumed.swap(consumed_);
      dirty_ = false;
    }
    const auto started = std::chrono::steady_clock::now();
    absl::Status s = store_->Commit(head, consumed);
    if (metrics_ && s.ok()) {
      metrics_->commits.Increment();
      metrics_->commit.Observe(SecondsSince(started));
    }
    if (!s.ok()) {
      // Fail-stop: the stored head is the previous one or this one; stop following.
      log::Error("verifier stopped: committing the head failed", {{"error", s.ToString()}});
      std::lock_guard<std::mutex> lock(mu_);
      state_ = "stopped";
      last_error_ = s.ToString();
    }
    return s;
  }

  // Commits the head every kCommitInterval while there is something to commit.
  void CommitLoop() {
    std::unique_lock<std::mutex> lock(follow_mu_);
    while (!stop_) {
      follow_cv_.wait_for(lock, kCommitInterval, [this] { return stop_; });
      lock.unlock();
      const absl::Status s = CommitHead();
      lock.lock();
      if (!s.ok()) {
        stop_ = true;
        if (follow_context_ != nullptr) follow_context_->TryCancel();
      }
    }
  }

  VerifierServiceOptions options_;
  Config config_;
  std::unique_ptr<VerifierStore> store_;
  uint64_t resumed_from_ = 0;
  rpc::FeedHub hub_;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  std::atomic<bool> shut_down_{false};

  // The verified head, the ledger, the authorizations and the status.
  std::mutex mu_;
  std::optional<Verifier> verifier_;
  AuthorizationBook book_;
  uint64_t next_authorization_ = 1;
  std::string state_ = "connecting";
  uint64_t faulty_sequence_ = 0;
  Verdict rejection_;
  uint64_t proofs_verified_ = 0;
  uint64_t reconnects_ = 0;
  uint64_t matcher_head_ = 0;  // from the feed
  std::string last_error_;
  std::unique_ptr<Metrics> metrics_;

  std::vector<uint64_t> consumed_;  // authorizations consumed since the last commit
  bool dirty_ = false;               // verified proofs since the last commit
  std::mutex commit_mu_;

  std::thread follower_;
  std::thread committer_;
  std::mutex follow_mu_;
  std::condition_variable follow_cv_;
  grpc::ClientContext* follow_context_ = nullptr;
  bool stop_ = false;
};

VerifierServer::VerifierServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

VerifierServer::~VerifierServer() { Shutdown(); }

absl::StatusOr<std::unique_ptr<VerifierServer>> VerifierServer::Start(VerifierServiceOptions options) {
  auto impl = std::make_unique<Impl>(std::move(options));
  POM_RETURN_IF_ERROR(impl->Open());
  POM_RETURN_IF_ERROR(impl->Start());
  return std::unique_ptr<VerifierServer>(new VerifierServer(std::move(impl)));
}

int VerifierServer::port() const { return impl_->port(); }
uint64_t VerifierServer::resumed_from() const { return impl_->resumed_from(); }
std::string VerifierServer::Health() const { return impl_->Health(); }
bool VerifierServer::Alive() const { return impl_->Alive(); }
void VerifierServer::SampleMetrics() { impl_->SampleMetrics(); }

void VerifierServer::Shutdown() {
  if (impl_) impl_->Shutdown();
}

}  // namespace pom::verify

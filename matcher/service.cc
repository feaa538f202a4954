#include "matcher/service.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <utility>
#include <variant>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "ops/log.h"
#include "proto/codec.h"
#include "grpcpp/health_check_service_interface.h"
#include "proto/feed_writer.h"
#include "proto/pom.grpc.pb.h"
#include "proto/rpc.h"

namespace pom::matcher {
namespace {

constexpr size_t kMaxBookDepth = 1000;
constexpr size_t kFeedMessageBytes = 1 << 20;  // a feed message stops growing past this

// One queued command: `done` answers the caller on the engine thread.
struct CommandTask {
  rules::Command command;
  bool from_verifier = false;  // an authorization: exempt from the queue limit
  std::function<void(const SubmitResult&)> done;
  std::chrono::steady_clock::time_point enqueued = std::chrono::steady_clock::now();
};
// A query that runs on the engine thread, between batches.
using QueryTask = std::function<void(DurableMatcher&)>;
using Task = std::variant<CommandTask, QueryTask>;

void FillLeaf(const rules::RawKey& key, const Bytes32& value, std::span<const uint8_t> record,
              v1::LeafValue* out) {
  out->set_raw_key(std::string(key.bytes.begin(), key.bytes.begin() + key.size));
  out->set_value(rpc::WireBytes(value));
  if (!record.empty()) out->set_record(std::string(record.begin(), record.end()));
}

}  // namespace

class MatcherServer::Impl final : public v1::Matcher::CallbackService, public gateway::GatewayBackend {
 public:
  Impl(std::unique_ptr<DurableMatcher> matcher, MatcherServiceOptions options)
      : options_(std::move(options)), matcher_(std::move(matcher)) {
    prover_id_bytes_ = matcher_->engine().prover_id();
    prover_id_ = ToHex(prover_id_bytes_);
    operator_key_ = ToHex(matcher_->engine().operator_account().bytes);
    Publish();
  }

  absl::Status Start() {
    if (!options_.ws_listen.empty()) {
      // Before the engine thread: the gateway loads the books from the state as it is now.
      gateway::GatewayOptions go = options_.gateway;
      go.listen = options_.ws_listen;
      POM_ASSIGN_OR_RETURN(gateway_, gateway::Gateway::Start(go, this, *matcher_));
    }
    engine_thread_ = std::thread([this] { EngineLoop(); });
    absl::StatusOr<rpc::StartedServer> started =
        rpc::StartServer(options_.listen, {this}, {"pom.v1.Matcher"});
    if (!started.ok()) {
      StopEngine();
      return started.status();
    }
    server_ = std::move(started->server);
    port_ = started->port;
    health_ = server_->GetHealthCheckService();
    if (!options_.verifier.empty()) follower_ = std::thread([this] { FollowAuthorizations(); });
    return absl::OkStatus();
  }

  int port() const { return port_; }
  int ws_port() const { return gateway_ ? gateway_->port() : 0; }

  // ---- gateway::GatewayBackend ----
  const Bytes32& prover_id() const override { return prover_id_bytes_; }
  void Submit(rules::Command command, std::function<void(const SubmitResult&)> done) override {
    std::function<void(const SubmitResult&)> answer = done;
    if (absl::Status s = Enqueue(CommandTask{std::move(command), false, std::move(done)}); !s.ok()) {
      SubmitResult refused;
      refused.status = s;
      answer(refused);
    }
  }
  void Query(std::function<void(DurableMatcher&)> query, std::function<void()> unavailable) override {
    std::lock_guard<std::mutex> lock(queue_mu_);
    if (engine_stopping_) {
      unavailable();
      return;
    }
    queue_.push_back(QueryTask(std::move(query)));
    queue_cv_.notify_one();
  }

  void Shutdown() {
    if (shut_down_.exchange(true)) return;
    if (grpc::HealthCheckServiceInterface* health = health_.load()) {
      health->SetServingStatus("pom.v1.Matcher", false);
      health->SetServingStatus(false);
    }
    // 1. The follower (it feeds the queue). 2. The engine: new calls get UNAVAILABLE, every
    // queued one is answered, then the thread stops. 3. The proof streams end with UNAVAILABLE.
    // 4. The server, at once: nothing of ours is in flight any more, and waiting would only wait
    // for idle client connections to notice the GOAWAY.
    {
      std::lock_guard<std::mutex> lock(follower_mu_);
      stop_follower_ = true;
      if (follower_context_ != nullptr) follower_context_->TryCancel();
    }
    follower_cv_.notify_all();
    if (follower_.joinable()) follower_.join();
    if (gateway_) gateway_->Stop();  // WebSockets close with 1001
    StopEngine();
    {
      std::lock_guard<std::mutex> lock(gateway_mu_);  // a scrape may be reading its stats
      gateway_.reset();  // after the engine: its callbacks post to the gateway
    }
    hub_.Close();
    rpc::AwaitNoSubscribers(hub_, std::chrono::seconds(2));
    if (server_) server_->Shutdown(std::chrono::system_clock::now());
    if (options_.snapshot_on_shutdown && halt_reason().empty()) {
      if (absl::Status s = matcher_->WriteSnapshot(); !s.ok()) {
        log::Warn("snapshot at shutdown failed", {{"error", s.ToString()}});
      }
    }
    log::Info("matcher stopped", {{"sequence", head_sequence_.load()}});
  }

  std::string Health() const {
    const std::string halted = halt_reason();
    return halted.empty() ? std::string() : "halted: " + halted;
  }

  bool EngineAlive() const {
    return std::chrono::steady_clock::now() - std::chrono::steady_clock::time_point(
                                                  std::chrono::steady_clock::duration(engine_beat_.load())) <
           std::chrono::seconds(15);
  }

  void SampleMetrics() {
    if (options_.metrics == nullptr) return;
    MatcherMetrics::Sampled v;
    {
      std::lock_guard<std::mutex> lock(queue_mu_);
      v.queue_depth = queue_.size();
    }
    {
      std::lock_guard<std::mutex> lock(published_mu_);
      v.sequence = published_sequence_;
      v.halted = !halt_reason_.empty();
      v.recovery_seconds = recovery_.seconds;
      v.recovery_replayed = recovery_.replayed;
    }
    v.proof_subscribers = hub_.subscribers();
    // The gateway's counters live as long as the gateway, which a drain destroys.
    std::lock_guard<std::mutex> lock(gateway_mu_);
    options_.metrics->Sample(v, gateway_ ? &gateway_->stats() : nullptr);
  }

  std::string halt_reason() const {
    std::lock_guard<std::mutex> lock(published_mu_);
    return halt_reason_;
  }

  // ---- pom.v1.Matcher ----

  grpc::ServerUnaryReactor* Submit(grpc::CallbackServerContext* context, const v1::SubmitRequest* request,
                                   v1::SubmitResponse* response) override {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    absl::StatusOr<rules::Command> command = codec::FromProto(request->command());
    if (!command.ok()) {
      if (options_.metrics) options_.metrics->Refused(Refusal::kInvalid);
      reactor->Finish(rpc::ToGrpc(command.status()));
      return reactor;
    }
    // Signatures are checked here, on gRPC's threads in parallel; the engine thread trusts them
    // (DurableMatcherOptions::signatures_prechecked).
    if (!rules::VerifyCommandSignature(prover_id_bytes_, *command)) {
      if (options_.metrics) options_.metrics->Refused(Refusal::kBadSignature);
      reactor->Finish(grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "bad signature"));
      return reactor;
    }
    if (command->kind() == rules::CommandKind::kDeposit && !options_.verifier.empty()) {
      reactor->Finish(grpc::Status(grpc::StatusCode::FAILED_PRECONDITION,
                                   "deposits are authorized at the verifier (pom.v1.Verifier/Authorize); "
                                   "this matcher sequences them from the verifier's feed"));
      return reactor;
    }
    CommandTask task{*std::move(command), false, [reactor, response](const SubmitResult& result) {
                       if (result.status.ok() || absl::IsAlreadyExists(result.status)) {
                         response->set_sequence(result.sequence);
                         codec::ToProto(result.outcome, response->mutable_outcome());
                         response->set_root(rpc::WireBytes(result.new_root));
                         response->set_duplicate(!result.status.ok());
                         reactor->Finish(grpc::Status::OK);
                       } else {
                         reactor->Finish(rpc::ToGrpc(result.status));
                       }
                     }};
    if (absl::Status s = Enqueue(std::move(task)); !s.ok()) reactor->Finish(rpc::ToGrpc(s));
    return reactor;
  }

  grpc::ServerWriteReactor<v1::ProofBatch>* SubscribeProofs(grpc::CallbackServerContext*,
                                                            const v1::SubscribeProofsRequest* request) override {
    uint64_t next = std::max<uint64_t>(1, request->from_sequence());
    const int max_batch = static_cast<int>(request->max_batch() == 0
                                               ? options_.feed_batch
                                               : std::min(request->max_batch(), options_.feed_batch));
    Store* store = &matcher_->store();
    return new rpc::FeedWriter<v1::ProofBatch>(
        &hub_, [this, store, next, max_batch](v1::ProofBatch* out) mutable -> absl::StatusOr<bool> {
          size_t bytes = 0;
          while (out->proofs_size() < max_batch && bytes < kFeedMessageBytes) {
            POM_ASSIGN_OR_RETURN(std::optional<std::string> stored, store->ReadProof(next));
            if (!stored.has_value()) break;
            v1::Proof* proof = out->add_proofs();
            if (!proof->ParseFromString(*stored)) {
              return absl::DataLossError(absl::StrCat("stored proof ", next, " does not parse"));
            }
            if (next == options_.corrupt_proof_at) {
              std::string root = proof->new_root();
              if (!root.empty()) root[0] = static_cast<char>(root[0] ^ 0x01);
              proof->set_new_root(root);
            }
            bytes += stored->size();
            ++next;
          }
          out->set_head_sequence(head_sequence_.load());
          return out->proofs_size() > 0;
        });
  }

  grpc::ServerUnaryReactor* GetAccount(grpc::CallbackServerContext* context, const v1::GetAccountRequest* request,
                                       v1::GetAccountResponse* response) override {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    absl::StatusOr<Bytes32> account = rpc::Bytes32FromWire(request->account(), "account");
    if (!account.ok()) {
      reactor->Finish(rpc::ToGrpc(account.status()));
      return reactor;
    }
    std::vector<uint32_t> wanted(request->currencies().begin(), request->currencies().end());
    if (wanted.size() > 1000) {
      reactor->Finish(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "at most 1000 currencies"));
      return reactor;
    }
    rules::AccountId user;
    user.bytes = account->bytes;
    Query(reactor, [user, wanted, response](DurableMatcher& m) -> absl::Status {
      return AnswerAccount(m, user, wanted, response);
    });
    return reactor;
  }

  grpc::ServerUnaryReactor* GetBook(grpc::CallbackServerContext* context, const v1::GetBookRequest* request,
                                    v1::GetBookResponse* response) override {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    const rules::MarketId market = codec::MarketFromProto(request->market());
    const size_t depth = request->depth() == 0 ? 10 : std::min<size_t>(request->depth(), kMaxBookDepth);
    Query(reactor, [market, depth, response](DurableMatcher& m) -> absl::Status {
      return AnswerBook(m, market, depth, response);
    });
    return reactor;
  }

  grpc::ServerUnaryReactor* Status(grpc::CallbackServerContext* context, const v1::MatcherStatusRequest*,
                                   v1::MatcherStatus* response) override {
    {
      std::lock_guard<std::mutex> lock(published_mu_);
      response->set_sequence(published_sequence_);
      response->set_root(rpc::WireBytes(published_root_));
      response->set_halted(!halt_reason_.empty());
      response->set_halt_reason(halt_reason_);
      response->set_first_retained_proof(first_retained_proof_);
    }
    response->set_prover_id(prover_id_);
    response->set_operator_key(operator_key_);
    {
      std::lock_guard<std::mutex> lock(queue_mu_);
      response->set_queue_depth(queue_.size());
    }
    response->set_verifier(options_.verifier);
    response->set_following_verifier(following_.load());
    response->set_authorizations_seen(authorizations_seen_.load());
    response->set_authorizations_refused(authorizations_refused_.load());
    {
      std::lock_guard<std::mutex> lock(follower_mu_);
      response->set_last_refusal(last_refusal_);
      response->set_last_follow_error(last_follow_error_);
    }
    response->set_recovered_from_snapshot(recovery_.snapshot_sequence);
    response->set_recovered_replayed(recovery_.replayed);
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(grpc::Status::OK);
    return reactor;
  }

 private:
  // ---- Queries (engine thread) ----

  static absl::Status AnswerAccount(DurableMatcher& m, const rules::AccountId& user, std::vector<uint32_t> wanted,
                                    v1::GetAccountResponse* response) {
    const Engine& engine = m.engine();
    POM_ASSIGN_OR_RETURN(Engine::AccountProof account, engine.ProveAccount(user, std::move(wanted)));
    for (size_t i = 0; i < account.currencies.size(); ++i) {
      const rules::Balance b = account.balance(i);
      v1::AccountBalance* out = response->add_balances();
      out->set_currency(account.currencies[i]);
      out->set_available(codec::U128Bytes(b.available.raw()));
      out->set_frozen(codec::U128Bytes(b.frozen.raw()));
    }
    response->set_nonce(engine.state().NonceOf(user));
    FillProof(engine, account.keys, account.proof, {}, response->mutable_proof());
    return absl::OkStatus();
  }

  static absl::Status AnswerBook(DurableMatcher& m, rules::MarketId market, size_t depth,
                                 v1::GetBookResponse* response) {
    const Engine& engine = m.engine();
    const FastState::Book* book = engine.state().FindBook(market);
    if (book == nullptr || !book->exists) {
      return absl::NotFoundError(absl::StrCat("no market ", market.base.id, "/", market.quote.id));
    }
    codec::ParamsToProto(book->record, response->mutable_params());
    std::vector<rules::RawKey> keys = {rules::MarketKey(market), rules::BestPriceKey(market),
                                       rules::OrderbookKey(market)};
    std::vector<std::vector<uint8_t>> records(3);
    const auto market_record = rules::Encode(book->record);
    records[0].assign(market_record.begin(), market_record.end());
    auto add_level = [&](u128 price, v1::BookLevel* level) {
      level->set_price(codec::U128Bytes(price));
      level->set_amount(codec::U128Bytes(book->VolumeAt(price).raw()));
      keys.push_back(rules::OrderPageKey(market, Price::FromRaw(price)));
      records.emplace_back();
      keys.push_back(rules::PageLinkKey(market, Price::FromRaw(price)));
      if (const rules::PageRecord* page = book->FindPage(price); page != nullptr) {
        const auto encoded = rules::Encode(*page);
        records.emplace_back(encoded.begin(), encoded.end());
      } else {
        records.emplace_back();
      }
    };
    size_t n = 0;
    book->bid_prices.ForEachDescending([&](u128 price) {
      if (n++ == depth) return false;
      add_level(price, response->add_bids());
      return true;
    });
    n = 0;
    book->ask_prices.ForEachAscending([&](u128 price) {
      if (n++ == depth) return false;
      add_level(price, response->add_asks());
      return true;
    });
    POM_ASSIGN_OR_RETURN(Engine::LeafProof proof, engine.ProveLeaves(keys));
    FillProof(engine, keys, proof, records, response->mutable_proof());
    return absl::OkStatus();
  }

  static void FillProof(const Engine& engine, const std::vector<rules::RawKey>& keys, const Engine::LeafProof& proof,
                        const std::vector<std::vector<uint8_t>>& records, v1::StateProof* out) {
    out->set_sequence(engine.sequence());
    out->set_root(rpc::WireBytes(engine.root()));
    for (size_t i = 0; i < keys.size(); ++i) {
      const std::span<const uint8_t> record =
          i < records.size() && !proof.values[i].IsZero() ? std::span<const uint8_t>(records[i])
                                                           : std::span<const uint8_t>();
      FillLeaf(keys[i], proof.values[i], record, out->add_leaves());
    }
    out->set_multiproof(std::string(proof.multiproof.begin(), proof.multiproof.end()));
  }

  // Runs `answer` on the engine thread and finishes the call with its status.
  void Query(grpc::ServerUnaryReactor* reactor, std::function<absl::Status(DurableMatcher&)> answer) {
    QueryTask task = [reactor, answer = std::move(answer)](DurableMatcher& m) {
      reactor->Finish(rpc::ToGrpc(answer(m)));
    };
    std::lock_guard<std::mutex> lock(queue_mu_);
    if (engine_stopping_) {
      reactor->Finish(grpc::Status(grpc::StatusCode::UNAVAILABLE, "the matcher is stopping"));
      return;
    }
    queue_.push_back(std::move(task));
    queue_cv_.notify_one();
  }

  // ---- The engine thread ----

  absl::Status Enqueue(CommandTask task) {
    std::lock_guard<std::mutex> lock(queue_mu_);
    if (engine_stopping_) {
      if (options_.metrics) options_.metrics->Refused(Refusal::kStopping);
      return absl::UnavailableError("the matcher is stopping");
    }
    if (!task.from_verifier && queue_.size() >= options_.queue_limit) {
      if (options_.metrics) options_.metrics->Refused(Refusal::kQueueFull);
      return absl::ResourceExhaustedError(
          absl::StrCat("the matcher's queue is full (", options_.queue_limit, " commands); retry later"));
    }
    queue_.push_back(std::move(task));
    queue_cv_.notify_one();
    return absl::OkStatus();
  }

  void StopEngine() {
    {
      std::lock_guard<std::mutex> lock(queue_mu_);
      engine_stopping_ = true;
    }
    queue_cv_.notify_all();
    if (engine_thread_.joinable()) engine_thread_.join();
  }

  void EngineLoop() {
    std::vector<CommandTask> batch;
    std::vector<rules::Command> commands;
    while (true) {
      std::deque<Task> taken;
      {
        std::unique_lock<std::mutex> lock(queue_mu_);
        while (!queue_cv_.wait_for(lock, std::chrono::seconds(1),
                                   [this] { return !queue_.empty() || engine_stopping_; })) {
          Beat();
        }
        Beat();
        if (queue_.empty()) return;  // stopping, and every queued call was answered
        // Commands up to max_batch, stopping at the first query (order is kept).
        while (!queue_.empty() && taken.size() < options_.max_batch) {
          const bool is_query = std::holds_alternative<QueryTask>(queue_.front());
          if (is_query && !taken.empty()) break;
          taken.push_back(std::move(queue_.front()));
          queue_.pop_front();
          if (is_query) break;
        }
      }
      if (std::holds_alternative<QueryTask>(taken.front())) {
        std::get<QueryTask>(taken.front())(*matcher_);
        continue;
      }
      batch.clear();
      commands.clear();
      for (Task& t : taken) {
        batch.push_back(std::get<CommandTask>(std::move(t)));
        commands.push_back(batch.back().command);
      }
      absl::StatusOr<std::vector<SubmitResult>> results = matcher_->SubmitBatch(commands);
      if (!results.ok()) {
        // Fail-stop: nothing of this batch was acknowledged; the matcher refuses all from now on.
        log::Error("matcher halted: it sequences nothing more", {{"error", results.status().ToString()}});
        {
          std::lock_guard<std::mutex> lock(published_mu_);
          halt_reason_ = results.status().ToString();
        }
        // Health turns NOT_SERVING: the matcher answers queries but sequences nothing more.
        if (grpc::HealthCheckServiceInterface* health = health_.load()) {
          health->SetServingStatus("pom.v1.Matcher", false);
          health->SetServingStatus(false);
        }
        SubmitResult failed;
        failed.status = absl::UnavailableError(absl::StrCat("the matcher halted: ", results.status().message()));
        for (CommandTask& t : batch) {
          if (options_.metrics) options_.metrics->Refused(Refusal::kHalted);
          t.done(failed);
        }
        continue;
      }
      // The gateway gets the events before anyone gets an answer, so a trader's reply never
      // arrives ahead of the book, orders and executions it caused.
      std::vector<std::shared_ptr<const rules::EventProof>> events;
      for (SubmitResult& r : *results) {
        if (absl::IsAlreadyExists(r.status)) FillDuplicate(r);
        if (r.proof) events.push_back(r.proof);
      }
      if (gateway_ && !events.empty()) gateway_->Publish(std::move(events));
      // Status and the proof feed show the batch before any caller hears of it: a client that got
      // its answer finds that sequence in Status (and a verifier can be waited on for it).
      Publish();
      hub_.Notify();
      for (size_t i = 0; i < batch.size(); ++i) {
        const SubmitResult& r = (*results)[i];
        if (options_.metrics) {
          if (r.status.ok()) {
            options_.metrics->Sequenced(batch[i].command.kind(), r.outcome.reject);
          } else {
            options_.metrics->Refused(absl::IsAlreadyExists(r.status) ? Refusal::kDuplicate : Refusal::kInvalid);
          }
          options_.metrics->Answered(batch[i].enqueued);
        }
        batch[i].done(r);
      }
    }
  }

  // A resubmitted command gets its original outcome and root, from its stored proof.
  void FillDuplicate(SubmitResult& r) {
    absl::StatusOr<std::optional<std::string>> stored = matcher_->store().ReadProof(r.sequence);
    v1::Proof proof;
    if (!stored.ok() || !stored->has_value() || !proof.ParseFromString(**stored)) return;
    absl::StatusOr<rules::Outcome> outcome = codec::FromProto(proof.outcome());
    absl::StatusOr<Bytes32> root = rpc::Bytes32FromWire(proof.new_root(), "new_root");
    if (outcome.ok()) r.outcome = *std::move(outcome);
    if (root.ok()) r.new_root = *root;
  }

  void Publish() {
    head_sequence_.store(matcher_->sequence());
    std::lock_guard<std::mutex> lock(published_mu_);
    published_sequence_ = matcher_->sequence();
    published_root_ = matcher_->root();
    first_retained_proof_ = matcher_->store().first_retained_proof();
    recovery_ = matcher_->recovery();
  }

  // ---- Following the verifier's authorizations ----

  void FollowAuthorizations() {
    std::unique_ptr<v1::Verifier::Stub> stub = v1::Verifier::NewStub(rpc::MakeChannel(options_.verifier));
    rpc::Backoff backoff;
    uint64_t next = 1;
    while (true) {
      grpc::ClientContext context;
      context.set_wait_for_ready(true);  // follow a verifier that comes up within a second
      {
        std::lock_guard<std::mutex> lock(follower_mu_);
        if (stop_follower_) return;
        follower_context_ = &context;
      }
      v1::WatchAuthorizationsRequest request;
      request.set_from_authorization(next);
      std::unique_ptr<grpc::ClientReader<v1::Authorization>> reader = stub->WatchAuthorizations(&context, request);
      v1::Authorization authorization;
      while (reader->Read(&authorization)) {
        following_ = true;
        backoff.Reset();
        next = std::max(next, authorization.index() + 1);
        ++authorizations_seen_;
        absl::StatusOr<rules::Command> deposit = codec::FromProto(authorization.deposit());
        if (!deposit.ok() || deposit->kind() != rules::CommandKind::kDeposit) {
          Refused(authorization.index(), deposit.ok() ? absl::InvalidArgumentError("not a deposit") : deposit.status());
          continue;
        }
        if (!rules::VerifyCommandSignature(prover_id_bytes_, *deposit)) {
          Refused(authorization.index(), absl::UnauthenticatedError("bad signature"));
          continue;
        }
        const uint64_t index = authorization.index();
        (void)Enqueue(CommandTask{*std::move(deposit), true, [this, index](const SubmitResult& r) {
                                    if (!r.status.ok() && !absl::IsAlreadyExists(r.status)) Refused(index, r.status);
                                  }});
      }
      const grpc::Status status = reader->Finish();
      following_ = false;
      std::unique_lock<std::mutex> lock(follower_mu_);
      follower_context_ = nullptr;
      if (stop_follower_) return;
      last_follow_error_ = status.error_message();
      follower_cv_.wait_for(lock, backoff.Next(), [this] { return stop_follower_; });
    }
  }

  void Refused(uint64_t index, const absl::Status& status) {
    ++authorizations_refused_;
    std::lock_guard<std::mutex> lock(follower_mu_);
    last_refusal_ = absl::StrCat("authorization ", index, ": ", status.ToString());
    log::Warn("deposit authorization refused", {{"authorization", index}, {"error", status.ToString()}});
  }

  MatcherServiceOptions options_;
  std::unique_ptr<DurableMatcher> matcher_;
  Bytes32 prover_id_bytes_;
  std::string prover_id_;
  std::string operator_key_;
  rpc::FeedHub hub_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<gateway::Gateway> gateway_;
  std::mutex gateway_mu_;  // gateway_'s reset against SampleMetrics
  std::atomic<grpc::HealthCheckServiceInterface*> health_{nullptr};
  int port_ = 0;
  std::atomic<bool> shut_down_{false};

  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::deque<Task> queue_;
  bool engine_stopping_ = false;
  std::thread engine_thread_;

  std::atomic<uint64_t> head_sequence_{0};
  std::atomic<int64_t> engine_beat_{std::chrono::steady_clock::now().time_since_epoch().count()};
  void Beat() { engine_beat_.store(std::chrono::steady_clock::now().time_since_epoch().count()); }
  mutable std::mutex published_mu_;
  uint64_t published_sequence_ = 0;
  Bytes32 published_root_;
  uint64_t first_retained_proof_ = 1;
  std::string halt_reason_;
  RecoveryReport recovery_;

  std::thread follower_;
  std::mutex follower_mu_;
  std::condition_variable follower_cv_;
  grpc::ClientContext* follower_context_ = nullptr;
  bool stop_follower_ = false;
  std::atomic<bool> following_{false};
  std::atomic<uint64_t> authorizations_seen_{0};
  std::atomic<uint64_t> authorizations_refused_{0};
  std::string last_refusal_;
  std::string last_follow_error_;
};

MatcherServer::MatcherServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

MatcherServer::~MatcherServer() { Shutdown(); }

absl::StatusOr<std::unique_ptr<MatcherServer>> MatcherServer::Start(std::unique_ptr<DurableMatcher> matcher,
                                                                    MatcherServiceOptions options) {
  auto impl = std::make_unique<Impl>(std::move(matcher), std::move(options));
  POM_RETURN_IF_ERROR(impl->Start());
  return std::unique_ptr<MatcherServer>(new MatcherServer(std::move(impl)));
}

int MatcherServer::port() const { return impl_->port(); }
int MatcherServer::ws_port() const { return impl_->ws_port(); }
std::string MatcherServer::Health() const { return impl_->Health(); }
bool MatcherServer::EngineAlive() const { return impl_->EngineAlive(); }
void MatcherServer::SampleMetrics() { impl_->SampleMetrics(); }

void MatcherServer::Shutdown() {
  if (impl_) impl_->Shutdown();
}

}  // namespace pom::matcher

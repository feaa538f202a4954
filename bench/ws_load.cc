#include "bench/ws_load.h"

#include <signal.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <deque>
#include <fstream>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <nlohmann/json.hpp>

#include "absl/strings/str_cat.h"
#include "bench/daemon_bench.h"
#include "cli/client.h"
#include "common/money.h"
#include "common/status_macros.h"
#include "proto/codec.h"
#include "tests/testing/process.h"

namespace pom::bench {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using json = nlohmann::json;
using Clock = std::chrono::steady_clock;

// One trader connection: a logged-on WebSocket, a queue of frames to write, and the replies
// read back (their ids index the plan).
struct Connection {
  explicit Connection(asio::io_context& io) : ws(io) {}
  websocket::stream<beast::tcp_stream> ws;
  beast::flat_buffer buffer;
  std::deque<std::string> out;
  bool writing = false;
};

}  // namespace

absl::StatusOr<std::vector<LoadResult>> RunWsLoad(const LoadOptions& o) {
  if (o.rates.empty() || o.users == 0) return absl::InvalidArgumentError("need rates and users");
  std::ofstream trace;
  if (!o.trace_path.empty()) {
    trace.open(o.trace_path);
    if (!trace) return absl::InvalidArgumentError(absl::StrCat("cannot create the trace file ", o.trace_path));
    trace << "rate,planned_ms,latency_us\n";
  }
  BenchDir work("pom-load");
  const std::string dir = work.path();
  BenchAccounts accounts = WriteFundedGenesis(dir + "/genesis.json", o.seed, 0x77, o.users);
  const std::vector<KeyPair>& users = accounts.users;
  std::vector<uint64_t>& nonces = accounts.nonces;
  const int gport = testing::FreePort();
  int wport = testing::FreePort();
  while (wport == gport) wport = testing::FreePort();
  // The matcher alone (deposits from its genesis), with limits above the offered load.
  testing::Process matcher({o.bin_dir + "/pom-matcher", "serve", "--genesis", dir + "/genesis.json", "--data",
                            dir + "/matcher", "--listen", absl::StrCat("127.0.0.1:", gport), "--ws-listen",
                            absl::StrCat("127.0.0.1:", wport), "--ws-rate", "1000000", "--ws-max-queued", "1000000",
                            "--ws-max-connections-per-address", "100000", "--admin-listen", "127.0.0.1:0"},
                           dir + "/matcher.out");
  if (!matcher.WaitForOutput("listening port=", std::chrono::seconds(30))) {
    return absl::UnavailableError(absl::StrCat("pom-matcher did not start: ", matcher.errors()));
  }
  client::Client setup(absl::StrCat("127.0.0.1:", gport), "", std::chrono::milliseconds(30'000));
  // Standalone: the deposits go straight to Submit, backed by the genesis.
  POM_RETURN_IF_ERROR(CreateMarketAndDeposit(setup, accounts, kBenchUnit * 100'000'000, /*authorize=*/false));
  POM_ASSIGN_OR_RETURN(const Bytes32 prover, setup.ProverId());

  // Connect and log every user on (synchronously; untimed).
  asio::io_context io;
  std::vector<std::unique_ptr<Connection>> conns;
  for (uint32_t u = 0; u < o.users; ++u) {
    auto c = std::make_unique<Connection>(io);
    beast::error_code ec;
    beast::get_lowest_layer(c->ws).connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), static_cast<uint16_t>(wport)), ec);
    if (!ec) beast::get_lowest_layer(c->ws).socket().set_option(tcp::no_delay(true), ec);
    if (!ec) c->ws.handshake(absl::StrCat("127.0.0.1:", wport), "/", ec);
    if (ec) return absl::UnavailableError(absl::StrCat("WebSocket connect: ", ec.message()));
    c->ws.read(c->buffer, ec);
    json hello = json::parse(beast::buffers_to_string(c->buffer.data()), nullptr, false);
    c->buffer.consume(c->buffer.size());
    if (ec || hello.is_discarded() || !hello.contains("challenge")) return absl::InternalError("no session message");
    absl::StatusOr<std::vector<uint8_t>> challenge = FromHex(hello["challenge"].get<std::string>());
    if (!challenge.ok()) return challenge.status();
    std::vector<uint8_t> message = {'p', 'o', 'm', '.', 'l', 'o', 'g', 'o', 'n', '.', 'v', '1'};
    message.insert(message.end(), prover.bytes.begin(), prover.bytes.end());
    message.insert(message.end(), challenge->begin(), challenge->end());
    const Signature sig = Sign(users[u].secret_key, message);
    c->ws.text(true);
    c->ws.write(asio::buffer(json{{"id", 0}, {"method", "logon"},
                                  {"params", {{"account", ToHex(users[u].public_key.bytes)}, {"signature", ToHex(sig.bytes)}}}}
                                     .dump()),
                ec);
    while (!ec) {
      c->ws.read(c->buffer, ec);
      json reply = json::parse(beast::buffers_to_string(c->buffer.data()), nullptr, false);
      c->buffer.consume(c->buffer.size());
      if (!reply.is_discarded() && reply.contains("id")) {
        if (!reply.contains("result")) return absl::InternalError(absl::StrCat("logon refused: ", reply.dump()));
        break;
      }
    }
    if (ec) return absl::UnavailableError(absl::StrCat("logon: ", ec.message()));
    conns.push_back(std::move(c));
  }

  // One reader per connection for the whole run; replies are matched to the current round.
  struct Round {
    uint64_t first_id = 0;
    uint64_t n = 0;
    std::vector<Clock::time_point> due;
    std::vector<double> latency_us;
    std::vector<std::pair<double, double>> trace;  // (planned ms from start, latency µs)
    uint64_t answered = 0;
    uint64_t errors = 0;
  };
  Round* round = nullptr;
  std::function<void(Connection*)> read_next = [&](Connection* c) {
    c->ws.async_read(c->buffer, [&, c](beast::error_code ec, size_t) {
      if (ec) return;
      const Clock::time_point now = Clock::now();
      json reply = json::parse(beast::buffers_to_string(c->buffer.data()), nullptr, false);
      c->buffer.consume(c->buffer.size());
      if (round != nullptr && !reply.is_discarded() && reply.contains("id") && reply["id"].is_number_unsigned()) {
        const uint64_t id = reply["id"].get<uint64_t>();
        if (id >= round->first_id && id < round->first_id + round->n) {
          ++round->answered;
          if (reply.contains("error")) ++round->errors;
          const Clock::time_point due = round->due[id - round->first_id];
          round->latency_us.push_back(std::chrono::duration<double, std::micro>(now - due).count());
          if (!o.trace_path.empty()) {
            round->trace.emplace_back(std::chrono::duration<double, std::milli>(due - round->due[0]).count(),
                                      round->latency_us.back());
          }
        }
      }
      read_next(c);
    });
  };
  std::function<void(Connection*)> write_next = [&](Connection* c) {
    if (c->out.empty()) {
      c->writing = false;
      return;
    }
    c->writing = true;
    c->ws.async_write(asio::buffer(c->out.front()), [&, c](beast::error_code ec, size_t) {
      if (ec) return;
      c->out.pop_front();
      write_next(c);
    });
  };
  for (auto& c : conns) read_next(c.get());

  std::vector<LoadResult> results;
  std::mt19937_64 rng(o.seed);
  uint64_t next_id = 1;
  for (uint64_t rate : o.rates) {
    // Pre-signed orders (signing is the client's cost, not the server's): limit GTC/IOC around a
    // mid price, round-robin over the users.
    Round current;
    current.n = rate * o.duration_seconds;
    current.first_id = next_id;
    struct Planned {
      uint32_t user;
      std::string frame;
    };
    std::vector<Planned> plan;
    plan.reserve(current.n);
    for (uint64_t i = 0; i < current.n; ++i) {
      const uint32_t u = static_cast<uint32_t>(i % o.users);
      const rules::PlaceOrder p = BenchOrder(rng);
      rules::Command c;
      c.signer = users[u].public_key;
      c.nonce = nonces[u]++;
      c.body = p;
      rules::SignCommand(prover, users[u].secret_key, c);
      json req{{"id", next_id++},
               {"method", "place"},
               {"params",
                {{"market", "1/2"},
                 {"side", p.side == rules::Side::kBuy ? "buy" : "sell"},
                 {"price", FormatDecimal(p.price.raw())},
                 {"amount", FormatDecimal(p.amount.raw())},
                 {"time_in_force", p.time_in_force == rules::TimeInForce::kIoc ? "ioc" : "gtc"},
                 {"nonce", c.nonce},
                 {"signature", ToHex(c.signature.bytes)}}}};
      plan.push_back(Planned{u, req.dump()});
    }
    // Open loop: request i is due at start + i / rate; its latency runs from that planned time
    // to its reply, so a sender or server that falls behind shows up in the figures.
    const uint64_t n = current.n;
    current.due.resize(n);
    current.latency_us.reserve(n);
    const Clock::time_point start = Clock::now() + std::chrono::milliseconds(20);
    for (uint64_t i = 0; i < n; ++i) {
      current.due[i] =
          start + std::chrono::nanoseconds(static_cast<int64_t>(1e9 * static_cast<double>(i) / static_cast<double>(rate)));
    }
    round = &current;
    uint64_t sent = 0;
    asio::steady_timer timer(io);
    std::function<void()> tick = [&] {
      const Clock::time_point now = Clock::now();
      while (sent < n && current.due[sent] <= now) {
        Connection* c = conns[plan[sent].user].get();
        c->out.push_back(std::move(plan[sent].frame));
        if (!c->writing) write_next(c);
        ++sent;
      }
      if (sent < n) {
        timer.expires_at(std::min(current.due[sent], now + std::chrono::microseconds(200)));
        timer.async_wait([&](beast::error_code ec) {
          if (!ec) tick();
        });
      }
    };
    tick();
    const Clock::time_point give_up = start + std::chrono::seconds(o.duration_seconds + 30);
    while (current.answered < n && Clock::now() < give_up) io.run_one_for(std::chrono::milliseconds(100));
    timer.cancel();
    const double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    round = nullptr;
    LoadResult r;
    r.rate = rate;
    r.sent = sent;
    r.answered = current.answered;
    r.errors = current.errors;
    r.achieved = static_cast<double>(current.answered) / seconds;
    r.p50_us = Percentile(current.latency_us, 0.5);
    r.p99_us = Percentile(current.latency_us, 0.99);
    r.p999_us = Percentile(current.latency_us, 0.999);
    r.max_us = current.latency_us.empty() ? 0 : *std::max_element(current.latency_us.begin(), current.latency_us.end());
    results.push_back(r);
    if (!o.trace_path.empty()) {
      std::sort(current.trace.begin(), current.trace.end());
      for (const auto& [planned_ms, latency_us] : current.trace) {
        trace << rate << ',' << planned_ms << ',' << latency_us << '\n';
      }
      if (!trace) return absl::InternalError(absl::StrCat("cannot write the trace to ", o.trace_path));
    }
    // Let the timer's cancelled wait run before the next round (it refers to this round).
    io.poll();
    if (current.answered < n) break;  // past the knee: the server did not keep up within the deadline
  }
  for (auto& c : conns) {
    beast::error_code ec;
    beast::get_lowest_layer(c->ws).socket().close(ec);
  }
  matcher.Signal(SIGTERM);
  matcher.Wait();
  return results;
}

}  // namespace pom::bench

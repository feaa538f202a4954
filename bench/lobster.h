// Replays a LOBSTER day (shared/data/lobster) through the engine: new limit orders rest, partial
// cancels amend, deletes cancel, executions of visible orders become incoming opposite-side IOC
// orders at that price and size (so the engine does the matching). The book after every message
// is compared with LOBSTER's reference book, level by level.
//
// Seeding follows the data's README: the book starts as orderbook row 0 with message 0 undone,
// one placeholder order per level at the front of its queue; a message about an order from
// before the file acts on the placeholder at its side and price. Because a level-L file carries
// no messages below level L, the deepest level is reconciled with the reference after each
// message (hidden depth added, stale depth removed); those adjustments are engine events too,
// counted apart and not timed.
//
// Two passes. The first does all of the above and times each engine call where it happens, in
// between parsing and comparing books (the bench's own work evicts the engine's data and code
// from the caches, so these times are pessimistic). The second feeds the same commands, in the
// same order, to a fresh engine and does nothing else, as an exchange's engine thread would;
// it checks that every command succeeds again and that the final state is the same. The
// reported latencies are the second pass's; the first pass's are kept as `inline_*`. The second
// pass runs twice: once reading the clock around every command (per-message percentiles), once
// reading it only around runs of consecutive timed commands (the engine's total time per
// message, `seconds`, without the ~17 ns a clock read adds to every per-message interval).
// Thread-safety: single-threaded.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace pom::lobster {

struct Options {
  std::string messages_path;  // *_message_L.csv.gz (or plain .csv)
  std::string book_path;      // *_orderbook_L.csv.gz
  int levels = 10;
  bool proofs = false;        // build a proof per event (SHA-256 tree)
  uint64_t max_messages = 0;  // 0: the whole file
};

struct Result {
  uint64_t messages = 0;
  uint64_t events = 0;            // engine events for messages
  uint64_t reconcile_events = 0;  // engine events for seeding and reconciliation (not timed)
  double seconds = 0;             // engine time for messages only (second pass, runs of messages timed as a whole)
  double per_message_seconds = 0;   // the same, as the sum of the per-message times below
  std::vector<int64_t> latency_ns;  // per message, sorted (second pass); each includes about one clock read
  double clock_read_ns = 0;         // median cost of one clock read, measured in the same run
  double inline_seconds = 0;      // the same, timed in the first pass
  std::vector<int64_t> inline_latency_ns;
  std::map<int, double> book_match_ratio;  // level (1-based) -> share of rows where it matched
  uint64_t proof_bytes = 0;
};

absl::StatusOr<Result> Replay(const Options& options);

}  // namespace pom::lobster

// `pom-matcher ingest`: feeds a command file into a persistent matcher as if each command were
// submitted: in batches (group commit), journaled, acknowledged, proved and stored. Safe to kill
// at any moment: run again on the same data dir, it recovers and goes through the file again;
// commands already sequenced are recognized (AlreadyExists) and skipped, so it ends at the root
// `pom-matcher replay` reaches on the same file.
// Thread-safety: single-threaded.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "matcher/durable_matcher.h"

namespace pom::matcher {

struct IngestOptions {
  DurableMatcherOptions matcher;  // genesis is read from genesis_path
  std::string commands_path;
  std::string genesis_path;  // default: commands_path + ".genesis"
  size_t batch = 256;        // commands per group commit
  // If set, one line per acknowledged command (FormatAckLine), appended after the batch's sync:
  // what a client was told. Crash tests check none is ever lost.
  std::string acks_path;
};

// An acknowledgement line: "<sequence> <signer hex> <nonce> <crc>\n", crc being 8 hex digits of
// the CRC-32 (zlib's) of the text before its space. A SIGKILL during the write can leave a torn
// line, and not only a cut one: the kernel has been seen to keep a prefix of the buffer followed
// by a later piece of it. Such a line was never delivered whole, so it is no acknowledgement;
// its checksum tells.
struct AckLine {
  uint64_t sequence = 0;
  std::string signer_hex;
  uint64_t nonce = 0;
};
std::string FormatAckLine(uint64_t sequence, const rules::Command& command);
// nullopt: not a whole line of FormatAckLine (torn). `line` without its newline.
std::optional<AckLine> ParseAckLine(std::string_view line);

struct IngestResult {
  Bytes32 root;
  uint64_t sequence = 0;
  uint64_t accepted = 0;  // sequenced by this run
  uint64_t skipped = 0;   // sequenced by an earlier run
  uint64_t refused = 0;
  uint64_t syncs = 0;
  uint64_t state_digest = 0;
  RecoveryReport recovery;
};

absl::StatusOr<IngestResult> Ingest(const IngestOptions& options);

}  // namespace pom::matcher

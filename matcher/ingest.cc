#include "matcher/ingest.h"

#include <fcntl.h>
#include <unistd.h>

#include <zlib.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "common/kill_point.h"
#include "common/status_macros.h"
#include "proto/stream.h"

namespace pom::matcher {
namespace {

uint32_t Crc32(std::string_view text) {
  return static_cast<uint32_t>(
      crc32(0L, reinterpret_cast<const Bytef*>(text.data()), static_cast<uInt>(text.size())));
}

// Appends acknowledgement lines with write(2): they survive a SIGKILL of this process.
class AckLog {
 public:
  ~AckLog() {
    if (fd_ >= 0) ::close(fd_);
  }
  absl::Status Open(const std::string& path) {
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd_ < 0) return absl::InternalError(absl::StrCat("open ", path, ": ", std::strerror(errno)));
    // A torn last line must not swallow the first line of this run.
    const off_t size = ::lseek(fd_, 0, SEEK_END);
    char last = '\n';
    if (size > 0 && ::pread(fd_, &last, 1, size - 1) != 1) {
      return absl::InternalError(absl::StrCat("read ", path, ": ", std::strerror(errno)));
    }
    return last == '\n' ? absl::OkStatus() : Write("\n");
  }
  bool enabled() const { return fd_ >= 0; }
  absl::Status Write(std::string_view lines) {
    size_t done = 0;
    while (done < lines.size()) {
      const ssize_t n = ::write(fd_, lines.data() + done, lines.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) return absl::InternalError(absl::StrCat("write acks: ", std::strerror(errno)));
      done += static_cast<size_t>(n);
    }
    return absl::OkStatus();
  }

 private:
  int fd_ = -1;
};

}  // namespace

std::string FormatAckLine(uint64_t sequence, const rules::Command& command) {
  std::string line = absl::StrCat(sequence, " ", ToHex(command.signer.bytes), " ", command.nonce);
  absl::StrAppend(&line, absl::StrFormat(" %08x\n", Crc32(line)));
  return line;
}

std::optional<AckLine> ParseAckLine(std::string_view line) {
  const size_t space = line.rfind(' ');
  if (space == std::string_view::npos || line.size() - space - 1 != 8) return std::nullopt;
  const std::string_view text = line.substr(0, space);
  if (absl::StrFormat("%08x", Crc32(text)) != line.substr(space + 1)) return std::nullopt;
  std::vector<absl::string_view> f = absl::StrSplit(absl::string_view(text.data(), text.size()), ' ');
  AckLine ack;
  if (f.size() != 3 || f[1].size() != 64 || !absl::SimpleAtoi(f[0], &ack.sequence) ||
      !absl::SimpleAtoi(f[2], &ack.nonce)) {
    return std::nullopt;
  }
  ack.signer_hex = std::string(f[1]);
  return ack;
}

absl::StatusOr<IngestResult> Ingest(const IngestOptions& options) {
  const std::string genesis_path =
      options.genesis_path.empty() ? options.commands_path + ".genesis" : options.genesis_path;
  DurableMatcherOptions matcher_options = options.matcher;
  POM_ASSIGN_OR_RETURN(matcher_options.genesis, codec::ReadGenesisFile(genesis_path));
  POM_ASSIGN_OR_RETURN(std::unique_ptr<DurableMatcher> matcher,
                       DurableMatcher::Open(std::move(matcher_options)));
  AckLog acks;
  if (!options.acks_path.empty()) POM_RETURN_IF_ERROR(acks.Open(options.acks_path));

  IngestResult result;
  result.recovery = matcher->recovery();
  const uint64_t syncs_before = matcher->store().syncs();
  POM_ASSIGN_OR_RETURN(std::unique_ptr<codec::DelimitedReader> reader,
                       codec::DelimitedReader::Open(options.commands_path));
  v1::Command wire;
  std::vector<rules::Command> batch;
  bool more = true;
  while (more) {
    batch.clear();
    while (batch.size() < std::max<size_t>(options.batch, 1)) {
      POM_ASSIGN_OR_RETURN(more, reader->Read(&wire));
      if (!more) break;
      absl::StatusOr<rules::Command> command = codec::FromProto(wire);
      if (!command.ok()) {
        ++result.refused;
        continue;
      }
      batch.push_back(*std::move(command));
    }
    if (batch.empty()) break;
    POM_ASSIGN_OR_RETURN(std::vector<SubmitResult> results, matcher->SubmitBatch(batch));
    std::string lines;
    for (size_t i = 0; i < results.size(); ++i) {
      const SubmitResult& r = results[i];
      if (r.status.ok()) {
        ++result.accepted;
        if (acks.enabled()) lines += FormatAckLine(r.sequence, batch[i]);
      } else if (absl::IsAlreadyExists(r.status)) {
        ++result.skipped;
      } else {
        ++result.refused;
      }
    }
    if (acks.enabled() && !lines.empty()) POM_RETURN_IF_ERROR(acks.Write(lines));
    KillPoint("after-ack");
  }
  result.root = matcher->root();
  result.sequence = matcher->sequence();
  result.syncs = matcher->store().syncs() - syncs_before;
  result.state_digest = matcher->StateDigest();
  return result;
}

}  // namespace pom::matcher

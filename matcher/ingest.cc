#include "matcher/ingest.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "common/kill_point.h"
#include "common/status_macros.h"
#include "proto/stream.h"

namespace pom::matcher {
namespace {

// Appends acknowledgement lines with write(2): they survive a SIGKILL of this process.
class AckLog {
 public:
  ~AckLog() {
    if (fd_ >= 0) ::close(fd_);
  }
  absl::Status Open(const std::string& path) {
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd_ < 0) return absl::InternalError(absl::StrCat("open ", path, ": ", std::strerror(errno)));
    return absl::OkStatus();
  }
  bool enabled() const { return fd_ >= 0; }
  absl::Status Write(const std::string& lines) {
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
        if (acks.enabled()) {
          absl::StrAppend(&lines, r.sequence, " ", ToHex(batch[i].signer.bytes), " ",
                          batch[i].nonce, "\n");
        }
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

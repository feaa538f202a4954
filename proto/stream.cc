#include "proto/stream.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/util/delimited_message_util.h>

#include "absl/strings/str_cat.h"

namespace pom::codec {

absl::StatusOr<std::unique_ptr<DelimitedWriter>> DelimitedWriter::Create(const std::string& path) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) {
    return absl::NotFoundError(absl::StrCat("cannot create ", path, ": ", std::strerror(errno)));
  }
  return std::unique_ptr<DelimitedWriter>(new DelimitedWriter(fd, path));
}

DelimitedWriter::DelimitedWriter(int fd, std::string path)
    : fd_(fd), path_(std::move(path)),
      out_(std::make_unique<google::protobuf::io::FileOutputStream>(fd)) {}

DelimitedWriter::~DelimitedWriter() { (void)Close(); }

absl::Status DelimitedWriter::Write(const google::protobuf::MessageLite& message) {
  if (!out_) return absl::FailedPreconditionError(absl::StrCat(path_, " is closed"));
  if (!google::protobuf::util::SerializeDelimitedToZeroCopyStream(message, out_.get())) {
    return absl::DataLossError(absl::StrCat("write to ", path_, " failed: ",
                                            std::strerror(out_->GetErrno())));
  }
  return absl::OkStatus();
}

absl::Status DelimitedWriter::Close() {
  if (!out_) return absl::OkStatus();
  const bool flushed = out_->Flush();
  const int err = out_->GetErrno();
  out_.reset();
  const int closed = ::close(fd_);
  if (!flushed || closed != 0) {
    return absl::DataLossError(absl::StrCat("closing ", path_, " failed: ",
                                            std::strerror(flushed ? errno : err)));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::unique_ptr<DelimitedReader>> DelimitedReader::Open(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return absl::NotFoundError(absl::StrCat("cannot open ", path, ": ", std::strerror(errno)));
  }
  return std::unique_ptr<DelimitedReader>(new DelimitedReader(fd, path));
}

DelimitedReader::DelimitedReader(int fd, std::string path)
    : fd_(fd), path_(std::move(path)),
      // Reads of 1 MiB rather than protobuf's default 8 KiB: a proof is ~4 KB, so the default
      // costs a read(2) every other message.
      in_(std::make_unique<google::protobuf::io::FileInputStream>(fd, 1 << 20)) {}

DelimitedReader::~DelimitedReader() {
  in_.reset();
  ::close(fd_);
}

absl::StatusOr<bool> DelimitedReader::Read(google::protobuf::MessageLite* message) {
  // The parse merges into the message, and proto3 leaves default fields out of the bytes: a
  // reused message would keep stale values.
  message->Clear();
  bool clean_eof = false;
  if (google::protobuf::util::ParseDelimitedFromZeroCopyStream(message, in_.get(), &clean_eof)) {
    ++index_;
    return true;
  }
  if (clean_eof) return false;
  return absl::DataLossError(
      absl::StrCat(path_, ": message ", index_, " is truncated or malformed"));
}

absl::StatusOr<bool> DelimitedReader::ReadBytes(std::string* bytes) {
  google::protobuf::io::CodedInputStream input(in_.get());
  // As ParseDelimitedFromZeroCopyStream: a clean end of file before the length is the end.
  const int start = input.CurrentPosition();
  uint32_t size = 0;
  if (!input.ReadVarint32(&size)) {
    if (input.CurrentPosition() == start) return false;
    return absl::DataLossError(absl::StrCat(path_, ": message ", index_, " is truncated or malformed"));
  }
  if (size > static_cast<uint32_t>(INT32_MAX) || !input.ReadString(bytes, static_cast<int>(size))) {
    return absl::DataLossError(absl::StrCat(path_, ": message ", index_, " is truncated or malformed"));
  }
  ++index_;
  return true;
}

absl::Status DelimitedReader::MalformedLast() const {
  return absl::DataLossError(absl::StrCat(path_, ": message ", index_ - 1, " is truncated or malformed"));
}

absl::StatusOr<Genesis> ReadGenesisFile(const std::string& path) {
  std::ifstream file(path);
  if (!file) return absl::NotFoundError(absl::StrCat("cannot open genesis ", path));
  std::stringstream json;
  json << file.rdbuf();
  return GenesisFromJson(json.str());
}

}  // namespace pom::codec

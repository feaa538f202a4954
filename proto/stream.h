// Files of length-delimited protobuf messages (each message preceded by its size as a varint),
// the format of command and proof files (docs/protocol.md §8), readable by any protobuf library.
// Thread-safety: one thread per reader or writer.
#pragma once

#include <memory>
#include <string>

#include <google/protobuf/io/zero_copy_stream_impl.h>
#include <google/protobuf/message_lite.h>

#include "absl/status/statusor.h"
#include "proto/codec.h"

namespace pom::codec {

class DelimitedWriter {
 public:
  // Creates or truncates `path`. Errors: the open failure, naming the path.
  static absl::StatusOr<std::unique_ptr<DelimitedWriter>> Create(const std::string& path);
  ~DelimitedWriter();

  absl::Status Write(const google::protobuf::MessageLite& message);
  // Flushes and closes; further writes fail. Errors: a failed write or close.
  absl::Status Close();

 private:
  DelimitedWriter(int fd, std::string path);
  int fd_;
  std::string path_;
  std::unique_ptr<google::protobuf::io::FileOutputStream> out_;
};

class DelimitedReader {
 public:
  static absl::StatusOr<std::unique_ptr<DelimitedReader>> Open(const std::string& path);
  ~DelimitedReader();

  // Reads the next message: true if one was read, false at a clean end of file.
  // Errors: DataLoss for a truncated or unparsable message, naming its index.
  absl::StatusOr<bool> Read(google::protobuf::MessageLite* message);

  // Reads the next message's bytes without parsing them: true if one was read, false at a clean
  // end of file. Errors: DataLoss for a truncated length or message, naming its index.
  absl::StatusOr<bool> ReadBytes(std::string* bytes);

  // The error Read gives for a message that does not parse: DataLoss naming the last message
  // ReadBytes returned.
  absl::Status MalformedLast() const;

 private:
  DelimitedReader(int fd, std::string path);
  int fd_;
  std::string path_;
  uint64_t index_ = 0;
  std::unique_ptr<google::protobuf::io::FileInputStream> in_;
};

// Reads and parses a genesis JSON file (pom.v1.Genesis). Errors: NotFound if it cannot be
// opened; InvalidArgument from GenesisFromJson.
absl::StatusOr<Genesis> ReadGenesisFile(const std::string& path);

}  // namespace pom::codec

// Structured logs (docs/operations.md "Logs"): one JSON object per line, written by spdlog's
// asynchronous logger on its own thread, so a log call never waits for the disk:
//   {"ts":"2026-11-22T10:00:00.123456Z","level":"info","daemon":"pom-matcher","msg":"recovered","replayed":12}
// With format "text" the same record reads `2026-11-22T10:00:00.123456Z info pom-matcher recovered replayed=12`.
// Callers pass fields, never secrets: keys, tokens and signatures are not logged (orders,
// accounts and hashes only at debug level, where an operator asks for them).
// Before Init (or after Shutdown) records go to stderr as JSON, synchronously.
// Thread-safety: the log functions are thread-safe; Init and Shutdown from main only.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <type_traits>

#include "absl/status/status.h"

namespace pom::log {

enum class Level { kTrace, kDebug, kInfo, kWarn, kError };

// A field of a record; the value is kept rendered.
struct Field {
  Field(std::string_view k, std::string_view v);
  Field(std::string_view k, const std::string& v) : Field(k, std::string_view(v)) {}
  Field(std::string_view k, const char* v) : Field(k, std::string_view(v)) {}
  Field(std::string_view k, bool v);
  Field(std::string_view k, double v);
  template <typename T>
    requires(std::is_integral_v<T> && !std::is_same_v<T, bool>)
  Field(std::string_view k, T v) : key(k), json(std::to_string(v)), text(json) {}

  std::string_view key;
  std::string json;  // the value as JSON
  std::string text;  // the value for the text format
};

// `level`: trace|debug|info|warn|error; `format`: json|text; `file`: empty for stderr.
// Errors: InvalidArgument for an unknown level or format, Unavailable if the file cannot be opened.
absl::Status Init(std::string_view daemon, std::string_view level, std::string_view format, const std::string& file);
// Flushes and stops the logger thread (main, before exit).
void Shutdown();
// Asks the logger thread to write what it holds (does not wait).
void Flush();

void Write(Level level, std::string_view message, std::initializer_list<Field> fields);
inline void Debug(std::string_view m, std::initializer_list<Field> f = {}) { Write(Level::kDebug, m, f); }
inline void Info(std::string_view m, std::initializer_list<Field> f = {}) { Write(Level::kInfo, m, f); }
inline void Warn(std::string_view m, std::initializer_list<Field> f = {}) { Write(Level::kWarn, m, f); }
inline void Error(std::string_view m, std::initializer_list<Field> f = {}) { Write(Level::kError, m, f); }
bool Enabled(Level level);

// JSON string escaping (exposed for tests).
std::string JsonQuote(std::string_view s);

}  // namespace pom::log

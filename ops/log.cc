#include "ops/log.h"

#include <cstdio>
#include <memory>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "spdlog/async.h"
#include "spdlog/sinks/basic_file_sink.h"
#include "spdlog/sinks/stdout_sinks.h"
#include "spdlog/spdlog.h"

namespace pom::log {
namespace {

constexpr char kJsonPattern[] = R"({"ts":"%Y-%m-%dT%H:%M:%S.%fZ","level":"%l","daemon":"%n",%v})";
constexpr char kTextPattern[] = "%Y-%m-%dT%H:%M:%S.%fZ %l %n %v";

struct State {
  std::shared_ptr<spdlog::logger> logger;
  bool json = true;
};

State& Global() {
  static State* state = [] {
    auto* s = new State;
    s->logger = std::make_shared<spdlog::logger>("pom", std::make_shared<spdlog::sinks::stderr_sink_mt>());
    s->logger->set_pattern(kJsonPattern, spdlog::pattern_time_type::utc);
    return s;
  }();
  return *state;
}

spdlog::level::level_enum ToSpd(Level level) {
  switch (level) {
    case Level::kTrace:
      return spdlog::level::trace;
    case Level::kDebug:
      return spdlog::level::debug;
    case Level::kInfo:
      return spdlog::level::info;
    case Level::kWarn:
      return spdlog::level::warn;
    case Level::kError:
      return spdlog::level::err;
  }
  return spdlog::level::info;
}

}  // namespace

std::string JsonQuote(std::string_view s) {
  std::string out = "\"";
  out.reserve(s.size() + 2);
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(static_cast<unsigned char>(c)));
          out += buf;
        } else {
          out += c;  // UTF-8 passes through; invalid bytes are the caller's (we log our own text)
        }
    }
  }
  out += '"';
  return out;
}

Field::Field(std::string_view k, std::string_view v) : key(k), json(JsonQuote(v)), text(v) {}
Field::Field(std::string_view k, bool v) : key(k), json(v ? "true" : "false"), text(json) {}
Field::Field(std::string_view k, double v) : key(k) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  json = buf;
  text = json;
}

absl::Status Init(std::string_view daemon, std::string_view level, std::string_view format, const std::string& file) {
  spdlog::level::level_enum lvl;
  if (level == "trace") {
    lvl = spdlog::level::trace;
  } else if (level == "debug") {
    lvl = spdlog::level::debug;
  } else if (level == "info") {
    lvl = spdlog::level::info;
  } else if (level == "warn") {
    lvl = spdlog::level::warn;
  } else if (level == "error") {
    lvl = spdlog::level::err;
  } else {
    return absl::InvalidArgumentError(absl::StrCat("log level \"", std::string(level), "\" is not one of trace, debug, info, warn, error"));
  }
  if (format != "json" && format != "text") {
    return absl::InvalidArgumentError(absl::StrCat("log format \"", std::string(format), "\" is not one of json, text"));
  }
  spdlog::sink_ptr sink;
  try {
    if (file.empty()) {
      sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    } else {
      sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(file, /*truncate=*/false);
    }
  } catch (const spdlog::spdlog_ex& e) {
    return absl::UnavailableError(absl::StrCat("log file ", file, ": ", e.what()));
  }
  // One background thread; a full queue blocks the caller rather than dropping a record (the
  // daemons log events of operational interest, not one line per order).
  spdlog::init_thread_pool(8192, 1);
  auto logger = std::make_shared<spdlog::async_logger>(std::string(daemon), std::move(sink), spdlog::thread_pool(),
                                                       spdlog::async_overflow_policy::block);
  logger->set_pattern(format == "json" ? kJsonPattern : kTextPattern, spdlog::pattern_time_type::utc);
  logger->set_level(lvl);
  logger->flush_on(spdlog::level::warn);
  State& state = Global();
  state.logger = std::move(logger);
  state.json = format == "json";
  spdlog::flush_every(std::chrono::seconds(1));
  return absl::OkStatus();
}

void Shutdown() {
  State& state = Global();
  state.logger->flush();
  auto fallback = std::make_shared<spdlog::logger>(state.logger->name(), std::make_shared<spdlog::sinks::stderr_sink_mt>());
  fallback->set_pattern(state.json ? kJsonPattern : kTextPattern, spdlog::pattern_time_type::utc);
  state.logger = std::move(fallback);
  spdlog::shutdown();
}

void Flush() { Global().logger->flush(); }

bool Enabled(Level level) { return Global().logger->should_log(ToSpd(level)); }

void Write(Level level, std::string_view message, std::initializer_list<Field> fields) {
  State& state = Global();
  const spdlog::level::level_enum lvl = ToSpd(level);
  if (!state.logger->should_log(lvl)) return;
  std::string payload;
  if (state.json) {
    absl::StrAppend(&payload, "\"msg\":", JsonQuote(message));
    for (const Field& f : fields) absl::StrAppend(&payload, ",", JsonQuote(f.key), ":", f.json);  // NOLINT
  } else {
    payload.assign(message);
    for (const Field& f : fields) absl::StrAppend(&payload, " ", std::string(f.key), "=", f.text);
  }
  state.logger->log(lvl, spdlog::string_view_t(payload.data(), payload.size()));
}

}  // namespace pom::log

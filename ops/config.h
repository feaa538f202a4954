// Daemon configuration (docs/operations.md "Configuration"): a schema of typed keys, filled in
// four layers, each overriding the one before:
//   1. the schema's defaults,
//   2. a TOML file (--config FILE, or POM_<DAEMON>_CONFIG), read with toml++,
//   3. command-line flags (CLI11),
//   4. environment variables POM_<DAEMON>_<KEY>.
// Keys are dotted, "section.name". The environment name of a key drops the daemon's own section:
// for the matcher, "matcher.listen" is POM_MATCHER_LISTEN and "admin.listen" is
// POM_MATCHER_ADMIN_LISTEN. Every error names the key, where it came from and what is wrong: an
// unknown key (file or flag), a value of the wrong type or out of range, a missing required value.
// Secret keys are shown as "<redacted>" by Render (--print-config) and never logged.
// Thread-safety: a Config is immutable once loaded; read it from any thread.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"

namespace pom::ops {

enum class ValueType { kString, kInteger, kBool };
using Value = std::variant<std::string, int64_t, bool>;

struct KeySpec {
  std::string key;   // "section.name"
  std::string flag;  // "--flag" name without dashes; empty: no flag
  ValueType type = ValueType::kString;
  Value default_value;
  std::string help;
  bool required = false;   // must be set by some layer (strings: non-empty)
  bool secret = false;     // redacted by Render
  bool hidden = false;     // test hooks: left out of Render while at the default
  int64_t min = 0;         // integers
  int64_t max = INT64_MAX;
  std::vector<std::string> choices;  // strings: allowed values; empty: any
  // A boolean's flag sets this value when given (e.g. --no-ws sets websocket.enabled = false).
  bool flag_sets = true;
};

class ConfigSchema {
 public:
  // `daemon`: "matcher" or "verifier"; names the environment prefix POM_<DAEMON>_ and the section
  // whose keys have no section part in their environment names.
  explicit ConfigSchema(std::string daemon) : daemon_(std::move(daemon)) {}

  ConfigSchema& String(std::string key, std::string flag, std::string default_value, std::string help);
  ConfigSchema& Integer(std::string key, std::string flag, int64_t default_value, int64_t min, int64_t max,
                        std::string help);
  ConfigSchema& Bool(std::string key, std::string flag, bool default_value, std::string help,
                     bool flag_sets = true);
  // Modifiers of the key added last.
  ConfigSchema& Required();
  ConfigSchema& Secret();
  ConfigSchema& Hidden();
  ConfigSchema& Choices(std::vector<std::string> choices);

  const std::string& daemon() const { return daemon_; }
  const std::vector<KeySpec>& keys() const { return keys_; }
  const KeySpec* Find(std::string_view key) const;
  std::string EnvName(const KeySpec& spec) const;
  std::string ConfigEnvName() const;  // POM_<DAEMON>_CONFIG

 private:
  std::string daemon_;
  std::vector<KeySpec> keys_;
};

// Where a key's effective value came from.
enum class Source { kDefault, kFile, kFlag, kEnv };

class Config {
 public:
  // Accessors abort on a key the schema lacks or of another type: that is a programming error.
  const std::string& String(std::string_view key) const;
  int64_t Integer(std::string_view key) const;
  uint64_t Unsigned(std::string_view key) const;  // integers whose minimum is >= 0
  bool Bool(std::string_view key) const;
  Source SourceOf(std::string_view key) const;

  bool print_config() const { return print_config_; }
  bool help() const { return help_; }
  const std::string& help_text() const { return help_text_; }
  const std::string& file() const { return file_; }  // empty: no file
  const ConfigSchema& schema() const { return *schema_; }

  // The effective configuration as TOML, one commented line per key naming its source; secrets
  // (when set) are "<redacted>".
  std::string Render() const;

 private:
  friend class ConfigLoader;
  const ConfigSchema* schema_ = nullptr;
  std::map<std::string, Value, std::less<>> values_;
  std::map<std::string, Source, std::less<>> sources_;
  bool print_config_ = false;
  bool help_ = false;
  std::string help_text_;
  std::string file_;
};

// Looks an environment variable up (tests pass their own).
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;
EnvLookup ProcessEnvironment();
// The process's POM_<DAEMON>_* variables that name no key (likely typos; logged as warnings).
std::vector<std::string> UnknownEnvironment(const ConfigSchema& schema);

// `args`: the command line after the subcommand ("serve"). `program`: for the help text.
// Errors: InvalidArgument naming the problem (the schema must outlive the Config).
absl::StatusOr<Config> LoadConfig(const ConfigSchema& schema, const std::string& program,
                                  const std::vector<std::string>& args, const EnvLookup& env);

}  // namespace pom::ops

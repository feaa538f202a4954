#include "ops/config.h"

#include <unistd.h>

#include <cstdlib>

#include "CLI/CLI.hpp"
#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "ops/log.h"
#include "toml++/toml.h"

namespace pom::ops {
namespace {

std::string TypeName(ValueType type) {
  switch (type) {
    case ValueType::kString:
      return "a string";
    case ValueType::kInteger:
      return "an integer";
    case ValueType::kBool:
      return "a boolean";
  }
  return "?";
}

std::string TomlTypeName(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string:
      return "a string";
    case toml::node_type::integer:
      return "an integer";
    case toml::node_type::floating_point:
      return "a float";
    case toml::node_type::boolean:
      return "a boolean";
    case toml::node_type::table:
      return "a table";
    case toml::node_type::array:
      return "an array";
    default:
      return "a date or time";
  }
}

// A TOML basic string: JSON's escapes are all valid TOML escapes.
std::string Quote(std::string_view s) { return log::JsonQuote(s); }

// Checks range and choices; `where` names the layer ("config file F", "flag --x", "environment X").
absl::Status Check(const KeySpec& spec, const Value& value, const std::string& where) {
  if (spec.type == ValueType::kInteger) {
    const int64_t v = std::get<int64_t>(value);
    if (v < spec.min || v > spec.max) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": ", spec.key, " = ", v, " is out of range [", spec.min,
                                                     ", ", spec.max, "]"));
    }
  }
  if (spec.type == ValueType::kString && !spec.choices.empty()) {
    const std::string& v = std::get<std::string>(value);
    bool ok = false;
    for (const std::string& c : spec.choices) ok = ok || c == v;
    if (!ok) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": ", spec.key, " = \"", v, "\" is not one of ",
                                                     absl::StrJoin(spec.choices, ", ")));
    }
  }
  return absl::OkStatus();
}

// A flag's or an environment variable's text as the key's type.
absl::StatusOr<Value> ParseText(const KeySpec& spec, const std::string& text, const std::string& where) {
  switch (spec.type) {
    case ValueType::kString:
      return Value(std::string(text));
    case ValueType::kInteger: {
      int64_t v = 0;
      if (!absl::SimpleAtoi(absl::StripAsciiWhitespace(text), &v)) {
        return absl::InvalidArgumentError(
            absl::StrCat(where, ": ", spec.key, " expects an integer, got \"", text, "\""));
      }
      return Value(v);
    }
    case ValueType::kBool: {
      const std::string t = absl::AsciiStrToLower(absl::StripAsciiWhitespace(text));
      if (t == "true" || t == "1" || t == "yes" || t == "on") return Value(true);
      if (t == "false" || t == "0" || t == "no" || t == "off") return Value(false);
      return absl::InvalidArgumentError(
          absl::StrCat(where, ": ", spec.key, " expects a boolean (true or false), got \"", text, "\""));
    }
  }
  return absl::InternalError("unknown type");
}

std::string Render(const Value& v) {
  if (const auto* s = std::get_if<std::string>(&v)) return Quote(*s);
  if (const auto* i = std::get_if<int64_t>(&v)) return absl::StrCat(*i);
  return std::get<bool>(v) ? "true" : "false";
}

}  // namespace

// ---- ConfigSchema ----

ConfigSchema& ConfigSchema::String(std::string key, std::string flag, std::string default_value, std::string help) {
  KeySpec k;
  k.key = std::move(key);
  k.flag = std::move(flag);
  k.type = ValueType::kString;
  k.default_value = std::move(default_value);
  k.help = std::move(help);
  keys_.push_back(std::move(k));
  return *this;
}

ConfigSchema& ConfigSchema::Integer(std::string key, std::string flag, int64_t default_value, int64_t min,
                                    int64_t max, std::string help) {
  KeySpec k;
  k.key = std::move(key);
  k.flag = std::move(flag);
  k.type = ValueType::kInteger;
  k.default_value = default_value;
  k.min = min;
  k.max = max;
  k.help = std::move(help);
  keys_.push_back(std::move(k));
  return *this;
}

ConfigSchema& ConfigSchema::Bool(std::string key, std::string flag, bool default_value, std::string help,
                                 bool flag_sets) {
  KeySpec k;
  k.key = std::move(key);
  k.flag = std::move(flag);
  k.type = ValueType::kBool;
  k.default_value = default_value;
  k.help = std::move(help);
  k.flag_sets = flag_sets;
  keys_.push_back(std::move(k));
  return *this;
}

ConfigSchema& ConfigSchema::Required() {
  keys_.back().required = true;
  return *this;
}
ConfigSchema& ConfigSchema::Secret() {
  keys_.back().secret = true;
  return *this;
}
ConfigSchema& ConfigSchema::Hidden() {
  keys_.back().hidden = true;
  return *this;
}
ConfigSchema& ConfigSchema::Choices(std::vector<std::string> choices) {
  keys_.back().choices = std::move(choices);
  return *this;
}

const KeySpec* ConfigSchema::Find(std::string_view key) const {
  for (const KeySpec& k : keys_) {
    if (k.key == key) return &k;
  }
  return nullptr;
}

std::string ConfigSchema::EnvName(const KeySpec& spec) const {
  std::string key = spec.key;
  const std::string own = daemon_ + ".";
  if (key.compare(0, own.size(), own) == 0) key = key.substr(own.size());
  std::string name = absl::StrCat("POM_", daemon_, "_", absl::StrReplaceAll(key, {{".", "_"}}));
  return absl::AsciiStrToUpper(name);
}

std::string ConfigSchema::ConfigEnvName() const { return absl::AsciiStrToUpper(absl::StrCat("POM_", daemon_, "_CONFIG")); }

// ---- Config ----

namespace {
[[noreturn]] void BadKey(std::string_view key) {
  std::fprintf(stderr, "pom: internal error: configuration key %.*s is not in the schema or has another type\n",
               static_cast<int>(key.size()), key.data());
  std::abort();
}
}  // namespace

const std::string& Config::String(std::string_view key) const {
  auto it = values_.find(key);
  if (it == values_.end() || !std::holds_alternative<std::string>(it->second)) BadKey(key);
  return std::get<std::string>(it->second);
}

int64_t Config::Integer(std::string_view key) const {
  auto it = values_.find(key);
  if (it == values_.end() || !std::holds_alternative<int64_t>(it->second)) BadKey(key);
  return std::get<int64_t>(it->second);
}

uint64_t Config::Unsigned(std::string_view key) const {
  const KeySpec* spec = schema_->Find(key);
  if (spec == nullptr || spec->min < 0) BadKey(key);
  return static_cast<uint64_t>(Integer(key));
}

bool Config::Bool(std::string_view key) const {
  auto it = values_.find(key);
  if (it == values_.end() || !std::holds_alternative<bool>(it->second)) BadKey(key);
  return std::get<bool>(it->second);
}

Source Config::SourceOf(std::string_view key) const {
  auto it = sources_.find(key);
  if (it == sources_.end()) BadKey(key);
  return it->second;
}

std::string Config::Render() const {
  std::string out = absl::StrCat("# pom-", schema_->daemon(), " effective configuration",
                                 file_.empty() ? "" : absl::StrCat(" (file ", file_, ")"), "\n");
  std::string section;
  for (const KeySpec& spec : schema_->keys()) {
    const Value& value = values_.find(spec.key)->second;
    const Source source = sources_.find(spec.key)->second;
    if (spec.hidden && source == Source::kDefault) continue;
    const size_t dot = spec.key.find('.');
    const std::string this_section = spec.key.substr(0, dot);
    if (this_section != section) {
      absl::StrAppend(&out, section.empty() ? "" : "\n", "[", this_section, "]\n");
      section = this_section;
    }
    std::string shown = ::pom::ops::Render(value);
    if (spec.secret && !std::get<std::string>(value).empty()) shown = "\"<redacted>\"";
    std::string from;
    switch (source) {
      case Source::kDefault:
        from = "default";
        break;
      case Source::kFile:
        from = "file";
        break;
      case Source::kFlag:
        from = absl::StrCat("flag --", spec.flag);
        break;
      case Source::kEnv:
        from = absl::StrCat("env ", schema_->EnvName(spec));
        break;
    }
    absl::StrAppend(&out, spec.key.substr(dot + 1), " = ", shown, "  # ", from, "\n");
  }
  return out;
}

EnvLookup ProcessEnvironment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

std::vector<std::string> UnknownEnvironment(const ConfigSchema& schema) {
  const std::string prefix = absl::AsciiStrToUpper(absl::StrCat("POM_", schema.daemon(), "_"));
  std::vector<std::string> unknown;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    const std::string entry(*e);
    const std::string name = entry.substr(0, entry.find('='));
    if (name.compare(0, prefix.size(), prefix) != 0 || name == schema.ConfigEnvName()) continue;
    bool known = false;
    for (const KeySpec& spec : schema.keys()) known = known || schema.EnvName(spec) == name;
    if (!known) unknown.push_back(name);
  }
  return unknown;
}

// ---- Loading ----

class ConfigLoader {
 public:
  static absl::StatusOr<Config> Load(const ConfigSchema& schema, const std::string& program,
                                     const std::vector<std::string>& args, const EnvLookup& env) {
    Config config;
    config.schema_ = &schema;
    for (const KeySpec& spec : schema.keys()) {
      config.values_[spec.key] = spec.default_value;
      config.sources_[spec.key] = Source::kDefault;
    }

    // Flags first (they name the file), applied after the file.
    CLI::App app(absl::StrCat(program, ": flags override the config file; POM_", absl::AsciiStrToUpper(schema.daemon()),
                              "_* environment variables override both"),
                 program);
    std::string config_file;
    bool print_config = false;
    app.add_option("--config", config_file, "TOML configuration file (or " + schema.ConfigEnvName() + ")");
    app.add_flag("--print-config", print_config, "print the effective configuration (secrets redacted) and exit");
    std::map<std::string, std::string> texts;
    std::map<std::string, CLI::Option*> options;
    for (const KeySpec& spec : schema.keys()) {
      if (spec.flag.empty()) continue;
      const std::string help = absl::StrCat(spec.help, " [", spec.key, ", ", schema.EnvName(spec), "]");
      if (spec.type == ValueType::kBool) {
        options[spec.key] = app.add_flag("--" + spec.flag, help);
      } else {
        options[spec.key] = app.add_option("--" + spec.flag, texts[spec.key], help);
      }
    }
    std::vector<const char*> argv = {program.c_str()};
    for (const std::string& a : args) argv.push_back(a.c_str());
    try {
      app.parse(static_cast<int>(argv.size()), argv.data());
    } catch (const CLI::CallForHelp&) {
      config.help_ = true;
      config.help_text_ = app.help();
      return config;
    } catch (const CLI::ParseError& e) {
      return absl::InvalidArgumentError(absl::StrCat("command line: ", e.what()));
    }

    // 2. The file.
    if (config_file.empty()) config_file = env(schema.ConfigEnvName()).value_or("");
    if (!config_file.empty()) {
      config.file_ = config_file;
      if (absl::Status s = ApplyFile(schema, config_file, config); !s.ok()) return s;
    }
    // 3. Flags.
    for (const auto& [key, option] : options) {
      if (option->count() == 0) continue;
      const KeySpec& spec = *schema.Find(key);
      const std::string where = absl::StrCat("flag --", spec.flag);
      Value value;
      if (spec.type == ValueType::kBool) {
        value = spec.flag_sets;
      } else {
        absl::StatusOr<Value> parsed = ParseText(spec, texts[key], where);
        if (!parsed.ok()) return parsed.status();
        value = *std::move(parsed);
      }
      if (absl::Status s = Check(spec, value, where); !s.ok()) return s;
      config.values_[key] = std::move(value);
      config.sources_[key] = Source::kFlag;
    }
    // 4. The environment.
    for (const KeySpec& spec : schema.keys()) {
      const std::string name = schema.EnvName(spec);
      std::optional<std::string> text = env(name);
      if (!text.has_value()) continue;
      const std::string where = absl::StrCat("environment ", name);
      absl::StatusOr<Value> parsed = ParseText(spec, *text, where);
      if (!parsed.ok()) return parsed.status();
      if (absl::Status s = Check(spec, *parsed, where); !s.ok()) return s;
      config.values_[spec.key] = *std::move(parsed);
      config.sources_[spec.key] = Source::kEnv;
    }
    // Required values.
    for (const KeySpec& spec : schema.keys()) {
      if (!spec.required) continue;
      const Value& v = config.values_[spec.key];
      const bool missing = config.sources_[spec.key] == Source::kDefault ||
                           (spec.type == ValueType::kString && std::get<std::string>(v).empty());
      if (missing) {
        const size_t dot = spec.key.find('.');
        return absl::InvalidArgumentError(absl::StrCat(
            "missing required value ", spec.key, ": set ", spec.key.substr(dot + 1), " in the [",
            spec.key.substr(0, dot), "] section of the config file",
            spec.flag.empty() ? "" : absl::StrCat(", --", spec.flag), " or ", schema.EnvName(spec)));
      }
    }
    config.print_config_ = print_config;
    return config;
  }

 private:
  static absl::Status ApplyFile(const ConfigSchema& schema, const std::string& path, Config& config) {
    toml::table table;
    try {
      table = toml::parse_file(path);
    } catch (const toml::parse_error& e) {
      return absl::InvalidArgumentError(absl::StrCat("config file ", path, ":", e.source().begin.line, ":",
                                                     e.source().begin.column, ": ", std::string(e.description())));
    }
    for (auto&& [section, node] : table) {
      const std::string section_name(section.str());
      if (!node.is_table()) {
        return absl::InvalidArgumentError(absl::StrCat("config file ", path, ":", node.source().begin.line,
                                                       ": unknown key '", section_name,
                                                       "' (keys belong in sections, e.g. [", schema.daemon(), "])"));
      }
      bool known_section = false;
      for (const KeySpec& spec : schema.keys()) {
        known_section = known_section || spec.key.substr(0, spec.key.find('.')) == section_name;
      }
      if (!known_section) {
        return absl::InvalidArgumentError(absl::StrCat("config file ", path, ":", node.source().begin.line,
                                                       ": unknown section [", section_name, "]"));
      }
      for (auto&& [name, value] : *node.as_table()) {
        const std::string key = absl::StrCat(section_name, ".", std::string(name.str()));
        const std::string where = absl::StrCat("config file ", path, ":", value.source().begin.line);
        const KeySpec* spec = schema.Find(key);
        if (spec == nullptr) {
          return absl::InvalidArgumentError(absl::StrCat(where, ": unknown key '", key, "'"));
        }
        Value v;
        if (spec->type == ValueType::kString && value.is_string()) {
          v = std::string(*value.value<std::string_view>());
        } else if (spec->type == ValueType::kInteger && value.is_integer()) {
          v = *value.value<int64_t>();
        } else if (spec->type == ValueType::kBool && value.is_boolean()) {
          v = *value.value<bool>();
        } else {
          return absl::InvalidArgumentError(absl::StrCat(where, ": ", key, " expects ", TypeName(spec->type),
                                                         ", got ", TomlTypeName(value)));
        }
        if (absl::Status s = Check(*spec, v, where); !s.ok()) return s;
        config.values_[key] = std::move(v);
        config.sources_[key] = Source::kFile;
      }
    }
    return absl::OkStatus();
  }
};

absl::StatusOr<Config> LoadConfig(const ConfigSchema& schema, const std::string& program,
                                  const std::vector<std::string>& args, const EnvLookup& env) {
  return ConfigLoader::Load(schema, program, args, env);
}

}  // namespace pom::ops

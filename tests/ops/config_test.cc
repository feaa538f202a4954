// The configuration loader (ops/config.h): layers, errors that name the problem, redaction.
// The daemons' own schemas are exercised through their binaries in
// tests/integration/ops_test.py.
#include "ops/config.h"

#include <cstdio>
#include <fstream>
#include <map>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include <filesystem>
#include <stdlib.h>

namespace pom::ops {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

ConfigSchema TestSchema() {
  ConfigSchema c("demo");
  c.String("demo.listen", "listen", "127.0.0.1:1", "address")
      .String("demo.genesis", "genesis", "", "genesis file")
      .Required()
      .Integer("demo.max_batch", "max-batch", 256, 1, 1000, "batch")
      .String("demo.tree", "tree", "memory", "tree").Choices({"memory", "rocksdb"})
      .Bool("web.enabled", "no-web", true, "web off", /*flag_sets=*/false)
      .Integer("web.rate", "web-rate", 50, 1, 100000, "rate")
      .String("admin.token", "token", "", "token")
      .Secret();
  return c;
}

class ConfigTest : public ::testing::Test {
 protected:
  std::string File(const std::string& text) {
    const std::string path = dir_ + "/c" + std::to_string(++files_) + ".toml";
    std::ofstream(path) << text;
    return path;
  }
  absl::StatusOr<Config> Load(std::vector<std::string> args, std::map<std::string, std::string> env = {}) {
    return LoadConfig(schema_, "demo", args, [env](const std::string& name) -> std::optional<std::string> {
      auto it = env.find(name);
      if (it == env.end()) return std::nullopt;
      return it->second;
    });
  }
  void SetUp() override {
    std::string pattern = ::testing::TempDir() + "config_test_XXXXXX";
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr);
    dir_ = pattern;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  ConfigSchema schema_ = TestSchema();
  std::string dir_;
  int files_ = 0;
};

TEST_F(ConfigTest, DefaultsAndTheRequiredValue) {
  absl::StatusOr<Config> c = Load({"--genesis", "g.json"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->String("demo.listen"), "127.0.0.1:1");
  EXPECT_EQ(c->Integer("demo.max_batch"), 256);
  EXPECT_TRUE(c->Bool("web.enabled"));
  EXPECT_EQ(c->SourceOf("demo.listen"), Source::kDefault);
  EXPECT_EQ(c->SourceOf("demo.genesis"), Source::kFlag);
}

TEST_F(ConfigTest, MissingRequiredValueNamesTheKeyAndEveryWayToSetIt) {
  absl::StatusOr<Config> c = Load({});
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(c.status().message(), HasSubstr("missing required value demo.genesis"));
  EXPECT_THAT(c.status().message(), HasSubstr("--genesis"));
  EXPECT_THAT(c.status().message(), HasSubstr("POM_DEMO_GENESIS"));
  // An empty string does not count as set.
  EXPECT_FALSE(Load({}, {{"POM_DEMO_GENESIS", ""}}).ok());
}

TEST_F(ConfigTest, UnknownKeyInTheFileIsNamedWithItsLine) {
  absl::StatusOr<Config> c = Load({"--config", File("[demo]\ngenesis = \"g\"\n\nlisen = \"x\"\n")});
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("unknown key 'demo.lisen'"));
  EXPECT_THAT(c.status().message(), HasSubstr(":4"));
}

TEST_F(ConfigTest, UnknownSectionAndTopLevelKeysAreRejected) {
  absl::StatusOr<Config> c = Load({"--config", File("[demo]\ngenesis = \"g\"\n[metrics]\nport = 1\n")});
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("unknown section [metrics]"));
  c = Load({"--config", File("genesis = \"g\"\n")});
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("unknown key 'genesis'"));
}

TEST_F(ConfigTest, WrongTypesAreNamed) {
  absl::StatusOr<Config> c = Load({"--config", File("[demo]\ngenesis = \"g\"\nmax_batch = \"many\"\n")});
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("demo.max_batch expects an integer, got a string"));
  c = Load({"--config", File("[demo]\ngenesis = 7\n")});
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("demo.genesis expects a string, got an integer"));
  c = Load({"--config", File("[demo]\ngenesis = \"g\"\n[web]\nenabled = \"yes\"\n")});
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("web.enabled expects a boolean, got a string"));
  c = Load({"--config", File("[demo]\ngenesis = \"g\"\nmax_batch = 1.5\n")});
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("got a float"));
  c = Load({"--genesis", "g", "--max-batch", "12x"});
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("flag --max-batch: demo.max_batch expects an integer, got \"12x\""));
  c = Load({"--genesis", "g"}, {{"POM_DEMO_WEB_ENABLED", "maybe"}});
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("environment POM_DEMO_WEB_ENABLED"));
}

TEST_F(ConfigTest, RangesAndChoicesAreChecked) {
  absl::StatusOr<Config> c = Load({"--config", File("[demo]\ngenesis = \"g\"\nmax_batch = 0\n")});
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("demo.max_batch = 0 is out of range [1, 1000]"));
  c = Load({"--genesis", "g", "--tree", "disk"});
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("is not one of memory, rocksdb"));
}

TEST_F(ConfigTest, SyntaxErrorsAndMissingFilesAreReported) {
  absl::StatusOr<Config> c = Load({"--config", File("[demo\ngenesis = \"g\"\n")});
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("config file"));
  c = Load({"--config", dir_ + "/absent.toml"});
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("absent.toml"));
}

TEST_F(ConfigTest, UnknownFlagsAreRejected) {
  absl::StatusOr<Config> c = Load({"--genesis", "g", "--lisen", "x"});
  ASSERT_FALSE(c.ok());
  EXPECT_THAT(c.status().message(), HasSubstr("--lisen"));
}

TEST_F(ConfigTest, FlagsOverrideTheFileAndTheEnvironmentOverridesBoth) {
  const std::string file = File("[demo]\ngenesis = \"file.json\"\nlisten = \"file:1\"\nmax_batch = 10\n"
                                "[web]\nrate = 11\n");
  absl::StatusOr<Config> c = Load({"--config", file});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->String("demo.listen"), "file:1");
  EXPECT_EQ(c->Integer("web.rate"), 11);
  EXPECT_EQ(c->SourceOf("web.rate"), Source::kFile);

  c = Load({"--config", file, "--listen", "flag:2", "--web-rate", "22", "--no-web"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->String("demo.listen"), "flag:2");
  EXPECT_EQ(c->Integer("web.rate"), 22);
  EXPECT_FALSE(c->Bool("web.enabled"));
  EXPECT_EQ(c->Integer("demo.max_batch"), 10);  // from the file still

  c = Load({"--config", file, "--listen", "flag:2", "--web-rate", "22"},
           {{"POM_DEMO_LISTEN", "env:3"}, {"POM_DEMO_WEB_RATE", "33"}, {"POM_DEMO_MAX_BATCH", "44"}});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->String("demo.listen"), "env:3");
  EXPECT_EQ(c->Integer("web.rate"), 33);
  EXPECT_EQ(c->Integer("demo.max_batch"), 44);
  EXPECT_EQ(c->SourceOf("demo.listen"), Source::kEnv);

  // The file can come from the environment too.
  c = Load({}, {{"POM_DEMO_CONFIG", file}});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->String("demo.genesis"), "file.json");
}

TEST_F(ConfigTest, RenderShowsSourcesAndRedactsSecrets) {
  const std::string file = File("[demo]\ngenesis = \"g.json\"\n[admin]\ntoken = \"s3cr3t-t0ken\"\n");
  absl::StatusOr<Config> c = Load({"--config", file, "--web-rate", "7"}, {{"POM_DEMO_LISTEN", "0.0.0.0:9"}});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->String("admin.token"), "s3cr3t-t0ken");  // the daemon still gets it
  const std::string text = c->Render();
  EXPECT_THAT(text, Not(HasSubstr("s3cr3t")));
  EXPECT_THAT(text, HasSubstr("token = \"<redacted>\"  # file"));
  EXPECT_THAT(text, HasSubstr("rate = 7  # flag --web-rate"));
  EXPECT_THAT(text, HasSubstr("listen = \"0.0.0.0:9\"  # env POM_DEMO_LISTEN"));
  EXPECT_THAT(text, HasSubstr("[web]"));
  // The rendering is itself a valid config: loading it gives the same values (secrets aside).
  absl::StatusOr<Config> again = Load({"--config", File(text), "--token", "x"});
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->String("demo.listen"), "0.0.0.0:9");
  EXPECT_EQ(again->Integer("web.rate"), 7);
}

TEST_F(ConfigTest, HelpIsAnsweredNotAnError) {
  absl::StatusOr<Config> c = Load({"--help"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->help());
  EXPECT_THAT(c->help_text(), HasSubstr("--web-rate"));
  EXPECT_THAT(c->help_text(), HasSubstr("POM_DEMO_WEB_RATE"));
}

TEST(ConfigSchemaTest, EnvironmentNamesDropTheDaemonsOwnSection) {
  ConfigSchema s = TestSchema();
  EXPECT_EQ(s.EnvName(*s.Find("demo.listen")), "POM_DEMO_LISTEN");
  EXPECT_EQ(s.EnvName(*s.Find("web.rate")), "POM_DEMO_WEB_RATE");
  EXPECT_EQ(s.ConfigEnvName(), "POM_DEMO_CONFIG");
}

}  // namespace
}  // namespace pom::ops

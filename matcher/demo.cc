#include "matcher/demo.h"

#include <array>
#include <cstdio>

#include "absl/strings/str_cat.h"
#include "common/ed25519.h"
#include "common/hash.h"
#include "common/money.h"
#include "common/smt/memory_node_store.h"
#include "common/smt/tree.h"
#include "common/status_macros.h"

namespace pom::matcher {
namespace {

// Account leaf key per docs/protocol.md: H(0x00 || user(32) || currency u32le).
template <typename Hasher>
Bytes32 AccountKey(Hasher& h, const PublicKey& user, uint32_t currency) {
  std::array<uint8_t, 37> raw{};
  raw[0] = 0x00;
  std::copy(user.bytes.begin(), user.bytes.end(), raw.begin() + 1);
  PutU32Le(currency, raw.data() + 33);
  return h.Digest(raw);
}

template <typename Hasher>
absl::Status RunWith(std::string_view name) {
  Hasher hasher;
  smt::MemoryNodeStore store;
  POM_ASSIGN_OR_RETURN(auto tree, smt::SparseMerkleTree<Hasher>::Open(&store));
  std::vector<Bytes32> keys;
  std::vector<smt::SmtLeaf> leaves;
  // Three demo users with deterministic keys, funded in two currencies.
  const char* balances[3][2] = {{"1000", "25.5"}, {"250.125", "0"}, {"0.000000000000000001", "7"}};
  for (uint8_t u = 0; u < 3; ++u) {
    Bytes32 seed;
    seed[0] = static_cast<uint8_t>(u + 1);
    const KeyPair user = KeyPairFromSeed(seed);
    for (uint32_t currency = 0; currency < 2; ++currency) {
      POM_ASSIGN_OR_RETURN(Amount available, ParseAmount(balances[u][currency]));
      const Bytes32 key = AccountKey(hasher, user.public_key, currency);
      const Bytes32 value = PackHalves(available.raw(), 0);
      POM_RETURN_IF_ERROR(tree.Update(key, value));
      keys.push_back(key);
      leaves.push_back({key, value});
    }
  }
  POM_ASSIGN_OR_RETURN(std::vector<uint8_t> proof, tree.Multiproof(keys));
  POM_ASSIGN_OR_RETURN(Bytes32 proven, smt::ComputeMultiproofRoot(hasher, proof, leaves));
  if (proven != tree.root()) return absl::InternalError("demo: multiproof does not prove the root");
  std::printf("%.*s: %zu account leaves, multiproof of all of them %zu bytes, verified\n",
              static_cast<int>(name.size()), name.data(), keys.size(), proof.size());
  std::printf("%.*s root=%s\n", static_cast<int>(name.size()), name.data(),
              ToHex(tree.root()).c_str());
  return absl::OkStatus();
}

}  // namespace

absl::Status RunDemo() {
  POM_RETURN_IF_ERROR(RunWith<Blake2b256Hasher>("blake2b256"));
  return RunWith<Sha256Hasher>("sha256");
}

}  // namespace pom::matcher

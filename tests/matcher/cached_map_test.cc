// CachedMap against a plain std::map under random finds, puts, find-or-inserts, erases and
// erase-ifs, with copies and moves in between: the remembered element must never outlive its
// key, survive a growing table, or leak into a copy.
#include "matcher/cached_map.h"

#include <gtest/gtest.h>

#include <map>
#include <random>

#include "tests/testing/random.h"

namespace pom::matcher {
namespace {

void ExpectSame(CachedMap<uint64_t, uint64_t>& cached, const std::map<uint64_t, uint64_t>& plain,
                uint64_t key_range) {
  ASSERT_EQ(cached.size(), plain.size());
  for (uint64_t k = 0; k < key_range; ++k) {
    auto it = plain.find(k);
    const uint64_t* got = cached.Find(k);
    ASSERT_EQ(got != nullptr, it != plain.end()) << "key " << k;
    if (got != nullptr) {
      ASSERT_EQ(*got, it->second) << "key " << k;
    }
    ASSERT_EQ(cached.contains(k), it != plain.end());
  }
}

TEST(CachedMap, AgreesWithAPlainMap) {
  for (uint64_t seed : testing::TestSeeds({1, 2, 3, 4})) {
    SCOPED_TRACE(testing::SeedBanner(seed));
    std::mt19937_64 rng(seed);
    // Few keys (the cache hits often) and then many (the table grows under the cache).
    for (uint64_t key_range : {8u, 5000u}) {
      CachedMap<uint64_t, uint64_t> cached;
      std::map<uint64_t, uint64_t> plain;
      for (int step = 0; step < 40000; ++step) {
        const uint64_t key = rng() % key_range;
        if (step % 4001 == 4000) {  // erase the odd values, whatever is remembered
          cached.EraseIf([](uint64_t, uint64_t v) { return v % 2 == 1; });
          std::erase_if(plain, [](const auto& kv) { return kv.second % 2 == 1; });
          ExpectSame(cached, plain, key_range);
        }
        switch (rng() % 9) {
          case 0:
          case 1:
          case 2: {  // read, then write the same key (the rules' pattern)
            const uint64_t* v = cached.Find(key);
            auto it = plain.find(key);
            ASSERT_EQ(v != nullptr, it != plain.end());
            if (v != nullptr) {
              ASSERT_EQ(*v, it->second);
            }
            const uint64_t value = rng();
            cached.Put(key, value);
            plain[key] = value;
            break;
          }
          case 3:
          case 4: {
            const uint64_t value = rng();
            cached.Put(key, value);
            plain[key] = value;
            break;
          }
          case 5: {  // erase what was just found (the remembered key)
            cached.Find(key);
            cached.Erase(key);
            plain.erase(key);
            ASSERT_EQ(cached.Find(key), nullptr);
            break;
          }
          case 6: {
            cached.Erase(key);
            plain.erase(key);
            break;
          }
          case 7: {  // find or make, then write through the pointer
            auto [v, inserted] = cached.FindOrInsert(key);
            ASSERT_EQ(inserted, !plain.contains(key));
            if (inserted) {
              ASSERT_EQ(*v, 0u);
            } else {
              ASSERT_EQ(*v, plain[key]);
            }
            *v = rng();
            plain[key] = *v;
            break;
          }
          default: {
            const uint64_t* v = cached.Find(key);
            auto it = plain.find(key);
            ASSERT_EQ(v != nullptr, it != plain.end()) << "step " << step;
            if (v != nullptr) {
              ASSERT_EQ(*v, it->second) << "step " << step;
            }
          }
        }
        if (step % 9973 == 0) {
          // A copy and a move: each must behave as its own map from here on.
          CachedMap<uint64_t, uint64_t> copy = cached;
          std::map<uint64_t, uint64_t> copy_plain = plain;
          copy.Put(key, 1);  // the key the source remembers
          copy_plain[key] = 1;
          ExpectSame(copy, copy_plain, key_range);
          ExpectSame(cached, plain, key_range);
          CachedMap<uint64_t, uint64_t> moved = std::move(copy);
          moved.Erase(key);
          copy_plain.erase(key);
          ExpectSame(moved, copy_plain, key_range);
          moved.Put(key, 7);  // remembered by `moved`
          copy_plain[key] = 7;
          cached = moved;  // copy-assign: the source's remembered element must not come along
          plain = copy_plain;
          cached.Put(key, 3);
          plain[key] = 3;
          ExpectSame(cached, plain, key_range);
          ExpectSame(moved, copy_plain, key_range);
        }
      }
      ExpectSame(cached, plain, key_range);
    }
  }
}

}  // namespace
}  // namespace pom::matcher

#include "proto/proof_decoder.h"

#include <cstring>

#include "common/bytes.h"
#include "proto/codec.h"

namespace pom::codec {
namespace {

using rules::Command;
using rules::EventProof;

constexpr uint32_t kVarint = 0;
constexpr uint32_t kLengthDelimited = 2;

// Reads protobuf wire data from [p, end). Every method returns false on anything outside the
// plain form (the caller then declines the whole message).
class Wire {
 public:
  explicit Wire(std::string_view bytes)
      : p_(reinterpret_cast<const uint8_t*>(bytes.data())), end_(p_ + bytes.size()) {}

  bool done() const { return p_ == end_; }

  bool Varint(uint64_t* v) {
    uint64_t result = 0;
    for (int i = 0; i < 10; ++i) {
      if (p_ == end_) return false;
      const uint8_t b = *p_++;
      if (i == 9 && b > 1) return false;  // beyond 64 bits
      result |= static_cast<uint64_t>(b & 0x7f) << (7 * i);
      if ((b & 0x80) == 0) {
        *v = result;
        return true;
      }
    }
    return false;
  }

  // The next field's number and wire type.
  bool Tag(uint32_t* field, uint32_t* type) {
    uint64_t tag = 0;
    if (!Varint(&tag) || tag > UINT32_MAX || (tag >> 3) == 0) return false;
    *field = static_cast<uint32_t>(tag >> 3);
    *type = static_cast<uint32_t>(tag & 7);
    return true;
  }

  bool LengthDelimited(std::string_view* v) {
    uint64_t len = 0;
    if (!Varint(&len) || len > static_cast<uint64_t>(end_ - p_) || len > INT32_MAX) return false;
    *v = std::string_view(reinterpret_cast<const char*>(p_), static_cast<size_t>(len));
    p_ += len;
    return true;
  }

 private:
  const uint8_t* p_;
  const uint8_t* end_;
};

// Tracks which singular fields a message has had: a second occurrence is declined (libprotobuf
// would let the last one win, or merge a sub-message).
class Seen {
 public:
  bool First(uint32_t field) {
    if (field >= 64) return false;
    const uint64_t bit = uint64_t{1} << field;
    if ((bits_ & bit) != 0) return false;
    bits_ |= bit;
    return true;
  }
  bool Has(uint32_t field) const { return field < 64 && (bits_ & (uint64_t{1} << field)) != 0; }

 private:
  uint64_t bits_ = 0;
};

// Walks the fields of one message: `on_field(field, type, wire)` returns false to decline.
template <typename OnField>
bool Fields(std::string_view bytes, OnField on_field) {
  Wire wire(bytes);
  while (!wire.done()) {
    uint32_t field = 0, type = 0;
    if (!wire.Tag(&field, &type)) return false;
    if (!on_field(field, type, wire)) return false;
  }
  return true;
}

template <size_t N>
bool Fixed(std::string_view in, std::array<uint8_t, N>& out) {
  if (in.size() != N) return false;
  std::memcpy(out.data(), in.data(), N);
  return true;
}

bool U128(std::string_view in, u128* out) {
  if (in.size() != 16) return false;
  *out = GetU128Le(reinterpret_cast<const uint8_t*>(in.data()));
  return true;
}
bool AmountOf(std::string_view in, Amount* out) {
  u128 v = 0;
  if (!U128(in, &v)) return false;
  *out = Amount::FromRaw(v);
  return true;
}
bool PriceOf(std::string_view in, Price* out) {
  u128 v = 0;
  if (!U128(in, &v)) return false;
  *out = Price::FromRaw(v);
  return true;
}

// A singular varint field: the value as libprotobuf stores a uint64 (or, truncated, a uint32).
bool ReadVarint(Seen& seen, uint32_t field, uint32_t type, Wire& wire, uint64_t* v) {
  return type == kVarint && seen.First(field) && wire.Varint(v);
}
bool ReadU32(Seen& seen, uint32_t field, uint32_t type, Wire& wire, uint32_t* v) {
  uint64_t x = 0;
  if (!ReadVarint(seen, field, type, wire, &x)) return false;
  *v = static_cast<uint32_t>(x);
  return true;
}
// An enum field (uint32 on the wire) in 0..max.
template <typename E>
bool ReadEnum(Seen& seen, uint32_t field, uint32_t type, Wire& wire, uint32_t max, E* out) {
  uint32_t v = 0;
  if (!ReadU32(seen, field, type, wire, &v) || v > max) return false;
  *out = static_cast<E>(v);
  return true;
}
bool ReadBytes(Seen& seen, uint32_t field, uint32_t type, Wire& wire, std::string_view* v) {
  return type == kLengthDelimited && seen.First(field) && wire.LengthDelimited(v);
}

bool DecodeMarket(std::string_view bytes, rules::MarketId* out) {
  Seen seen;
  uint32_t base = 0, quote = 0;
  const bool ok = Fields(bytes, [&](uint32_t field, uint32_t type, Wire& wire) {
    switch (field) {
      case 1: return ReadU32(seen, field, type, wire, &base);
      case 2: return ReadU32(seen, field, type, wire, &quote);
      default: return false;
    }
  });
  *out = rules::MarketId{rules::Currency{base}, rules::Currency{quote}};
  return ok;
}

// An optional MarketId field (absent: the default, as MarketFromProto of an empty message).
bool ReadMarket(Seen& seen, uint32_t field, uint32_t type, Wire& wire, rules::MarketId* out) {
  std::string_view bytes;
  return ReadBytes(seen, field, type, wire, &bytes) && DecodeMarket(bytes, out);
}

bool DecodeParams(std::string_view bytes, rules::MarketRecord* m) {
  Seen seen;
  std::string_view min_amount;
  const bool ok = Fields(bytes, [&](uint32_t field, uint32_t type, Wire& wire) {
    switch (field) {
      case 1: return ReadEnum(seen, field, type, wire, 2, &m->status);
      case 2: return ReadEnum(seen, field, type, wire, 18, &m->price_decimals);
      case 3: return ReadEnum(seen, field, type, wire, 18, &m->amount_decimals);
      case 4: return ReadBytes(seen, field, type, wire, &min_amount);
      case 5: return ReadU32(seen, field, type, wire, &m->maker_fee_ppm);
      case 6: return ReadU32(seen, field, type, wire, &m->taker_fee_ppm);
      case 7: return ReadU32(seen, field, type, wire, &m->max_makers);
      default: return false;
    }
  });
  return ok && AmountOf(min_amount, &m->min_amount);
}

bool DecodeBody(uint32_t kind, std::string_view bytes, rules::CommandBody* body) {
  Seen seen;
  switch (kind) {
    case 10: {
      rules::PlaceOrder b;
      std::string_view price, amount;
      const bool ok = Fields(bytes, [&](uint32_t field, uint32_t type, Wire& wire) {
        switch (field) {
          case 1: return ReadMarket(seen, field, type, wire, &b.market);
          case 2: return ReadEnum(seen, field, type, wire, 1, &b.side);
          case 3: return ReadEnum(seen, field, type, wire, 1, &b.type);
          case 4: return ReadEnum(seen, field, type, wire, 3, &b.time_in_force);
          case 5: return ReadEnum(seen, field, type, wire, 2, &b.stp);
          case 6: return ReadBytes(seen, field, type, wire, &price);
          case 7: return ReadBytes(seen, field, type, wire, &amount);
          case 8: return ReadVarint(seen, field, type, wire, &b.client_order_id);
          default: return false;
        }
      });
      if (!ok || !PriceOf(price, &b.price) || !AmountOf(amount, &b.amount)) return false;
      *body = b;
      return true;
    }
    case 11: {
      rules::CancelOrder b;
      const bool ok = Fields(bytes, [&](uint32_t field, uint32_t type, Wire& wire) {
        switch (field) {
          case 1: return ReadMarket(seen, field, type, wire, &b.market);
          case 2: return ReadVarint(seen, field, type, wire, &b.order.value);
          default: return false;
        }
      });
      if (!ok) return false;
      *body = b;
      return true;
    }
    case 12: {
      rules::AmendOrder b;
      std::string_view unfilled;
      const bool ok = Fields(bytes, [&](uint32_t field, uint32_t type, Wire& wire) {
        switch (field) {
          case 1: return ReadMarket(seen, field, type, wire, &b.market);
          case 2: return ReadVarint(seen, field, type, wire, &b.order.value);
          case 3: return ReadBytes(seen, field, type, wire, &unfilled);
          default: return false;
        }
      });
      if (!ok || !AmountOf(unfilled, &b.new_unfilled)) return false;
      *body = b;
      return true;
    }
    case 13:
    case 14: {
      uint32_t currency = 0;
      std::string_view amount_bytes;
      const bool ok = Fields(bytes, [&](uint32_t field, uint32_t type, Wire& wire) {
        switch (field) {
          case 1: return ReadU32(seen, field, type, wire, &currency);
          case 2: return ReadBytes(seen, field, type, wire, &amount_bytes);
          default: return false;
        }
      });
      Amount amount;
      if (!ok || !AmountOf(amount_bytes, &amount)) return false;
      if (kind == 13) {
        *body = rules::Withdraw{rules::Currency{currency}, amount};
      } else {
        *body = rules::Deposit{rules::Currency{currency}, amount};
      }
      return true;
    }
    case 15: {
      rules::CreateMarket b;
      std::string_view params;
      const bool ok = Fields(bytes, [&](uint32_t field, uint32_t type, Wire& wire) {
        switch (field) {
          case 1: return ReadMarket(seen, field, type, wire, &b.market);
          case 2: return ReadBytes(seen, field, type, wire, &params);
          default: return false;
        }
      });
      // Absent params decode as the defaults, whose min_amount is invalid: declined either way.
      if (!ok || !seen.Has(2) || !DecodeParams(params, &b.params)) return false;
      *body = b;
      return true;
    }
    case 16: {
      rules::UpdateMarket b;
      std::string_view min_amount;
      const bool ok = Fields(bytes, [&](uint32_t field, uint32_t type, Wire& wire) {
        switch (field) {
          case 1: return ReadMarket(seen, field, type, wire, &b.market);
          case 2: return ReadBytes(seen, field, type, wire, &min_amount);
          case 3: return ReadU32(seen, field, type, wire, &b.maker_fee_ppm);
          case 4: return ReadU32(seen, field, type, wire, &b.taker_fee_ppm);
          case 5: return ReadU32(seen, field, type, wire, &b.max_makers);
          default: return false;
        }
      });
      if (!ok || !AmountOf(min_amount, &b.min_amount)) return false;
      *body = b;
      return true;
    }
    case 17: {
      rules::SetMarketStatus b;
      const bool ok = Fields(bytes, [&](uint32_t field, uint32_t type, Wire& wire) {
        switch (field) {
          case 1: return ReadMarket(seen, field, type, wire, &b.market);
          case 2: return ReadEnum(seen, field, type, wire, 2, &b.status);
          default: return false;
        }
      });
      if (!ok) return false;
      *body = b;
      return true;
    }
    default:
      return false;
  }
}

bool DecodeCommand(std::string_view bytes, Command* out) {
  Seen seen;
  std::string_view signer, signature;
  uint32_t body_field = 0;
  std::string_view body;
  out->nonce = 0;
  const bool ok = Fields(bytes, [&](uint32_t field, uint32_t type, Wire& wire) {
    switch (field) {
      case 1: return ReadBytes(seen, field, type, wire, &signer);
      case 2: return ReadVarint(seen, field, type, wire, &out->nonce);
      case 3: return ReadBytes(seen, field, type, wire, &signature);
      default:
        // One body only: with two, libprotobuf keeps the last.
        if (field < 10 || field > 17 || body_field != 0) return false;
        body_field = field;
        return ReadBytes(seen, field, type, wire, &body);
    }
  });
  return ok && Fixed(signer, out->signer.bytes) && Fixed(signature, out->signature.bytes) && body_field != 0 &&
         DecodeBody(body_field, body, &out->body);
}

bool DecodeFill(std::string_view bytes, rules::Fill* f) {
  Seen seen;
  std::string_view maker, price, amount, quote, maker_fee, taker_fee;
  f->maker_order = rules::OrderId{0};
  const bool ok = Fields(bytes, [&](uint32_t field, uint32_t type, Wire& wire) {
    switch (field) {
      case 1: return ReadVarint(seen, field, type, wire, &f->maker_order.value);
      case 2: return ReadBytes(seen, field, type, wire, &maker);
      case 3: return ReadBytes(seen, field, type, wire, &price);
      case 4: return ReadBytes(seen, field, type, wire, &amount);
      case 5: return ReadBytes(seen, field, type, wire, &quote);
      case 6: return ReadBytes(seen, field, type, wire, &maker_fee);
      case 7: return ReadBytes(seen, field, type, wire, &taker_fee);
      default: return false;
    }
  });
  return ok && Fixed(maker, f->maker.bytes) && PriceOf(price, &f->price) && AmountOf(amount, &f->amount) &&
         AmountOf(quote, &f->quote) && AmountOf(maker_fee, &f->maker_fee) && AmountOf(taker_fee, &f->taker_fee);
}

bool DecodeOutcome(std::string_view bytes, rules::Outcome* out) {
  Seen seen;
  std::string_view resting;
  uint32_t reject = 0;
  out->order = rules::OrderId{0};
  out->fills.clear();
  out->cancelled.clear();
  out->taker_stopped = false;
  const bool ok = Fields(bytes, [&](uint32_t field, uint32_t type, Wire& wire) {
    switch (field) {
      case 1: return ReadU32(seen, field, type, wire, &reject);
      case 2: return ReadVarint(seen, field, type, wire, &out->order.value);
      case 3: {
        std::string_view fill;
        if (type != kLengthDelimited || !wire.LengthDelimited(&fill)) return false;
        return DecodeFill(fill, &out->fills.emplace_back());
      }
      case 4: return ReadBytes(seen, field, type, wire, &resting);
      case 5: {
        // Repeated uint64: packed (one length-delimited run) or one varint per element; libprotobuf
        // appends either form.
        uint64_t id = 0;
        if (type == kVarint) {
          if (!wire.Varint(&id)) return false;
          out->cancelled.push_back(rules::OrderId{id});
          return true;
        }
        std::string_view packed;
        if (type != kLengthDelimited || !wire.LengthDelimited(&packed)) return false;
        Wire run(packed);
        while (!run.done()) {
          if (!run.Varint(&id)) return false;
          out->cancelled.push_back(rules::OrderId{id});
        }
        return true;
      }
      case 6: {
        uint64_t v = 0;
        if (!ReadVarint(seen, field, type, wire, &v)) return false;
        out->taker_stopped = v != 0;
        return true;
      }
      default: return false;
    }
  });
  if (!ok || reject > rules::kRejectCodeMax) return false;
  out->reject = static_cast<rules::RejectCode>(reject);
  return AmountOf(resting, &out->resting);
}

bool DecodeLeaf(std::string_view bytes, rules::TouchedLeaf* leaf) {
  Seen seen;
  std::string_view key, old_value, new_value, old_record, new_record;
  const bool ok = Fields(bytes, [&](uint32_t field, uint32_t type, Wire& wire) {
    switch (field) {
      case 1: return ReadBytes(seen, field, type, wire, &key);
      case 2: return ReadBytes(seen, field, type, wire, &old_value);
      case 3: return ReadBytes(seen, field, type, wire, &new_value);
      case 4: return ReadBytes(seen, field, type, wire, &old_record);
      case 5: return ReadBytes(seen, field, type, wire, &new_record);
      default: return false;
    }
  });
  if (!ok || key.empty() || key.size() > leaf->key.bytes.size()) return false;
  leaf->key.bytes.fill(0);
  std::memcpy(leaf->key.bytes.data(), key.data(), key.size());
  leaf->key.size = static_cast<uint8_t>(key.size());
  if (!Fixed(old_value, leaf->old_value.bytes) || !Fixed(new_value, leaf->new_value.bytes)) return false;
  leaf->old_record.assign(old_record.begin(), old_record.end());
  leaf->new_record.assign(new_record.begin(), new_record.end());
  return true;
}

}  // namespace

bool DecodeProofPlain(std::string_view bytes, EventProof* out) {
  Seen seen;
  std::string_view prev_root, new_root, command, multiproof, outcome;
  size_t leaves = 0;
  out->sequence = rules::Sequence{0};
  const bool ok = Fields(bytes, [&](uint32_t field, uint32_t type, Wire& wire) {
    switch (field) {
      case 1: return ReadVarint(seen, field, type, wire, &out->sequence.value);
      case 2: return ReadBytes(seen, field, type, wire, &prev_root);
      case 3: return ReadBytes(seen, field, type, wire, &new_root);
      case 4: return ReadBytes(seen, field, type, wire, &command);
      case 5: {
        std::string_view leaf;
        if (type != kLengthDelimited || !wire.LengthDelimited(&leaf)) return false;
        if (leaves == out->leaves.size()) out->leaves.emplace_back();
        return DecodeLeaf(leaf, &out->leaves[leaves++]);  // reuses the record buffers
      }
      case 6: return ReadBytes(seen, field, type, wire, &multiproof);
      case 7: return ReadBytes(seen, field, type, wire, &outcome);
      default: return false;
    }
  });
  // Absent command and outcome sub-messages decode as defaults that FromProto rejects.
  if (!ok || !seen.Has(4) || !seen.Has(7)) return false;
  out->leaves.resize(leaves);
  out->multiproof.assign(multiproof.begin(), multiproof.end());
  return Fixed(prev_root, out->prev_root.bytes) && Fixed(new_root, out->new_root.bytes) &&
         DecodeCommand(command, &out->command) && DecodeOutcome(outcome, &out->outcome);
}

absl::Status DecodeProof(std::string_view bytes, EventProof* out, v1::Proof* scratch) {
  if (DecodeProofPlain(bytes, out)) return absl::OkStatus();
  if (!scratch->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
    return absl::DataLossError("not a pom.v1.Proof message");
  }
  absl::StatusOr<EventProof> proof = FromProto(*scratch);
  if (!proof.ok()) return proof.status();
  *out = std::move(*proof);
  return absl::OkStatus();
}

}  // namespace pom::codec

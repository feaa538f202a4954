#include "proto/codec.h"

#include <google/protobuf/util/json_util.h>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"

namespace pom::codec {
namespace {

using rules::Command;

absl::Status Bad(std::string_view field, std::string_view problem) {
  return absl::InvalidArgumentError(
      absl::StrCat("field ", std::string(field), ": ", std::string(problem)));
}

template <size_t N>
absl::Status FixedBytes(const std::string& in, std::array<uint8_t, N>& out, std::string_view field) {
  if (in.size() != N) return Bad(field, absl::StrCat("expected ", N, " bytes, got ", in.size()));
  std::copy(in.begin(), in.end(), out.begin());
  return absl::OkStatus();
}

std::string Raw(std::span<const uint8_t> b) { return std::string(b.begin(), b.end()); }

absl::StatusOr<uint8_t> EnumField(uint32_t v, uint32_t max, std::string_view field) {
  if (v > max) return Bad(field, absl::StrCat("value ", v, " out of range"));
  return static_cast<uint8_t>(v);
}

absl::StatusOr<Amount> AmountField(const std::string& b, std::string_view field) {
  POM_ASSIGN_OR_RETURN(u128 v, U128FromBytes(b, field));
  return Amount::FromRaw(v);
}
absl::StatusOr<Price> PriceField(const std::string& b, std::string_view field) {
  POM_ASSIGN_OR_RETURN(u128 v, U128FromBytes(b, field));
  return Price::FromRaw(v);
}

}  // namespace

void MarketToProto(rules::MarketId m, v1::MarketId* out) {
  out->set_base(m.base.id);
  out->set_quote(m.quote.id);
}
rules::MarketId MarketFromProto(const v1::MarketId& m) {
  return rules::MarketId{rules::Currency{m.base()}, rules::Currency{m.quote()}};
}

void ParamsToProto(const rules::MarketRecord& m, v1::MarketParams* out) {
  out->set_status(static_cast<uint32_t>(m.status));
  out->set_price_decimals(m.price_decimals);
  out->set_amount_decimals(m.amount_decimals);
  out->set_min_amount(U128Bytes(m.min_amount.raw()));
  out->set_maker_fee_ppm(m.maker_fee_ppm);
  out->set_taker_fee_ppm(m.taker_fee_ppm);
  out->set_max_makers(m.max_makers);
}

absl::StatusOr<rules::MarketRecord> ParamsFromProto(const v1::MarketParams& p) {
  rules::MarketRecord m;
  POM_ASSIGN_OR_RETURN(uint8_t status, EnumField(p.status(), 2, "params.status"));
  m.status = static_cast<rules::MarketStatus>(status);
  POM_ASSIGN_OR_RETURN(m.price_decimals, EnumField(p.price_decimals(), 18, "params.price_decimals"));
  POM_ASSIGN_OR_RETURN(m.amount_decimals, EnumField(p.amount_decimals(), 18, "params.amount_decimals"));
  POM_ASSIGN_OR_RETURN(m.min_amount, AmountField(p.min_amount(), "params.min_amount"));
  m.maker_fee_ppm = p.maker_fee_ppm();
  m.taker_fee_ppm = p.taker_fee_ppm();
  m.max_makers = p.max_makers();
  return m;
}


std::string U128Bytes(u128 v) {
  std::string out(16, '\0');
  PutU128Le(v, reinterpret_cast<uint8_t*>(out.data()));
  return out;
}

absl::StatusOr<u128> U128FromBytes(const std::string& bytes, std::string_view field) {
  if (bytes.size() != 16) return Bad(field, absl::StrCat("expected 16 bytes, got ", bytes.size()));
  return GetU128Le(reinterpret_cast<const uint8_t*>(bytes.data()));
}

void ToProto(const Command& c, v1::Command* out) {
  out->Clear();
  out->set_signer(Raw(c.signer.bytes));
  out->set_nonce(c.nonce);
  out->set_signature(Raw(c.signature.bytes));
  std::visit(
      [&](const auto& b) {
        using T = std::decay_t<decltype(b)>;
        if constexpr (std::is_same_v<T, rules::PlaceOrder>) {
          v1::PlaceOrder* p = out->mutable_place();
          MarketToProto(b.market, p->mutable_market());
          p->set_side(static_cast<uint32_t>(b.side));
          p->set_type(static_cast<uint32_t>(b.type));
          p->set_time_in_force(static_cast<uint32_t>(b.time_in_force));
          p->set_stp(static_cast<uint32_t>(b.stp));
          p->set_price(U128Bytes(b.price.raw()));
          p->set_amount(U128Bytes(b.amount.raw()));
          p->set_client_order_id(b.client_order_id);
        } else if constexpr (std::is_same_v<T, rules::CancelOrder>) {
          MarketToProto(b.market, out->mutable_cancel()->mutable_market());
          out->mutable_cancel()->set_order_id(b.order.value);
        } else if constexpr (std::is_same_v<T, rules::AmendOrder>) {
          MarketToProto(b.market, out->mutable_amend()->mutable_market());
          out->mutable_amend()->set_order_id(b.order.value);
          out->mutable_amend()->set_new_unfilled(U128Bytes(b.new_unfilled.raw()));
        } else if constexpr (std::is_same_v<T, rules::Withdraw>) {
          out->mutable_withdraw()->set_currency(b.currency.id);
          out->mutable_withdraw()->set_amount(U128Bytes(b.amount.raw()));
        } else if constexpr (std::is_same_v<T, rules::Deposit>) {
          out->mutable_deposit()->set_currency(b.currency.id);
          out->mutable_deposit()->set_amount(U128Bytes(b.amount.raw()));
        } else if constexpr (std::is_same_v<T, rules::CreateMarket>) {
          MarketToProto(b.market, out->mutable_create_market()->mutable_market());
          ParamsToProto(b.params, out->mutable_create_market()->mutable_params());
        } else if constexpr (std::is_same_v<T, rules::UpdateMarket>) {
          v1::UpdateMarket* u = out->mutable_update_market();
          MarketToProto(b.market, u->mutable_market());
          u->set_min_amount(U128Bytes(b.min_amount.raw()));
          u->set_maker_fee_ppm(b.maker_fee_ppm);
          u->set_taker_fee_ppm(b.taker_fee_ppm);
          u->set_max_makers(b.max_makers);
        } else {
          MarketToProto(b.market, out->mutable_set_market_status()->mutable_market());
          out->mutable_set_market_status()->set_status(static_cast<uint32_t>(b.status));
        }
      },
      c.body);
}

absl::StatusOr<Command> FromProto(const v1::Command& c) {
  Command out;
  POM_RETURN_IF_ERROR(FixedBytes(c.signer(), out.signer.bytes, "signer"));
  POM_RETURN_IF_ERROR(FixedBytes(c.signature(), out.signature.bytes, "signature"));
  out.nonce = c.nonce();
  switch (c.body_case()) {
    case v1::Command::kPlace: {
      const v1::PlaceOrder& p = c.place();
      rules::PlaceOrder b;
      b.market = MarketFromProto(p.market());
      POM_ASSIGN_OR_RETURN(uint8_t side, EnumField(p.side(), 1, "place.side"));
      POM_ASSIGN_OR_RETURN(uint8_t type, EnumField(p.type(), 1, "place.type"));
      POM_ASSIGN_OR_RETURN(uint8_t tif, EnumField(p.time_in_force(), 3, "place.time_in_force"));
      POM_ASSIGN_OR_RETURN(uint8_t stp, EnumField(p.stp(), 2, "place.stp"));
      b.side = static_cast<rules::Side>(side);
      b.type = static_cast<rules::OrderType>(type);
      b.time_in_force = static_cast<rules::TimeInForce>(tif);
      b.stp = static_cast<rules::StpMode>(stp);
      POM_ASSIGN_OR_RETURN(b.price, PriceField(p.price(), "place.price"));
      POM_ASSIGN_OR_RETURN(b.amount, AmountField(p.amount(), "place.amount"));
      b.client_order_id = p.client_order_id();
      out.body = b;
      break;
    }
    case v1::Command::kCancel:
      out.body = rules::CancelOrder{MarketFromProto(c.cancel().market()),
                                    rules::OrderId{c.cancel().order_id()}};
      break;
    case v1::Command::kAmend: {
      rules::AmendOrder b;
      b.market = MarketFromProto(c.amend().market());
      b.order = rules::OrderId{c.amend().order_id()};
      POM_ASSIGN_OR_RETURN(b.new_unfilled, AmountField(c.amend().new_unfilled(), "amend.new_unfilled"));
      out.body = b;
      break;
    }
    case v1::Command::kWithdraw: {
      rules::Withdraw b;
      b.currency = rules::Currency{c.withdraw().currency()};
      POM_ASSIGN_OR_RETURN(b.amount, AmountField(c.withdraw().amount(), "withdraw.amount"));
      out.body = b;
      break;
    }
    case v1::Command::kDeposit: {
      rules::Deposit b;
      b.currency = rules::Currency{c.deposit().currency()};
      POM_ASSIGN_OR_RETURN(b.amount, AmountField(c.deposit().amount(), "deposit.amount"));
      out.body = b;
      break;
    }
    case v1::Command::kCreateMarket: {
      rules::CreateMarket b;
      b.market = MarketFromProto(c.create_market().market());
      POM_ASSIGN_OR_RETURN(b.params, ParamsFromProto(c.create_market().params()));
      out.body = b;
      break;
    }
    case v1::Command::kUpdateMarket: {
      const v1::UpdateMarket& u = c.update_market();
      rules::UpdateMarket b;
      b.market = MarketFromProto(u.market());
      POM_ASSIGN_OR_RETURN(b.min_amount, AmountField(u.min_amount(), "update_market.min_amount"));
      b.maker_fee_ppm = u.maker_fee_ppm();
      b.taker_fee_ppm = u.taker_fee_ppm();
      b.max_makers = u.max_makers();
      out.body = b;
      break;
    }
    case v1::Command::kSetMarketStatus: {
      POM_ASSIGN_OR_RETURN(uint8_t status, EnumField(c.set_market_status().status(), 2, "set_market_status.status"));
      out.body = rules::SetMarketStatus{MarketFromProto(c.set_market_status().market()),
                                        static_cast<rules::MarketStatus>(status)};
      break;
    }
    case v1::Command::BODY_NOT_SET:
      return Bad("body", "missing");
  }
  return out;
}

void ToProto(const rules::Outcome& o, v1::Outcome* out) {
  out->Clear();
  out->set_reject(static_cast<uint32_t>(o.reject));
  out->set_order_id(o.order.value);
  for (const rules::Fill& f : o.fills) {
    v1::Fill* p = out->add_fills();
    p->set_maker_order(f.maker_order.value);
    p->set_maker(Raw(f.maker.bytes));
    p->set_price(U128Bytes(f.price.raw()));
    p->set_amount(U128Bytes(f.amount.raw()));
    p->set_quote(U128Bytes(f.quote.raw()));
    p->set_maker_fee(U128Bytes(f.maker_fee.raw()));
    p->set_taker_fee(U128Bytes(f.taker_fee.raw()));
  }
  out->set_resting(U128Bytes(o.resting.raw()));
  for (const rules::OrderId& id : o.cancelled) out->add_cancelled(id.value);
  out->set_taker_stopped(o.taker_stopped);
}

absl::StatusOr<rules::Outcome> FromProto(const v1::Outcome& o) {
  rules::Outcome out;
  POM_ASSIGN_OR_RETURN(uint8_t reject, EnumField(o.reject(), rules::kRejectCodeMax, "outcome.reject"));
  out.reject = static_cast<rules::RejectCode>(reject);
  out.order = rules::OrderId{o.order_id()};
  out.fills.reserve(static_cast<size_t>(o.fills_size()));
  for (const v1::Fill& p : o.fills()) {
    rules::Fill f;
    f.maker_order = rules::OrderId{p.maker_order()};
    POM_RETURN_IF_ERROR(FixedBytes(p.maker(), f.maker.bytes, "fill.maker"));
    POM_ASSIGN_OR_RETURN(f.price, PriceField(p.price(), "fill.price"));
    POM_ASSIGN_OR_RETURN(f.amount, AmountField(p.amount(), "fill.amount"));
    POM_ASSIGN_OR_RETURN(f.quote, AmountField(p.quote(), "fill.quote"));
    POM_ASSIGN_OR_RETURN(f.maker_fee, AmountField(p.maker_fee(), "fill.maker_fee"));
    POM_ASSIGN_OR_RETURN(f.taker_fee, AmountField(p.taker_fee(), "fill.taker_fee"));
    out.fills.push_back(f);
  }
  POM_ASSIGN_OR_RETURN(out.resting, AmountField(o.resting(), "outcome.resting"));
  for (uint64_t id : o.cancelled()) out.cancelled.push_back(rules::OrderId{id});
  out.taker_stopped = o.taker_stopped();
  return out;
}

void ToProto(const rules::EventProof& p, v1::Proof* out) {
  out->Clear();
  out->set_sequence(p.sequence.value);
  out->set_prev_root(Raw(p.prev_root.bytes));
  out->set_new_root(Raw(p.new_root.bytes));
  ToProto(p.command, out->mutable_command());
  for (const rules::TouchedLeaf& l : p.leaves) {
    v1::ProofLeaf* leaf = out->add_leaves();
    leaf->set_raw_key(Raw(l.key.span()));
    leaf->set_old_value(Raw(l.old_value.bytes));
    leaf->set_new_value(Raw(l.new_value.bytes));
    leaf->set_old_record(Raw(l.old_record));
    leaf->set_new_record(Raw(l.new_record));
  }
  out->set_multiproof(Raw(p.multiproof));
  ToProto(p.outcome, out->mutable_outcome());
}

absl::StatusOr<rules::EventProof> FromProto(const v1::Proof& p) {
  rules::EventProof out;
  out.sequence = rules::Sequence{p.sequence()};
  POM_RETURN_IF_ERROR(FixedBytes(p.prev_root(), out.prev_root.bytes, "prev_root"));
  POM_RETURN_IF_ERROR(FixedBytes(p.new_root(), out.new_root.bytes, "new_root"));
  POM_ASSIGN_OR_RETURN(out.command, FromProto(p.command()));
  out.leaves.reserve(static_cast<size_t>(p.leaves_size()));
  for (const v1::ProofLeaf& l : p.leaves()) {
    rules::TouchedLeaf leaf;
    if (l.raw_key().empty() || l.raw_key().size() > leaf.key.bytes.size()) {
      return Bad("leaf.raw_key", absl::StrCat("bad size ", l.raw_key().size()));
    }
    std::copy(l.raw_key().begin(), l.raw_key().end(), leaf.key.bytes.begin());
    leaf.key.size = static_cast<uint8_t>(l.raw_key().size());
    POM_RETURN_IF_ERROR(FixedBytes(l.old_value(), leaf.old_value.bytes, "leaf.old_value"));
    POM_RETURN_IF_ERROR(FixedBytes(l.new_value(), leaf.new_value.bytes, "leaf.new_value"));
    leaf.old_record.assign(l.old_record().begin(), l.old_record().end());
    leaf.new_record.assign(l.new_record().begin(), l.new_record().end());
    out.leaves.push_back(std::move(leaf));
  }
  out.multiproof.assign(p.multiproof().begin(), p.multiproof().end());
  POM_ASSIGN_OR_RETURN(out.outcome, FromProto(p.outcome()));
  return out;
}

std::string GenesisToJson(const Genesis& g) {
  v1::Genesis msg;
  msg.set_prover_id(ToHex(g.prover_id));
  msg.set_operator_key(ToHex(g.operator_key.bytes));
  for (const ChainBalance& b : g.chain_balances) {
    v1::ChainBalance* cb = msg.add_chain_balances();
    cb->set_user(ToHex(b.user.bytes));
    cb->set_currency(b.currency.id);
    cb->set_amount(FormatDecimal(b.amount));
  }
  std::string json;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  (void)google::protobuf::util::MessageToJsonString(msg, &json, options);
  return json;
}

absl::StatusOr<Genesis> GenesisFromJson(const std::string& json) {
  v1::Genesis msg;
  google::protobuf::util::JsonParseOptions options;
  const auto status = google::protobuf::util::JsonStringToMessage(json, &msg, options);
  if (!status.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("genesis: ", std::string(status.message())));
  }
  Genesis g;
  POM_ASSIGN_OR_RETURN(g.prover_id, Bytes32FromHex(msg.prover_id()));
  POM_ASSIGN_OR_RETURN(Bytes32 op, Bytes32FromHex(msg.operator_key()));
  g.operator_key.bytes = op.bytes;
  for (const v1::ChainBalance& cb : msg.chain_balances()) {
    ChainBalance b;
    POM_ASSIGN_OR_RETURN(Bytes32 user, Bytes32FromHex(cb.user()));
    b.user.bytes = user.bytes;
    b.currency = rules::Currency{cb.currency()};
    POM_ASSIGN_OR_RETURN(b.amount, ParseAmount(cb.amount()));
    g.chain_balances.push_back(b);
  }
  return g;
}

}  // namespace pom::codec

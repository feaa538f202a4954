#include "matcher/replay.h"

#include <cstdio>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "common/status_macros.h"
#include "matcher/engine.h"
#include "proto/codec.h"
#include "proto/stream.h"

namespace pom::matcher {

absl::StatusOr<ReplayResult> Replay(const ReplayOptions& options) {
  const std::string genesis_path =
      options.genesis_path.empty() ? options.commands_path + ".genesis" : options.genesis_path;
  POM_ASSIGN_OR_RETURN(codec::Genesis genesis, codec::ReadGenesisFile(genesis_path));

  EngineOptions engine_options;
  engine_options.prover_id = genesis.prover_id;
  engine_options.operator_account = genesis.operator_key;
  Engine engine(engine_options);
  for (const codec::ChainBalance& b : genesis.chain_balances) {
    POM_RETURN_IF_ERROR(engine.CreditChain(b.user, b.currency, b.amount));
  }

  POM_ASSIGN_OR_RETURN(std::unique_ptr<codec::DelimitedReader> reader,
                       codec::DelimitedReader::Open(options.commands_path));
  std::unique_ptr<codec::DelimitedWriter> writer;
  if (!options.proofs_out_path.empty()) {
    POM_ASSIGN_OR_RETURN(writer, codec::DelimitedWriter::Create(options.proofs_out_path));
  }
  ReplayResult result;
  v1::Command wire;
  v1::Proof wire_proof;
  uint64_t index = 0;
  while (true) {
    POM_ASSIGN_OR_RETURN(bool more, reader->Read(&wire));
    if (!more) break;
    ++index;
    absl::StatusOr<rules::Command> command = codec::FromProto(wire);
    if (!command.ok()) {
      ++result.refused;
      continue;
    }
    absl::StatusOr<rules::EventProof> proof = engine.Submit(*command);
    if (!proof.ok()) {
      if (proof.status().code() == absl::StatusCode::kInternal) {
        return absl::InternalError(absl::StrCat("command ", index, ": ", proof.status().ToString()));
      }
      if (result.refused++ < 3) {
        std::fprintf(stderr, "refused command %llu: %s\n", static_cast<unsigned long long>(index),
                     proof.status().ToString().c_str());
      }
      continue;
    }
    ++result.events;
    if (writer) {
      codec::ToProto(*proof, &wire_proof);
      result.proof_bytes += wire_proof.ByteSizeLong();
      POM_RETURN_IF_ERROR(writer->Write(wire_proof));
    }
  }
  if (writer) POM_RETURN_IF_ERROR(writer->Close());
  result.root = engine.root();
  return result;
}

}  // namespace pom::matcher

cmake_minimum_required(VERSION 3.25)
# ctest: the verifier's transitive pom_* dependencies are common/, rules, proto and its own
# units only. Run as: cmake -DDEPS_FILE=... -P check_deps.cmake
file(STRINGS ${DEPS_FILE} deps)
set(allowed pom_verifier pom_verify pom_verify_check pom_verify_store pom_base pom_money pom_crypto pom_smt
    pom_rules pom_checksum pom_kill_point pom_codec pom_proto_gen pom_flags
    pom_verifier_daemon pom_rpc pom_proto_grpc
    # operations plumbing (ops/: config, logs, admin endpoint), shared by both daemons
    pom_ops pom_log)
message(STATUS "pom-verifier links: ${deps}")
foreach(dep ${deps})
  if(NOT dep IN_LIST allowed)
    message(FATAL_ERROR "pom-verifier depends on ${dep}, outside common, rules and proto")
  endif()
endforeach()
list(LENGTH deps n)
if(n LESS 5)
  message(FATAL_ERROR "dependency list looks empty: ${deps}")
endif()
message(STATUS "ok: ${n} units, none from matcher/")

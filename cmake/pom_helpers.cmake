# Target helpers: one library per unit, explicit file lists, aliases pom::<name>.
#
#   pom_cc_library(NAME name [HDRS ...] [SRCS ...] [DEPS ...] [INTERFACE])
#   pom_cc_binary(NAME name SRCS ... [DEPS ...] [OUTPUT_NAME exe])
#   pom_cc_test(NAME name SRCS ... [DEPS ...] [LABELS ...] [TIMEOUT s])
#
# Our own code compiles with pom_warnings (-Wall -Wextra -Werror); third-party headers
# come in as system includes so their warnings do not break the build.

add_library(pom_warnings INTERFACE)
target_compile_options(pom_warnings INTERFACE -Wall -Wextra -Werror -Wno-missing-field-initializers)

function(pom_cc_library)
  cmake_parse_arguments(ARG "INTERFACE" "NAME" "HDRS;SRCS;DEPS" ${ARGN})
  set(target pom_${ARG_NAME})
  if(ARG_INTERFACE OR NOT ARG_SRCS)
    add_library(${target} INTERFACE ${ARG_HDRS})
    target_include_directories(${target} INTERFACE ${PROJECT_SOURCE_DIR})
    target_link_libraries(${target} INTERFACE ${ARG_DEPS})
  else()
    add_library(${target} STATIC ${ARG_SRCS} ${ARG_HDRS})
    target_include_directories(${target} PUBLIC ${PROJECT_SOURCE_DIR})
    target_link_libraries(${target} PUBLIC ${ARG_DEPS} PRIVATE pom_warnings)
  endif()
  add_library(pom::${ARG_NAME} ALIAS ${target})
endfunction()

function(pom_cc_binary)
  cmake_parse_arguments(ARG "" "NAME;OUTPUT_NAME" "SRCS;DEPS" ${ARGN})
  add_executable(${ARG_NAME} ${ARG_SRCS})
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_DEPS} pom_warnings)
  if(ARG_OUTPUT_NAME)
    set_target_properties(${ARG_NAME} PROPERTIES OUTPUT_NAME ${ARG_OUTPUT_NAME})
  endif()
  set_target_properties(${ARG_NAME} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/bin)
endfunction()

function(pom_cc_test)
  cmake_parse_arguments(ARG "" "NAME;TIMEOUT" "SRCS;DEPS;LABELS" ${ARGN})
  add_executable(${ARG_NAME} ${ARG_SRCS})
  target_link_libraries(${ARG_NAME} PRIVATE ${ARG_DEPS} GTest::gtest GTest::gmock GTest::gtest_main pom_warnings)
  set_target_properties(${ARG_NAME} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/tests)
  add_test(NAME ${ARG_NAME} COMMAND ${ARG_NAME} WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 600)
  endif()
  set_tests_properties(${ARG_NAME} PROPERTIES TIMEOUT ${ARG_TIMEOUT}
    ENVIRONMENT "POM_SHARED_DIR=${POM_SHARED_DIR}")
  if(ARG_LABELS)
    set_tests_properties(${ARG_NAME} PROPERTIES LABELS "${ARG_LABELS}")
  endif()
endfunction()

# SPDX-License-Identifier: Apache-2.0
# INTERFACE targets that carry build options; every tokend target links
# tokend::options. Nothing here touches global CMAKE_CXX_FLAGS.

add_library(tokend_options INTERFACE)
add_library(tokend::options ALIAS tokend_options)
target_compile_features(tokend_options INTERFACE cxx_std_20)
target_include_directories(tokend_options INTERFACE "${PROJECT_SOURCE_DIR}")
target_compile_options(tokend_options INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Woverloaded-virtual
  -Wimplicit-fallthrough -Wformat=2
  # GCC 12 reports std::string concatenation inlined at -O2 as overlapping
  # memcpy (GCC bug 105329, a false positive); keep -Werror builds usable.
  $<$<CXX_COMPILER_ID:GNU>:-Wno-restrict>
  $<$<BOOL:${TOKEND_WARNINGS_AS_ERRORS}>:-Werror>)

set(_san "")
if(TOKEND_ENABLE_ASAN)
  list(APPEND _san address)
endif()
if(TOKEND_ENABLE_UBSAN)
  list(APPEND _san undefined)
endif()
if(TOKEND_ENABLE_TSAN)
  if(TOKEND_ENABLE_ASAN)
    message(FATAL_ERROR "ASan and TSan cannot be combined")
  endif()
  list(APPEND _san thread)
endif()
if(_san)
  list(JOIN _san "," _san_list)
  target_compile_options(tokend_options INTERFACE
    -fsanitize=${_san_list} -fno-omit-frame-pointer -fno-sanitize-recover=all)
  target_link_options(tokend_options INTERFACE -fsanitize=${_san_list})
endif()

# Fuzz builds instrument every library for coverage; fuzz executables add
# -fsanitize=fuzzer themselves (see tests/fuzz).
if(TOKEND_BUILD_FUZZERS)
  target_compile_options(tokend_options INTERFACE -fsanitize=fuzzer-no-link)
endif()

# tokend_add_library(NAME SOURCES ... [DEPS ...])
#   One component: a static library named tokend_<NAME> with alias tokend::<NAME>.
function(tokend_add_library name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS" ${ARGN})
  add_library(tokend_${name} STATIC ${ARG_SOURCES})
  add_library(tokend::${name} ALIAS tokend_${name})
  target_link_libraries(tokend_${name} PUBLIC tokend::options ${ARG_DEPS})
  set_target_properties(tokend_${name} PROPERTIES POSITION_INDEPENDENT_CODE ON)
endfunction()

# tokend_add_test(NAME SOURCES ... [DEPS ...] [LABELS ...])
#   A GoogleTest executable registered with CTest; each TEST is its own CTest
#   test, discovered when ctest runs. LABELS: unit (default), concurrency,
#   integration.
function(tokend_add_test name)
  cmake_parse_arguments(ARG "" "" "SOURCES;DEPS;LABELS" ${ARGN})
  if(NOT TOKEND_BUILD_TESTS)
    return()
  endif()
  if(NOT ARG_LABELS)
    set(ARG_LABELS unit)
  endif()
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE tokend::options ${ARG_DEPS} GTest::gtest GTest::gmock
                        GTest::gtest_main)
  target_compile_definitions(${name} PRIVATE
    TOKEND_SOURCE_DIR="${PROJECT_SOURCE_DIR}"
    TOKEND_BINARY_DIR="${PROJECT_BINARY_DIR}")
  gtest_discover_tests(${name} DISCOVERY_MODE PRE_TEST
    PROPERTIES LABELS "${ARG_LABELS}" TIMEOUT 300)
  # The tsan preset builds only these (target tokend_concurrency_tests).
  if("concurrency" IN_LIST ARG_LABELS)
    if(NOT TARGET tokend_concurrency_tests)
      add_custom_target(tokend_concurrency_tests)
    endif()
    add_dependencies(tokend_concurrency_tests ${name})
  endif()
endfunction()

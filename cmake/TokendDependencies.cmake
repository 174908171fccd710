# SPDX-License-Identifier: Apache-2.0
# Finds tokend's dependencies and exposes each as an imported target.
find_package(OpenSSL 3.0 REQUIRED)
find_package(absl REQUIRED)
find_package(simdjson REQUIRED)
find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)
pkg_check_modules(URING REQUIRED IMPORTED_TARGET liburing>=2.3)
pkg_check_modules(SYSTEMD REQUIRED IMPORTED_TARGET libsystemd)

# HighwayHash ships a static library and headers without a CMake or pkg-config file.
find_path(HIGHWAYHASH_INCLUDE_DIR highwayhash/highwayhash.h REQUIRED)
find_library(HIGHWAYHASH_LIBRARY NAMES highwayhash REQUIRED)
if(NOT TARGET highwayhash::highwayhash)
  add_library(highwayhash::highwayhash UNKNOWN IMPORTED)
  set_target_properties(highwayhash::highwayhash PROPERTIES
    IMPORTED_LOCATION "${HIGHWAYHASH_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${HIGHWAYHASH_INCLUDE_DIR}")
endif()

# http-parser (nodejs' original HTTP/1.1 parser) for the HTTP front.
find_path(HTTP_PARSER_INCLUDE_DIR http_parser.h REQUIRED)
find_library(HTTP_PARSER_LIBRARY NAMES http_parser REQUIRED)
if(NOT TARGET http_parser::http_parser)
  add_library(http_parser::http_parser UNKNOWN IMPORTED)
  set_target_properties(http_parser::http_parser PROPERTIES
    IMPORTED_LOCATION "${HTTP_PARSER_LIBRARY}"
    INTERFACE_INCLUDE_DIRECTORIES "${HTTP_PARSER_INCLUDE_DIR}")
endif()

if(TOKEND_BUILD_TESTS)
  find_package(GTest REQUIRED)
  include(GoogleTest)
endif()
if(TOKEND_BUILD_BENCHMARKS)
  find_package(benchmark REQUIRED)
endif()

# gRPC C++ and protobuf for the Envoy ext_authz gRPC front (daemon/server/grpc).
find_package(Protobuf REQUIRED)
find_package(gRPC CONFIG REQUIRED)
find_program(GRPC_CPP_PLUGIN grpc_cpp_plugin REQUIRED)

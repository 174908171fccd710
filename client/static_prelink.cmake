# SPDX-License-Identifier: Apache-2.0
# Makes the one object of libtokend-client.a: links the library's and the
# codec's objects into one relocatable object (ld -r), then makes local every
# strong global symbol that is not in the version script, so the archive
# defines tokend_* and nothing else a program could clash with. Weak symbols
# (inline functions and templates of the C++ library, in COMDAT groups that
# the final link merges by name) stay as they are: localizing them would
# break that merge.
#
# cmake -DLD=.. -DNM=.. -DOBJCOPY=.. -DMAP=<version script> -DOUT=<object>
#       -DOBJECTS=<a;b;...> -P static_prelink.cmake
cmake_minimum_required(VERSION 3.25)

foreach(var LD NM OBJCOPY MAP OUT OBJECTS)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "static_prelink.cmake: ${var} is not set")
  endif()
endforeach()

file(STRINGS "${MAP}" map_lines REGEX "^[ \t]*tokend_[a-z_]+;")
set(api "")
foreach(line IN LISTS map_lines)
  string(REGEX REPLACE "^[ \t]*(tokend_[a-z_]+);.*$" "\\1" sym "${line}")
  list(APPEND api "${sym}")
endforeach()

execute_process(COMMAND "${LD}" -r -o "${OUT}.all" ${OBJECTS} COMMAND_ERROR_IS_FATAL ANY)
execute_process(COMMAND "${NM}" --defined-only --extern-only "${OUT}.all"
                OUTPUT_VARIABLE nm_out COMMAND_ERROR_IS_FATAL ANY)
string(REPLACE "\n" ";" nm_lines "${nm_out}")
set(localize "")
foreach(line IN LISTS nm_lines)
  # "<address> <type> <name>"; strong definitions are T, D, B, R (upper case).
  if(line MATCHES "^[0-9a-fA-F]+ ([TDBRC]) (.+)$")
    set(sym "${CMAKE_MATCH_2}")
    if(NOT sym IN_LIST api)
      string(APPEND localize "${sym}\n")
    endif()
  endif()
endforeach()
file(WRITE "${OUT}.localize" "${localize}")
execute_process(COMMAND "${OBJCOPY}" "--localize-symbols=${OUT}.localize" "${OUT}.all" "${OUT}"
                COMMAND_ERROR_IS_FATAL ANY)
file(REMOVE "${OUT}.all")

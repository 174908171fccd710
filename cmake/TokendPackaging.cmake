# SPDX-License-Identifier: Apache-2.0
# Install layout for the parts no target owns (systemd files, configuration,
# man pages, docs) and the Debian packages built by CPack, one per install
# component:
#   cmake --build build/release --target package   ->
#     tokend_<version>_<arch>.deb               (component daemon)
#     libtokend-client1_<version>_<arch>.deb    (component lib)
#     libtokend-client-dev_<version>_<arch>.deb (component dev)

# Relative to the install prefix, so `cmake --install --prefix /usr` and the
# package (prefix /usr) put them where systemd reads them.
set(TOKEND_SYSTEMD_UNIT_DIR "lib/systemd/system"
    CACHE STRING "Where systemd units are installed, relative to the prefix")
set(TOKEND_SYSUSERS_DIR "lib/sysusers.d"
    CACHE STRING "Where sysusers.d entries are installed, relative to the prefix")
set(TOKEND_TMPFILES_DIR "lib/tmpfiles.d"
    CACHE STRING "Where tmpfiles.d entries are installed, relative to the prefix")
# Absolute: the service reads /etc/tokend/tokend.conf whatever the prefix.
set(TOKEND_CONFIG_DIR "/etc/tokend"
    CACHE STRING "Where tokend.conf is installed (the conffile of the package)")

install(FILES systemd/tokend.service systemd/tokend.socket systemd/tokend-http.socket
        DESTINATION "${TOKEND_SYSTEMD_UNIT_DIR}" COMPONENT daemon)
install(FILES systemd/tokend.sysusers DESTINATION "${TOKEND_SYSUSERS_DIR}" RENAME tokend.conf
        COMPONENT daemon)
install(FILES systemd/tokend.tmpfiles DESTINATION "${TOKEND_TMPFILES_DIR}" RENAME tokend.conf
        COMPONENT daemon)
install(FILES systemd/tokend.conf.example DESTINATION "${TOKEND_CONFIG_DIR}" RENAME tokend.conf
        COMPONENT daemon)
install(FILES systemd/tokend.conf.example README.md docs/architecture.md docs/protocol.md
              packaging/debian/copyright
        DESTINATION "${CMAKE_INSTALL_DOCDIR}" COMPONENT daemon)
# Debian wants a copyright file in every package's doc directory.
install(FILES packaging/debian/copyright
        DESTINATION "${CMAKE_INSTALL_DATAROOTDIR}/doc/libtokend-client1" COMPONENT lib)
install(FILES packaging/debian/copyright
        DESTINATION "${CMAKE_INSTALL_DATAROOTDIR}/doc/libtokend-client-dev" COMPONENT dev)

# Man pages: hand-written roff in man/, installed gzip -9n as Debian does.
find_program(TOKEND_GZIP gzip REQUIRED)
set(_tokend_man_gz)
foreach(page tokend.8 tokenctl.1 tokend.conf.5)
  string(REGEX MATCH "[0-9]$" _section "${page}")
  set(_gz "${CMAKE_CURRENT_BINARY_DIR}/man/${page}.gz")
  add_custom_command(
    OUTPUT "${_gz}"
    COMMAND "${CMAKE_COMMAND}" -E make_directory "${CMAKE_CURRENT_BINARY_DIR}/man"
    COMMAND sh -c "'${TOKEND_GZIP}' -9n -c '${PROJECT_SOURCE_DIR}/man/${page}' > '${_gz}'"
    DEPENDS "${PROJECT_SOURCE_DIR}/man/${page}"
    COMMENT "Compressing man page ${page}"
    VERBATIM)
  list(APPEND _tokend_man_gz "${_gz}")
  install(FILES "${_gz}" DESTINATION "${CMAKE_INSTALL_MANDIR}/man${_section}" COMPONENT daemon)
endforeach()
add_custom_target(tokend_man_pages ALL DEPENDS ${_tokend_man_gz})

set(CPACK_GENERATOR "DEB")
set(CPACK_PACKAGE_NAME "tokend")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
# Each package has its own summary (first line of CPACK_DEBIAN_<C>_DESCRIPTION).
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "")
set(CPACK_PACKAGE_CONTACT "tokend maintainers <tokend@localhost>")
set(CPACK_PACKAGE_INSTALL_DIRECTORY "/usr")
set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # <package>_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)

# One package per component, named as Debian names a daemon and its library.
set(CPACK_DEB_COMPONENT_INSTALL ON)
set(CPACK_COMPONENTS_ALL daemon lib dev)
set(_deb "${PROJECT_SOURCE_DIR}/packaging/debian")

set(CPACK_DEBIAN_DAEMON_PACKAGE_NAME "tokend")
set(CPACK_DEBIAN_DAEMON_PACKAGE_SECTION "net")
# procps: /bin/kill for ExecReload= (not in a minimal Debian).
set(CPACK_DEBIAN_DAEMON_PACKAGE_DEPENDS "systemd, procps")
set(CPACK_DEBIAN_DAEMON_DESCRIPTION "local bearer-token validation daemon
tokend validates HMAC JSON Web Tokens for local processes over a Unix socket
(binary protocol, and HTTP for nginx auth_request). Includes tokenctl and
the systemd units.")
set(CPACK_DEBIAN_DAEMON_PACKAGE_CONTROL_EXTRA
    "${_deb}/postinst;${_deb}/prerm;${_deb}/postrm;${_deb}/conffiles")

set(CPACK_DEBIAN_LIB_PACKAGE_NAME "libtokend-client1")
set(CPACK_DEBIAN_LIB_PACKAGE_SECTION "libs")
set(CPACK_DEBIAN_LIB_DESCRIPTION "client library for tokend
The C library that asks tokend to validate bearer tokens (the C++ wrapper is
header-only, in libtokend-client-dev).")
# shlibs for packages that link it; CPack adds the ldconfig scripts.
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)

set(CPACK_DEBIAN_DEV_PACKAGE_NAME "libtokend-client-dev")
set(CPACK_DEBIAN_DEV_PACKAGE_SECTION "libdevel")
set(CPACK_DEBIAN_DEV_PACKAGE_DEPENDS "libtokend-client1 (= ${PROJECT_VERSION})")
set(CPACK_DEBIAN_DEV_DESCRIPTION "client library for tokend (development files)
Headers (C and C++), the static library and the pkg-config file of
libtokend-client.")
include(CPack)

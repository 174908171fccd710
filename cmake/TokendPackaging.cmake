# Install layout for the parts no component owns (systemd files, example
# configuration, docs) and the Debian package built by CPack:
#   cmake --build build/release --target package   ->  tokend_<version>_<arch>.deb
# Components install their own binaries, libraries and headers.

# Relative to the install prefix, so `cmake --install --prefix /usr` and the
# package (prefix /usr) put them where systemd reads them.
set(TOKEND_SYSTEMD_UNIT_DIR "lib/systemd/system"
    CACHE STRING "Where systemd units are installed, relative to the prefix")
set(TOKEND_SYSUSERS_DIR "lib/sysusers.d"
    CACHE STRING "Where sysusers.d entries are installed, relative to the prefix")
set(TOKEND_TMPFILES_DIR "lib/tmpfiles.d"
    CACHE STRING "Where tmpfiles.d entries are installed, relative to the prefix")

install(FILES systemd/tokend.service systemd/tokend.socket
        DESTINATION "${TOKEND_SYSTEMD_UNIT_DIR}")
install(FILES systemd/tokend.sysusers DESTINATION "${TOKEND_SYSUSERS_DIR}" RENAME tokend.conf)
install(FILES systemd/tokend.tmpfiles DESTINATION "${TOKEND_TMPFILES_DIR}" RENAME tokend.conf)
install(FILES systemd/tokend.conf.example README.md docs/architecture.md docs/protocol.md
        DESTINATION "${CMAKE_INSTALL_DOCDIR}")

set(CPACK_GENERATOR "DEB")
set(CPACK_PACKAGE_NAME "tokend")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGE_CONTACT "tokend maintainers <tokend@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGE_INSTALL_DIRECTORY "/usr")
set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # tokend_<version>_<arch>.deb
set(CPACK_DEBIAN_PACKAGE_SECTION "net")
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "systemd")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    "${PROJECT_SOURCE_DIR}/packaging/debian/postinst;${PROJECT_SOURCE_DIR}/packaging/debian/prerm;${PROJECT_SOURCE_DIR}/packaging/debian/postrm")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)

// SPDX-License-Identifier: Apache-2.0
#include "daemon/auth/regular_file.h"

#include <fcntl.h>
#include <openssl/crypto.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <system_error>

#include "absl/strings/str_cat.h"

namespace tokend::auth {
namespace {

// Debian's abseil has its own string_view type.
absl::string_view Sv(std::string_view s) { return absl::string_view(s.data(), s.size()); }

std::string ErrnoText(int err) { return std::error_code(err, std::generic_category()).message(); }

absl::Status OpenError(const std::string& path, int err) {
  std::string message = absl::StrCat(path, ": cannot open: ", ErrnoText(err));
  switch (err) {
    case ENOENT:
    case ENOTDIR:
      return absl::NotFoundError(message);
    case EACCES:
    case EPERM:
      return absl::PermissionDeniedError(message);
    default:
      return absl::Status(absl::ErrnoToStatusCode(err), message);
  }
}

}  // namespace

std::string_view FileTypeName(unsigned mode) {
  switch (mode & S_IFMT) {
    case S_IFREG:
      return "a regular file";
    case S_IFDIR:
      return "a directory";
    case S_IFIFO:
      return "a FIFO";
    case S_IFCHR:
      return "a character device";
    case S_IFBLK:
      return "a block device";
    case S_IFSOCK:
      return "a socket";
    case S_IFLNK:
      return "a symbolic link";
    default:
      return "not a regular file";
  }
}

absl::Status ReadRegularFile(const std::string& path, size_t max_bytes, std::string& out,
                             std::string_view too_large_hint) {
  out.clear();
  // O_NONBLOCK: opening a FIFO would otherwise wait for a writer. O_NOCTTY:
  // a terminal named by mistake does not become ours.
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
  if (fd < 0) return OpenError(path, errno);
  struct stat st;
  absl::Status status;
  if (::fstat(fd, &st) != 0) {
    status = absl::InternalError(absl::StrCat(path, ": cannot stat: ", ErrnoText(errno)));
  } else if (!S_ISREG(st.st_mode)) {
    status = absl::InvalidArgumentError(
        absl::StrCat(path, ": not a regular file (", Sv(FileTypeName(st.st_mode)), ")"));
  } else if (static_cast<uint64_t>(st.st_size) > max_bytes) {
    status = absl::InvalidArgumentError(
        absl::StrCat(path, ": larger than ", max_bytes, " bytes", Sv(too_large_hint)));
  } else {
    // One allocation of the final size (plus room to notice growth), so no
    // copy of the bytes is left behind in a freed buffer.
    out.assign(static_cast<size_t>(st.st_size) + 1, '\0');
    size_t n = 0;
    while (n < out.size()) {
      const ssize_t r = ::read(fd, out.data() + n, out.size() - n);
      if (r < 0 && errno == EINTR) continue;
      if (r < 0) {
        status = absl::InternalError(absl::StrCat(path, ": cannot read: ", ErrnoText(errno)));
        break;
      }
      if (r == 0) break;
      n += static_cast<size_t>(r);
    }
    if (status.ok() && n == out.size()) {
      status = absl::InvalidArgumentError(absl::StrCat(path, ": changed size while being read"));
    }
    OPENSSL_cleanse(out.data() + n, out.size() - n);
    out.resize(n);
    if (!status.ok()) {
      OPENSSL_cleanse(out.data(), out.size());
      out.clear();
    }
  }
  ::close(fd);
  return status;
}

}  // namespace tokend::auth

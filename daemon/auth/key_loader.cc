// SPDX-License-Identifier: Apache-2.0
#include "daemon/auth/key_loader.h"

#include <openssl/crypto.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <filesystem>
#include <system_error>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "daemon/auth/base64url.h"
#include "daemon/auth/public_key.h"
#include "daemon/auth/regular_file.h"
#include "simdjson.h"

namespace tokend::auth {
namespace {

// No key file is anywhere near this; a larger file is a mistake, not a key.
constexpr size_t kMaxKeyFileBytes = size_t{1} << 20;
// Deeper JSON than this is not a JWK Set.
constexpr int kMaxJsonDepth = 32;

// A string that cleanses its whole buffer when it goes: for file contents
// and decoded key bytes on their way into SecretBytes.
class ScrubbedString {
 public:
  ScrubbedString() = default;
  ScrubbedString(const ScrubbedString&) = delete;
  ScrubbedString& operator=(const ScrubbedString&) = delete;
  ~ScrubbedString() { Scrub(s_); }

  std::string& str() { return s_; }
  std::string_view view() const { return s_; }

  static void Scrub(std::string& s) {
    s.resize(s.capacity());
    OPENSSL_cleanse(s.data(), s.size());
    s.clear();
  }

 private:
  std::string s_;
};

bool IsAsciiSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// Debian's abseil has its own string_view type.
absl::string_view Sv(std::string_view s) { return absl::string_view(s.data(), s.size()); }

std::string_view StripSpace(std::string_view s) {
  while (!s.empty() && IsAsciiSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsAsciiSpace(s.back())) s.remove_suffix(1);
  return s;
}

std::string ErrnoText(int err) { return std::error_code(err, std::generic_category()).message(); }

std::string BaseName(const std::string& path) {
  std::string_view p = path;
  while (p.size() > 1 && p.back() == '/') p.remove_suffix(1);
  const size_t slash = p.rfind('/');
  return std::string(slash == std::string_view::npos ? p : p.substr(slash + 1));
}

enum class FileForm { kJwks, kPem, kIssuer, kBase64, kRaw };

FileForm FormOf(std::string_view name) {
  if (name.ends_with(".json") || name.ends_with(".jwks")) return FileForm::kJwks;
  if (name.ends_with(".pem")) return FileForm::kPem;
  if (name.ends_with(".iss")) return FileForm::kIssuer;
  if (name.ends_with(".b64")) return FileForm::kBase64;
  return FileForm::kRaw;
}

// Fails on the first object, at any depth, that repeats a member name
// (simdjson accepts them; RFC 8259 leaves them undefined, and a key set must
// mean one thing).
absl::Status CheckUniqueMembers(simdjson::dom::element e, const std::string& source, int depth) {
  if (depth > kMaxJsonDepth) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": JSON nested too deeply"));
  }
  if (e.is_object()) {
    absl::flat_hash_set<std::string_view> seen;
    const simdjson::dom::object obj = e.get_object().value_unsafe();
    for (simdjson::dom::key_value_pair field : obj) {
      if (!seen.insert(field.key).second) {
        return absl::InvalidArgumentError(
            absl::StrCat(source, ": duplicate member name \"", Sv(field.key.substr(0, 64)), "\""));
      }
      absl::Status s = CheckUniqueMembers(field.value, source, depth + 1);
      if (!s.ok()) return s;
    }
  } else if (e.is_array()) {
    const simdjson::dom::array arr = e.get_array().value_unsafe();
    for (simdjson::dom::element item : arr) {
      absl::Status s = CheckUniqueMembers(item, source, depth + 1);
      if (!s.ok()) return s;
    }
  }
  return absl::OkStatus();
}

// Wipes every string value of a parsed document in the parser's own buffer
// (string views into it are writable memory the parser owns).
void WipeStrings(simdjson::dom::element e, int depth) {
  if (depth > kMaxJsonDepth) return;
  if (e.is_string()) {
    std::string_view v = e.get_string().value_unsafe();
    OPENSSL_cleanse(const_cast<char*>(v.data()), v.size());
  } else if (e.is_object()) {
    const simdjson::dom::object obj = e.get_object().value_unsafe();
    for (simdjson::dom::key_value_pair field : obj) WipeStrings(field.value, depth + 1);
  } else if (e.is_array()) {
    const simdjson::dom::array arr = e.get_array().value_unsafe();
    for (simdjson::dom::element item : arr) WipeStrings(item, depth + 1);
  }
}

// Member `name` of `obj` as a string: `*found` is false when it is absent;
// present but not a string is an error.
absl::Status OptionalString(simdjson::dom::object obj, std::string_view name,
                            const std::string& where, std::string_view* out, bool* found) {
  simdjson::dom::element v;
  *found = false;
  if (obj.at_key(name).get(v) != simdjson::SUCCESS) return absl::OkStatus();
  if (!v.is_string()) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": \"", Sv(name), "\" is not a string"));
  }
  *out = v.get_string().value_unsafe();
  *found = true;
  return absl::OkStatus();
}

absl::StatusOr<KeyMaterial> ParseJwk(simdjson::dom::element e, size_t index,
                                     const std::string& source, std::vector<std::string>* warnings,
                                     bool* skipped) {
  *skipped = false;
  std::string where = absl::StrCat(source, ": keys[", index, "]");
  simdjson::dom::object obj;
  if (e.get_object().get(obj) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError(absl::StrCat(where, " is not an object"));
  }
  std::string_view kty, kid, alg, use, k;
  bool has_kty = false, has_kid = false, has_alg = false, has_use = false, has_k = false;
  absl::Status s = OptionalString(obj, "kty", where, &kty, &has_kty);
  if (s.ok()) s = OptionalString(obj, "kid", where, &kid, &has_kid);
  if (!s.ok()) return s;
  if (has_kid && !kid.empty()) absl::StrAppend(&where, " (kid \"", Sv(kid), "\")");
  if (!has_kty) return absl::InvalidArgumentError(absl::StrCat(where, ": no \"kty\""));
  if (kty != "oct") return ParsePublicJwk(obj, kty, where, source, warnings, skipped);
  if (!has_kid || kid.empty()) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": no \"kid\""));
  }
  if (s = OptionalString(obj, "alg", where, &alg, &has_alg); !s.ok()) return s;
  if (s = OptionalString(obj, "use", where, &use, &has_use); !s.ok()) return s;
  if (s = OptionalString(obj, "k", where, &k, &has_k); !s.ok()) return s;

  KeyMaterial m;
  if (has_alg) {
    m.bound_alg = AlgFromName(alg);
    if (FamilyOf(m.bound_alg) != AlgFamily::kHmac) {
      return absl::InvalidArgumentError(absl::StrCat(where, ": alg \"", Sv(alg.substr(0, 32)),
                                                     "\" is not HS256, HS384 or HS512"));
    }
  }
  if (has_use && use != "sig") {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": use \"", Sv(use.substr(0, 32)), "\" is not \"sig\""));
  }
  if (!has_k) return absl::InvalidArgumentError(absl::StrCat(where, ": no \"k\""));
  ScrubbedString secret;
  if (!Base64UrlDecode(k, secret.str())) {
    return absl::InvalidArgumentError(
        absl::StrCat(where, ": \"k\" is not unpadded base64url (RFC 7515 section 2)"));
  }
  if (secret.view().empty()) {
    return absl::InvalidArgumentError(absl::StrCat(where, ": empty \"k\""));
  }
  m.kid = std::string(kid);
  m.secret = SecretBytes(secret.view());
  m.source = source;
  return m;
}

// A raw secret that is really a PEM file or a JWK Set would make public
// key bytes an HMAC secret (anyone holding the public key could then sign
// HS256 tokens: the RS256 -> HS256 confusion), or a private key a secret.
absl::Status RefuseKeyDocument(std::string_view bytes, const std::string& path) {
  if (bytes.find("-----BEGIN ") != std::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        path,
        ": holds a PEM block; a public key or certificate goes in a file named NAME.pem,"
        " and a private key does not belong in the keys directory"));
  }
  const std::string_view text = StripSpace(bytes);
  if (text.starts_with('{') && text.find("\"kty\"") != std::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": holds a JWK or JWK Set; name it NAME.jwks or NAME.json"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<KeyMaterial>> ParseFile(std::string_view bytes, FileForm form,
                                                   const std::string& path, const std::string& name,
                                                   std::vector<std::string>* warnings) {
  std::vector<KeyMaterial> out;
  switch (form) {
    case FileForm::kJwks:
      return ParseJwks(bytes, path, warnings);
    case FileForm::kPem: {
      absl::StatusOr<KeyMaterial> m = ParsePublicPem(bytes, name.substr(0, name.size() - 4), path);
      if (!m.ok()) return m.status();
      out.push_back(*std::move(m));
      return out;
    }
    case FileForm::kIssuer:
      return absl::InvalidArgumentError(absl::StrCat(path, ": an issuer file, not a key"));
    case FileForm::kBase64: {
      const std::string_view text = StripSpace(bytes);
      if (text.empty()) return absl::InvalidArgumentError(absl::StrCat(path, ": empty key file"));
      KeyMaterial m;
      m.kid = name.substr(0, name.size() - 4);
      if (m.kid.empty()) {
        return absl::InvalidArgumentError(absl::StrCat(path, ": file name gives an empty kid"));
      }
      ScrubbedString secret;
      if (!Base64DecodeLenient(text, secret.str())) {
        const bool inner_space = std::any_of(text.begin(), text.end(), IsAsciiSpace);
        return absl::InvalidArgumentError(absl::StrCat(
            path, ": not valid base64 or base64url",
            inner_space ? " (line breaks inside: write it on one line, e.g. base64 -w0)" : ""));
      }
      if (secret.view().empty()) {
        return absl::InvalidArgumentError(absl::StrCat(path, ": empty key file"));
      }
      m.secret = SecretBytes(secret.view());
      m.source = path;
      out.push_back(std::move(m));
      return out;
    }
    case FileForm::kRaw: {
      if (bytes.empty()) return absl::InvalidArgumentError(absl::StrCat(path, ": empty key file"));
      if (absl::Status s = RefuseKeyDocument(bytes, path); !s.ok()) return s;
      if (bytes.back() == '\n' && warnings != nullptr) {
        warnings->push_back(absl::StrCat(path,
                                         ": raw key ends with a newline, which is part of the key"
                                         " (written with echo? use printf or echo -n)"));
      }
      KeyMaterial m;
      m.kid = name;
      m.secret = SecretBytes(bytes);
      m.source = path;
      out.push_back(std::move(m));
      return out;
    }
  }
  return out;
}

bool EndsWithNoCase(std::string_view s, std::string_view suffix) {
  if (s.size() < suffix.size()) return false;
  s.remove_prefix(s.size() - suffix.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (absl::ascii_tolower(static_cast<unsigned char>(s[i])) != suffix[i]) return false;
  }
  return true;
}

bool StartsWithNoCase(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (size_t i = 0; i < prefix.size(); ++i) {
    if (absl::ascii_toupper(static_cast<unsigned char>(s[i])) != prefix[i]) return false;
  }
  return true;
}

// Suffixes (lower case, compared without case) of what editors, patch,
// package managers and downloads leave beside a file they change.
constexpr std::string_view kBackupSuffixes[] = {
    "~",         ".bak",      ".backup",    ".old",      ".orig",     ".rej",
    ".save",     ".swp",      ".swo",       ".tmp",      ".temp",     ".part",
    ".dpkg-old", ".dpkg-new", ".dpkg-dist", ".dpkg-bak", ".dpkg-tmp", ".ucf-old",
    ".ucf-new",  ".ucf-dist", ".rpmnew",    ".rpmsave",  ".rpmorig",
};
// Suffixes (lower case) and name prefixes (upper case) of documents.
constexpr std::string_view kDocumentSuffixes[] = {
    ".md", ".markdown", ".txt", ".rst", ".adoc", ".html", ".htm", ".pdf",
};
constexpr std::string_view kDocumentPrefixes[] = {
    "README", "LICENSE", "LICENCE", "COPYING", "NOTICE", "CHANGELOG",
};

// The mode bits of a key file as four octal digits.
std::string OctalMode(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

// A warning when `st` (a key file's, links followed) lets every user of the
// host read the key.
void WarnIfWorldReadable(const std::string& path, const struct stat& st,
                         std::vector<std::string>* warnings) {
  if ((st.st_mode & S_IROTH) == 0 || warnings == nullptr) return;
  warnings->push_back(absl::StrCat(path, ": key file is readable by every user on this host (mode ",
                                   OctalMode(st.st_mode), "); chmod o-r it"));
}

// The issuer in NAME.iss beside a NAME.jwks / NAME.json / NAME.pem at
// `path`: empty when there is none. One line, the issuer exactly (a final
// newline is dropped; anything else around or inside it is an error).
absl::StatusOr<std::string> SiblingIssuer(const std::string& path) {
  const size_t dot = path.rfind('.');
  const std::string iss_path = path.substr(0, dot) + ".iss";
  struct stat st;
  if (::stat(iss_path.c_str(), &st) != 0) return std::string();
  std::string text;
  if (absl::Status s = ReadRegularFile(iss_path, kMaxKeyFileBytes, text); !s.ok()) {
    // Removed since the stat: as if it had been missing then.
    if (absl::IsNotFound(s)) return std::string();
    return s;
  }
  if (text.ends_with('\n')) text.pop_back();
  if (text.ends_with('\r')) text.pop_back();
  if (text.empty() || std::any_of(text.begin(), text.end(), [](char c) {
        return static_cast<unsigned char>(c) < 0x21 || c == 0x7f;
      })) {
    return absl::InvalidArgumentError(
        absl::StrCat(iss_path, ": must hold one issuer on one line, without spaces"));
  }
  return text;
}

// Reads and parses one key file; `name` is the name it is listed under (a
// symbolic link's own name, not its target's).
absl::StatusOr<std::vector<KeyMaterial>> LoadFile(const std::string& path, const std::string& name,
                                                  std::vector<std::string>* warnings) {
  ScrubbedString bytes;
  absl::Status s = ReadRegularFile(path, kMaxKeyFileBytes, bytes.str(), "; not a key file");
  if (!s.ok()) return s;
  const FileForm form = FormOf(name);
  absl::StatusOr<std::vector<KeyMaterial>> keys =
      ParseFile(bytes.view(), form, path, name, warnings);
  if (!keys.ok() || (form != FileForm::kJwks && form != FileForm::kPem)) return keys;
  absl::StatusOr<std::string> issuer = SiblingIssuer(path);
  if (!issuer.ok()) return issuer.status();
  for (KeyMaterial& m : *keys) m.bound_issuer = *issuer;
  return keys;
}

bool IsApiKeysFile(std::string_view name) { return name.ends_with(".apikeys"); }

// Reads one .apikeys file into loaded->api_keys.
absl::Status LoadApiKeysFile(const std::string& path, LoadedKeys* loaded) {
  std::string text;
  absl::Status s = ReadRegularFile(path, kMaxKeyFileBytes, text, "; not an API key file");
  if (!s.ok()) return s;
  absl::StatusOr<std::vector<ApiKey>> keys = ParseApiKeys(text, path);
  if (!keys.ok()) return keys.status();
  for (ApiKey& k : *keys) loaded->api_keys.push_back(std::move(k));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<KeyMaterial>> ParseJwks(std::string_view json, const std::string& source,
                                                   std::vector<std::string>* warnings) {
  // The padded copy of the input and the parser's copies of its strings hold
  // the secrets: both are wiped on the way out (the parser's strings only
  // when the document parsed; simdjson gives no way to reach them otherwise).
  simdjson::padded_string padded(json);
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  bool parsed = false;
  struct WipeOnExit {
    simdjson::padded_string& input;
    const simdjson::dom::element& root;
    const bool& parsed;
    ~WipeOnExit() {
      if (parsed) WipeStrings(root, 0);
      OPENSSL_cleanse(input.data(), input.size());
    }
  } wipe{padded, root, parsed};

  if (auto err = parser.parse(padded).get(root); err != simdjson::SUCCESS) {
    return absl::InvalidArgumentError(
        absl::StrCat(source, ": not valid JSON (", simdjson::error_message(err), ")"));
  }
  parsed = true;
  absl::Status s = CheckUniqueMembers(root, source, 0);
  if (!s.ok()) return s;
  simdjson::dom::object top;
  if (root.get_object().get(top) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": not a JWK Set (not an object)"));
  }
  simdjson::dom::array keys;
  if (top.at_key("keys").get_array().get(keys) != simdjson::SUCCESS) {
    return absl::InvalidArgumentError(absl::StrCat(source, ": not a JWK Set (no \"keys\" array)"));
  }
  std::vector<KeyMaterial> out;
  size_t index = 0;
  for (simdjson::dom::element e : keys) {
    bool skipped = false;
    absl::StatusOr<KeyMaterial> m = ParseJwk(e, index++, source, warnings, &skipped);
    if (!m.ok()) return m.status();
    if (!skipped) out.push_back(*std::move(m));
  }
  // A set that publishes public keys is meant to be public: a secret beside
  // them is a leak, and a set meaning two things at once is refused.
  const bool any_public = std::any_of(out.begin(), out.end(),
                                      [](const KeyMaterial& m) { return m.public_key != nullptr; });
  const bool any_secret = std::any_of(out.begin(), out.end(),
                                      [](const KeyMaterial& m) { return m.public_key == nullptr; });
  if (any_public && any_secret) {
    return absl::InvalidArgumentError(
        absl::StrCat(source,
                     ": holds both secret (oct) and public keys; keep secrets in a file"
                     " of their own"));
  }
  return out;
}

std::string NotAKeyFileReason(std::string_view name) {
  for (std::string_view suffix : kBackupSuffixes) {
    if (EndsWithNoCase(name, suffix)) {
      return absl::StrCat("named like a backup or temporary copy (ends in \"", Sv(suffix), "\")");
    }
  }
  if (name.size() >= 2 && name.front() == '#' && name.back() == '#') {
    return "named like an editor's auto-save file (#...#)";
  }
  for (std::string_view suffix : kDocumentSuffixes) {
    if (EndsWithNoCase(name, suffix)) {
      return absl::StrCat("named like a document (ends in \"", Sv(suffix), "\")");
    }
  }
  for (std::string_view prefix : kDocumentPrefixes) {
    if (StartsWithNoCase(name, prefix)) {
      return absl::StrCat("named like a document (", Sv(prefix), "...)");
    }
  }
  return std::string();
}

absl::StatusOr<LoadedKeys> LoadKeyMaterial(const std::string& path) {
  LoadedKeys loaded;
  struct stat st;
  if (::stat(path.c_str(), &st) != 0) {
    const int err = errno;
    if (err == ENOENT || err == ENOTDIR) {
      loaded.warnings.push_back(absl::StrCat(path, ": does not exist; no keys loaded"));
      return loaded;
    }
    return absl::InternalError(absl::StrCat(path, ": cannot stat: ", ErrnoText(err)));
  }

  if (S_ISDIR(st.st_mode)) {
    std::vector<std::string> names;
    std::error_code ec;
    for (std::filesystem::directory_iterator it(path, ec), end; !ec && it != end;
         it.increment(ec)) {
      std::string name = it->path().filename().string();
      // Dot files include Kubernetes' ..data and its timestamped directories.
      if (name.empty() || name[0] == '.') continue;
      names.push_back(std::move(name));
    }
    if (ec) return absl::InternalError(absl::StrCat(path, ": cannot list: ", ec.message()));
    std::sort(names.begin(), names.end());  // load order does not depend on the filesystem
    for (const std::string& name : names) {
      const std::string full = path.ends_with('/') ? path + name : path + "/" + name;
      // Refused by name before anything else, so that neither a dangling
      // backup link nor a broken backup can fail the set.
      if (std::string why = NotAKeyFileReason(name); !why.empty()) {
        loaded.warnings.push_back(
            absl::StrCat(full, ": not loaded as a key: ", why, "; rename or remove it"));
        continue;
      }
      struct stat est;
      if (::stat(full.c_str(), &est) != 0) {  // follows symbolic links
        const int err = errno;
        if (err != ENOENT) {
          return absl::InternalError(absl::StrCat(full, ": cannot stat: ", ErrnoText(err)));
        }
        // Nothing there, not even a link: removed since the listing. Left
        // out, as if the listing had come a moment later; the watcher
        // reloads on the removal (or a re-creation) anyway.
        if (::lstat(full.c_str(), &est) != 0 && errno == ENOENT) continue;
        if (S_ISLNK(est.st_mode)) {
          return absl::NotFoundError(absl::StrCat(full, ": dangling symbolic link"));
        }
        // A file put back since the stat above: est is what is there now.
      }
      if (S_ISDIR(est.st_mode)) continue;  // not recursive
      if (FormOf(name) == FileForm::kIssuer) {
        // Read with its key file; alone, it binds nothing.
        const std::string stem = full.substr(0, full.size() - 4);
        struct stat kst;
        if (::stat((stem + ".jwks").c_str(), &kst) != 0 &&
            ::stat((stem + ".json").c_str(), &kst) != 0 &&
            ::stat((stem + ".pem").c_str(), &kst) != 0) {
          loaded.warnings.push_back(
              absl::StrCat(full, ": no NAME.jwks, NAME.json or NAME.pem beside it; ignored"));
        }
        continue;
      }
      if (!S_ISREG(est.st_mode)) {
        loaded.warnings.push_back(absl::StrCat(full, ": not a regular file; skipped"));
        continue;
      }
      // A file gone when it is opened was removed since the listing: left
      // out, as above.
      if (IsApiKeysFile(name)) {
        absl::Status s = LoadApiKeysFile(full, &loaded);
        if (!s.ok() && !absl::IsNotFound(s)) return s;
        continue;
      }
      absl::StatusOr<std::vector<KeyMaterial>> keys = LoadFile(full, name, &loaded.warnings);
      if (absl::IsNotFound(keys.status())) continue;
      if (!keys.ok()) return keys.status();
      WarnIfWorldReadable(full, est, &loaded.warnings);
      for (KeyMaterial& m : *keys) loaded.keys.push_back(std::move(m));
    }
  } else if (S_ISREG(st.st_mode) && IsApiKeysFile(BaseName(path))) {
    if (absl::Status s = LoadApiKeysFile(path, &loaded); !s.ok()) return s;
  } else if (S_ISREG(st.st_mode)) {
    absl::StatusOr<std::vector<KeyMaterial>> keys =
        LoadFile(path, BaseName(path), &loaded.warnings);
    if (!keys.ok()) return keys.status();
    WarnIfWorldReadable(path, st, &loaded.warnings);
    loaded.keys = *std::move(keys);
  } else {
    return absl::InvalidArgumentError(absl::StrCat(path, ": not a file or a directory"));
  }

  if (loaded.keys.empty() && loaded.api_keys.empty()) {
    loaded.warnings.push_back(absl::StrCat(path, ": no keys loaded"));
  }
  return loaded;
}

absl::StatusOr<std::shared_ptr<const Keyring>> LoadKeyring(const std::string& path,
                                                           std::vector<std::string>* warnings) {
  absl::StatusOr<LoadedKeys> loaded = LoadKeyMaterial(path);
  if (!loaded.ok()) return loaded.status();
  if (warnings != nullptr) {
    for (std::string& w : loaded->warnings) warnings->push_back(std::move(w));
  }
  return Keyring::Build(std::move(loaded->keys));
}

absl::StatusOr<KeyMaterial> ReadKeyFile(const std::string& path, std::string_view kid) {
  const std::string name = BaseName(path);
  if (IsApiKeysFile(name)) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": lists API key digests, not an HMAC key"));
  }
  ScrubbedString bytes;
  absl::Status s = ReadRegularFile(path, kMaxKeyFileBytes, bytes.str(), "; not a key file");
  if (!s.ok()) return s;
  const FileForm form = FormOf(name);
  absl::StatusOr<std::vector<KeyMaterial>> keys =
      ParseFile(bytes.view(), form, path, name, /*warnings=*/nullptr);
  if (!keys.ok()) return keys.status();
  if (form != FileForm::kJwks) return std::move(keys->front());
  if (kid.empty()) {
    if (keys->size() != 1) {
      return absl::InvalidArgumentError(
          absl::StrCat(path, ": holds ", keys->size(), " symmetric keys; name one by its kid"));
    }
    return std::move(keys->front());
  }
  for (KeyMaterial& m : *keys) {
    if (m.kid == kid) return std::move(m);
  }
  return absl::NotFoundError(absl::StrCat(path, ": no key with kid \"", Sv(kid), "\""));
}

}  // namespace tokend::auth

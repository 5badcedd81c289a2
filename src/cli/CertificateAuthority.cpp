// CertificateAuthority: X.509 v3 certificates made with OpenSSL 3 (EVP_EC_gen, X509_sign);
// every OpenSSL object is owned by a unique_ptr with its free function.
#include "cli/CertificateAuthority.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <memory>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "common/Error.h"

namespace cryo {

namespace {

template <typename T, void (*F)(T*)>
struct Freer {
  void operator()(T* p) const { F(p); }
};
using Key = std::unique_ptr<EVP_PKEY, Freer<EVP_PKEY, EVP_PKEY_free>>;
using Cert = std::unique_ptr<X509, Freer<X509, X509_free>>;
using Bio = std::unique_ptr<BIO, Freer<BIO, BIO_free_all>>;
using Ext = std::unique_ptr<X509_EXTENSION, Freer<X509_EXTENSION, X509_EXTENSION_free>>;

[[noreturn]] void sslFail(const std::string& what) {
  char buf[256] = "unknown error";
  if (unsigned long e = ERR_get_error()) ERR_error_string_n(e, buf, sizeof buf);
  fail("{}: {}", what, buf);
}

Key newKey() {
  Key k(EVP_EC_gen("P-256"));
  if (!k) sslFail("cannot make an EC key");
  return k;
}

// Opened O_EXCL with its final mode: a key is never readable by others, not even briefly.
Bio createFile(const std::filesystem::path& p, int mode) {
  int fd = ::open(p.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) failErrno("cannot create {}", p.string());
  Bio b(BIO_new_fd(fd, BIO_CLOSE));
  if (!b) {
    ::close(fd);
    sslFail("BIO_new_fd");
  }
  return b;
}

void writeKey(const std::filesystem::path& p, EVP_PKEY* k) {
  Bio b = createFile(p, 0600);
  if (!PEM_write_bio_PrivateKey(b.get(), k, nullptr, nullptr, 0, nullptr, nullptr))
    sslFail("cannot write " + p.string());
}

void writeCert(const std::filesystem::path& p, X509* c, int mode) {
  Bio b = createFile(p, mode);
  if (!PEM_write_bio_X509(b.get(), c)) sslFail("cannot write " + p.string());
}

Key readKey(const std::filesystem::path& p) {
  Bio b(BIO_new_file(p.c_str(), "r"));
  if (!b) sslFail("cannot read " + p.string());
  Key k(PEM_read_bio_PrivateKey(b.get(), nullptr, nullptr, nullptr));
  if (!k) sslFail("cannot parse the key " + p.string());
  return k;
}

Cert readCert(const std::filesystem::path& p) {
  Bio b(BIO_new_file(p.c_str(), "r"));
  if (!b) sslFail("cannot read " + p.string());
  Cert c(PEM_read_bio_X509(b.get(), nullptr, nullptr, nullptr));
  if (!c) sslFail("cannot parse the certificate " + p.string());
  return c;
}

void addExt(X509* cert, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, nullptr, nullptr, 0);
  Ext ext(X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str()));
  if (!ext || !X509_add_ext(cert, ext.get(), -1)) sslFail("cannot add extension " + value);
}

// A certificate for `key` named `cn`, valid from now for `days`, issuer fields not yet set.
Cert newCert(EVP_PKEY* key, const std::string& cn, long days) {
  Cert c(X509_new());
  if (!c) sslFail("X509_new");
  X509_set_version(c.get(), 2);
  unsigned char serial[16];
  if (RAND_bytes(serial, sizeof serial) != 1) sslFail("RAND_bytes");
  serial[0] &= 0x7f;  // a positive serial number
  std::unique_ptr<BIGNUM, Freer<BIGNUM, BN_free>> bn(BN_bin2bn(serial, sizeof serial, nullptr));
  if (!bn || !BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(c.get()))) sslFail("serial");
  X509_gmtime_adj(X509_getm_notBefore(c.get()), -3600);  // an hour of clock skew
  X509_gmtime_adj(X509_getm_notAfter(c.get()), days * 24 * 3600);
  X509_NAME* name = X509_get_subject_name(c.get());
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                             reinterpret_cast<const unsigned char*>(cn.c_str()), -1, -1, 0);
  if (!X509_set_pubkey(c.get(), key)) sslFail("X509_set_pubkey");
  return c;
}

void sign(X509* cert, EVP_PKEY* issuerKey) {
  if (!X509_sign(cert, issuerKey, EVP_sha256())) sslFail("cannot sign the certificate");
}

void checkName(const std::string& name) {
  if (name.empty() || name.find_first_of("/ \t\n") != std::string::npos || name == "ca")
    fail("certificate name '{}' must be non-empty, without '/' or spaces, and not 'ca'", name);
}

}  // namespace

void CertificateAuthority::init(const std::filesystem::path& dir, const std::string& name) {
  std::filesystem::create_directories(dir);
  if (std::filesystem::exists(dir / "ca.key"))
    fail("{} already holds a CA (ca.key); not overwriting it", dir.string());
  Key key = newKey();
  Cert cert = newCert(key.get(), name, 3650);
  X509_set_issuer_name(cert.get(), X509_get_subject_name(cert.get()));
  addExt(cert.get(), cert.get(), NID_basic_constraints, "critical,CA:TRUE");
  addExt(cert.get(), cert.get(), NID_key_usage, "critical,keyCertSign,cRLSign");
  addExt(cert.get(), cert.get(), NID_subject_key_identifier, "hash");
  sign(cert.get(), key.get());
  writeKey(dir / "ca.key", key.get());
  writeCert(dir / "ca.crt", cert.get(), 0644);
}

void CertificateAuthority::issue(const std::filesystem::path& dir, const std::string& name,
                                 const std::vector<std::string>& extraSans) {
  checkName(name);
  Key caKey = readKey(dir / "ca.key");
  Cert caCert = readCert(dir / "ca.crt");
  if (std::filesystem::exists(dir / (name + ".key")))
    fail("{} already exists; not overwriting it", (dir / (name + ".key")).string());
  Key key = newKey();
  Cert cert = newCert(key.get(), name, 825);
  X509_set_issuer_name(cert.get(), X509_get_subject_name(caCert.get()));
  std::string sans = "DNS:" + name + ",DNS:localhost,IP:127.0.0.1";
  for (const auto& s : extraSans) sans += "," + s;
  addExt(cert.get(), caCert.get(), NID_basic_constraints, "critical,CA:FALSE");
  addExt(cert.get(), caCert.get(), NID_key_usage, "critical,digitalSignature");
  addExt(cert.get(), caCert.get(), NID_ext_key_usage, "serverAuth,clientAuth");
  addExt(cert.get(), caCert.get(), NID_subject_alt_name, sans);
  addExt(cert.get(), caCert.get(), NID_authority_key_identifier, "keyid");
  sign(cert.get(), caKey.get());
  writeKey(dir / (name + ".key"), key.get());
  writeCert(dir / (name + ".crt"), cert.get(), 0644);
}

}  // namespace cryo

// Sha256: EVP_MD_CTX with EVP_sha256().
#include "node/daemon/Sha256.h"

#include <openssl/evp.h>

#include <stdexcept>

namespace cryo::daemon {

void Sha256::Free::operator()(evp_md_ctx_st* c) const { EVP_MD_CTX_free(c); }

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  if (!ctx_ || EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("cannot start a SHA-256 digest (OpenSSL)");
}

Sha256::~Sha256() = default;
Sha256::Sha256(Sha256&&) noexcept = default;
Sha256& Sha256::operator=(Sha256&&) noexcept = default;

void Sha256::update(std::string_view data) {
  if (EVP_DigestUpdate(ctx_.get(), data.data(), data.size()) != 1)
    throw std::runtime_error("SHA-256 update failed (OpenSSL)");
}

std::string Sha256::finish() {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (EVP_DigestFinal_ex(ctx_.get(), out, &n) != 1)
    throw std::runtime_error("SHA-256 final failed (OpenSSL)");
  return std::string(reinterpret_cast<const char*>(out), n);
}

}  // namespace cryo::daemon

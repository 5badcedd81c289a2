// TlsCredentials: grpc::SslServerCredentials with
// GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY, and grpc::SslCredentials.
#include "node/daemon/TlsCredentials.h"

#include <fstream>
#include <sstream>
#include <stdexcept>

#include <grpcpp/security/credentials.h>
#include <grpcpp/security/server_credentials.h>

namespace cryo::daemon {

namespace {

std::string readPem(const std::filesystem::path& p, const char* what) {
  if (p.empty()) throw std::runtime_error(std::string("no TLS ") + what + " file given");
  std::ifstream in(p);
  if (!in) throw std::runtime_error("cannot read the TLS " + std::string(what) + " " + p.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace

std::shared_ptr<grpc::ServerCredentials> TlsCredentials::server(const TlsFiles& files) {
  grpc::SslServerCredentialsOptions opts(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  opts.pem_root_certs = readPem(files.ca, "CA certificate");
  opts.pem_key_cert_pairs.push_back({readPem(files.key, "key"), readPem(files.cert, "certificate")});
  return grpc::SslServerCredentials(opts);
}

std::shared_ptr<grpc::ChannelCredentials> TlsCredentials::client(const TlsFiles& files) {
  grpc::SslCredentialsOptions opts;
  opts.pem_root_certs = readPem(files.ca, "CA certificate");
  if (!files.cert.empty() || !files.key.empty()) {
    opts.pem_private_key = readPem(files.key, "key");
    opts.pem_cert_chain = readPem(files.cert, "certificate");
  }
  return grpc::SslCredentials(opts);
}

}  // namespace cryo::daemon

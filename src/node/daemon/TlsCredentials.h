// TlsCredentials: gRPC credentials for mutual TLS from PEM files (a certificate, its key and
// the cluster CA): the server's require and verify a client certificate from that CA, the
// client's present one and verify the server's.
#pragma once

#include <filesystem>
#include <memory>

namespace grpc {
class ServerCredentials;
class ChannelCredentials;
}  // namespace grpc

namespace cryo::daemon {

struct TlsFiles {
  std::filesystem::path cert;
  std::filesystem::path key;
  std::filesystem::path ca;
};

class TlsCredentials {
 public:
  // Throw std::runtime_error naming a file that cannot be read.
  static std::shared_ptr<grpc::ServerCredentials> server(const TlsFiles& files);
  static std::shared_ptr<grpc::ChannelCredentials> client(const TlsFiles& files);
};

}  // namespace cryo::daemon

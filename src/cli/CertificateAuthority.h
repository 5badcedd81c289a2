// CertificateAuthority: `cryo certs`: makes a cluster CA and the certificates its nodes and
// clients present to each other (mutual TLS), with OpenSSL's library. Keys are written 0600.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace cryo {

class CertificateAuthority {
 public:
  // DIR/ca.crt and DIR/ca.key (an EC P-256 key; the CA certificate is valid for 10 years).
  // Refuses to overwrite an existing CA.
  static void init(const std::filesystem::path& dir, const std::string& name = "cryo cluster CA");
  // DIR/NAME.crt and DIR/NAME.key signed by DIR/ca.*, for both TLS server and client use,
  // valid for 825 days, with the subject alternative names DNS:NAME, DNS:localhost,
  // IP:127.0.0.1 and `extraSans` ("DNS:host", "IP:10.0.0.5").
  static void issue(const std::filesystem::path& dir, const std::string& name,
                    const std::vector<std::string>& extraSans = {});
};

}  // namespace cryo

#!/usr/bin/env python
"""Make a throwaway CA and a server certificate for Azurite on 127.0.0.1, and a CA bundle for clients.

usage: azurite_pki.py DIR [EXTRA_CA_PEM]
Writes DIR/ca.pem, DIR/server.pem (certificate), DIR/server-key.pem (key, mode 0600) and DIR/ca-bundle.pem:
our CA followed by EXTRA_CA_PEM (the emulator's CA), so that one ca_path serves both servers.
"""

from __future__ import annotations

import datetime
import ipaddress
import os
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def _name(common_name):
    return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, 'azmon azurite test'),
                      x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    folder = sys.argv[1]
    os.makedirs(folder, mode=0o700, exist_ok=True)
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(_name('azurite test CA')).issuer_name(_name('azurite test CA'))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=7))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
          .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder().subject_name(_name('127.0.0.1')).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(hours=1)).not_valid_after(now + datetime.timedelta(days=7))
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address('127.0.0.1')),
                                                        x509.DNSName('localhost')]), critical=False)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    ca_pem = ca.public_bytes(serialization.Encoding.PEM)
    with open(os.path.join(folder, 'ca.pem'), 'wb') as handle:
        handle.write(ca_pem)
    with open(os.path.join(folder, 'server.pem'), 'wb') as handle:
        handle.write(cert.public_bytes(serialization.Encoding.PEM))
    fd = os.open(os.path.join(folder, 'server-key.pem'), os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
    with os.fdopen(fd, 'wb') as handle:
        handle.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
    extra = b''
    if len(sys.argv) == 3 and sys.argv[2]:
        with open(sys.argv[2], 'rb') as handle:
            extra = handle.read()
    with open(os.path.join(folder, 'ca-bundle.pem'), 'wb') as handle:
        handle.write(ca_pem + b'\n' + extra)


if __name__ == '__main__':
    main()

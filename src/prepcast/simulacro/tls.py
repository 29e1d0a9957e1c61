"""HTTPS for the drill's local difusores: a certificate authority made at run time, a server
certificate from it for ``127.0.0.1`` (and ``localhost``), a threaded HTTP server that speaks TLS,
and a plain-HTTP server that redirects every request to the HTTPS site, as port 80 does at a
real difusor.

Only the drill's own clients trust this authority: the compliance check and the monitor through
the registry's ``[checks] ca_file``. A browser shows its warning for an authority it does not
know (see the README); the CA's key lives only in memory and dies with the drill::

    ca = DrillCA.create(out / "ca")        # ca.pem, sitio.pem, sitio.key
    httpd = TLSHTTPServer(("127.0.0.1", 0), Handler, ca.server_context())
    redirect = RedirectServer("https://127.0.0.1:8443"); redirect.start()
"""

from __future__ import annotations

import contextlib
import datetime as dt
import ipaddress
import ssl
import threading
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from prepcast.files import write_atomic

CA_NAME = "prepcast simulacro CA"
VALID_DAYS = 30  # the checks want a certificate that does not expire within 14 days


@dataclass(frozen=True)
class DrillCA:
    """The drill's authority: ``ca.pem`` (what the checks and the monitor trust) and the sites'
    certificate ``sitio.pem`` with its key ``sitio.key`` (0600)."""

    ca_file: Path
    cert_file: Path
    key_file: Path

    @classmethod
    def create(cls, directory: Path, *, host: str = "127.0.0.1") -> DrillCA:
        directory.mkdir(parents=True, exist_ok=True)
        now = dt.datetime.now(dt.UTC)
        ca_key = ec.generate_private_key(ec.SECP256R1())
        ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, CA_NAME)])
        ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
              .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
              .not_valid_before(now - dt.timedelta(hours=1))
              .not_valid_after(now + dt.timedelta(days=VALID_DAYS))
              .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
              .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False,
                                           False), critical=True)
              .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()),
                             critical=False)
              .sign(ca_key, hashes.SHA256()))
        key = ec.generate_private_key(ec.SECP256R1())
        cert = (x509.CertificateBuilder()
                .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)]))
                .issuer_name(ca_name).public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - dt.timedelta(hours=1))
                .not_valid_after(now + dt.timedelta(days=VALID_DAYS))
                .add_extension(x509.SubjectAlternativeName(
                    [x509.IPAddress(ipaddress.ip_address(host)), x509.DNSName("localhost")]),
                    critical=False)
                .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                               critical=False)
                .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                    ca_key.public_key()), critical=False)
                .sign(ca_key, hashes.SHA256()))
        pem = serialization.Encoding.PEM
        made = cls(directory / "ca.pem", directory / "sitio.pem", directory / "sitio.key")
        write_atomic(made.ca_file, ca.public_bytes(pem))
        write_atomic(made.cert_file, cert.public_bytes(pem))
        write_atomic(made.key_file, key.private_bytes(
            pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()), mode=0o600)
        return made

    def server_context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(str(self.cert_file), str(self.key_file))
        return ctx


class TLSHTTPServer(ThreadingHTTPServer):
    """A threaded HTTP server speaking TLS: each connection's handshake happens in its own
    thread (a slow or broken client never holds the others), and a failed one is dropped
    quietly, as a web server logs it at most."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: Any, context: ssl.SSLContext) -> None:
        self.context = context
        super().__init__(address, handler)

    def finish_request(self, request: Any, client_address: Any) -> None:
        request.settimeout(30)
        try:
            tls = self.context.wrap_socket(request, server_side=True)
        except (OSError, ssl.SSLError):
            return
        try:
            super().finish_request(tls, client_address)
        finally:
            with contextlib.suppress(OSError):
                tls.close()

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client gone mid-answer, or a plain-HTTP request on the TLS port


class RedirectServer:
    """Plain HTTP on its own loopback port: every request answered ``301`` to the same path on
    ``https_base`` (``https://127.0.0.1:PORT``)."""

    def __init__(self, https_base: str, host: str = "127.0.0.1") -> None:
        base = https_base.rstrip("/")

        class Redirect(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: object) -> None:
                pass

            def _answer(self) -> None:
                self.send_response(301)
                self.send_header("Location", base + (self.path if self.path.startswith("/")
                                                     else "/"))
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_HEAD = _answer  # the names http.server dispatches to

        self._httpd = ThreadingHTTPServer((host, 0), Redirect)
        self._httpd.daemon_threads = True
        self.port = int(self._httpd.server_address[1])
        self.url = f"http://{host}:{self.port}"
        self._thread = threading.Thread(target=self._httpd.serve_forever,
                                        kwargs={"poll_interval": 0.2},
                                        name=f"simulacro-redirect-{self.port}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        if self._thread.is_alive():
            self._httpd.shutdown()
            self._thread.join(5)
        self._httpd.server_close()


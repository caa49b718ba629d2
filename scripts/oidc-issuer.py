#!/usr/bin/env python3
"""A small OAuth 2.0 / OIDC token issuer for rowtide's tests (started by scripts/env as `oidc`).

It is the identity provider a Kafka OAUTHBEARER listener trusts: clients obtain an RS256 JWT
with the client-credentials grant at /token (client id and secret in HTTP basic auth, as
librdkafka's `sasl.oauthbearer.method=oidc` sends them, or in the form body), and the broker
verifies those tokens against the key set published at /jwks. Standard library only; RSA
signing is done by the `openssl` command with a key generated on first start.

  oidc-issuer.py --dir DIR --port PORT --client ID:SECRET [--client ...] [--audience AUD]

Endpoints:
  GET  /.well-known/openid-configuration   issuer, token_endpoint, jwks_uri
  GET  /jwks                               {"keys": [the RSA public key, kid rowtide-test-1]}
  POST /token                              grant_type=client_credentials [&scope=...]
       200 {"access_token", "token_type": "Bearer", "expires_in"}; wrong or missing client
       credentials: 401 {"error": "invalid_client"}; another grant: 400 unsupported_grant_type
  GET  /stats                              {"issued": N, "refused": M} (tests assert on it)
Claims: iss (http://127.0.0.1:PORT), sub (the client id), aud, iat, nbf, exp (+3600 s),
scope (the requested one, else "kafka"), jti.
"""
import argparse
import base64
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

KID = "rowtide-test-1"
LIFETIME = 3600


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def ensure_key(directory: str) -> str:
    key = os.path.join(directory, "signing-key.pem")
    if not os.path.exists(key):
        tmp = key + ".tmp"
        subprocess.run(
            ["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
             "-out", tmp],
            check=True, capture_output=True)
        os.replace(tmp, key)
    return key


def public_jwk(key: str) -> dict:
    out = subprocess.run(["openssl", "rsa", "-in", key, "-noout", "-modulus"],
                         check=True, capture_output=True, text=True).stdout.strip()
    modulus = bytes.fromhex(out.split("=", 1)[1])
    return {"kty": "RSA", "use": "sig", "alg": "RS256", "kid": KID,
            "n": b64url(modulus), "e": b64url((65537).to_bytes(3, "big"))}


def sign(key: str, data: bytes) -> bytes:
    return subprocess.run(["openssl", "dgst", "-sha256", "-sign", key],
                          input=data, check=True, capture_output=True).stdout


class Issuer:
    def __init__(self, key, issuer, audience, clients):
        self.key, self.issuer, self.audience, self.clients = key, issuer, audience, clients
        self.jwks = {"keys": [public_jwk(key)]}
        self.issued = 0
        self.refused = 0
        self.lock = threading.Lock()

    def token(self, sub: str, scope: str) -> str:
        now = int(time.time())
        header = {"alg": "RS256", "typ": "JWT", "kid": KID}
        claims = {"iss": self.issuer, "sub": sub, "aud": self.audience, "iat": now,
                  "nbf": now, "exp": now + LIFETIME, "scope": scope, "jti": str(uuid.uuid4())}
        signing_input = (b64url(json.dumps(header, separators=(",", ":")).encode()) + "." +
                         b64url(json.dumps(claims, separators=(",", ":")).encode()))
        return signing_input + "." + b64url(sign(self.key, signing_input.encode("ascii")))


def handler(issuer: Issuer):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def reply(self, status, body):
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            if self.path == "/jwks":
                self.reply(200, issuer.jwks)
            elif self.path == "/.well-known/openid-configuration":
                self.reply(200, {"issuer": issuer.issuer,
                                 "token_endpoint": issuer.issuer + "/token",
                                 "jwks_uri": issuer.issuer + "/jwks",
                                 "grant_types_supported": ["client_credentials"],
                                 "id_token_signing_alg_values_supported": ["RS256"]})
            elif self.path == "/stats":
                with issuer.lock:
                    self.reply(200, {"issued": issuer.issued, "refused": issuer.refused})
            else:
                self.reply(404, {"error": "not_found"})

        def do_POST(self):
            if self.path != "/token":
                self.reply(404, {"error": "not_found"})
                return
            length = int(self.headers.get("Content-Length") or 0)
            form = {k: v[0] for k, v in parse_qs(self.rfile.read(length).decode()).items()}
            client_id, secret = form.get("client_id"), form.get("client_secret")
            auth = self.headers.get("Authorization", "")
            if auth.lower().startswith("basic "):
                try:
                    client_id, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
                except ValueError:
                    client_id = secret = None
            if form.get("grant_type") != "client_credentials":
                self.reply(400, {"error": "unsupported_grant_type"})
                return
            if client_id is None or issuer.clients.get(client_id) != secret:
                with issuer.lock:
                    issuer.refused += 1
                self.reply(401, {"error": "invalid_client",
                                 "error_description": "unknown client or wrong secret"})
                return
            token = issuer.token(client_id, form.get("scope") or "kafka")
            with issuer.lock:
                issuer.issued += 1
            self.reply(200, {"access_token": token, "token_type": "Bearer",
                             "expires_in": LIFETIME})

        def log_message(self, fmt, *args):
            sys.stderr.write("%s %s\n" % (self.log_date_time_string(), fmt % args))
            sys.stderr.flush()

    return Handler


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--dir", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--client", action="append", default=[], help="ID:SECRET")
    p.add_argument("--audience", default="kafka")
    a = p.parse_args()
    os.makedirs(a.dir, exist_ok=True)
    clients = dict(c.split(":", 1) for c in a.client)
    issuer = Issuer(ensure_key(a.dir), f"http://127.0.0.1:{a.port}", a.audience, clients)
    server = ThreadingHTTPServer(("127.0.0.1", a.port), handler(issuer))
    sys.stderr.write(f"oidc issuer listening on 127.0.0.1:{a.port}\n")
    sys.stderr.flush()
    server.serve_forever()


if __name__ == "__main__":
    main()

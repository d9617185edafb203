# Copyright (c) 2026 The OpenShell in C authors.
# SPDX-License-Identifier: ISC
"""Fixtures for suites that speak gRPC: import them into a test module
(or a conftest) with `from grpcpki import pki, build_dir`.

pki: a throwaway CA with a server and a client certificate, plus a
second, foreign CA with its own client certificate, made with the
openssl CLI into tmp_path.  build_dir: $OPENSHELL_BUILD (default
build/).  Importing this module puts $OPENSHELL_BUILD/python/proto on
sys.path, so openshell_pb2 and friends import.
"""

import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("OPENSHELL_BUILD", ROOT / "build"))
if str(BUILD / "python" / "proto") not in sys.path:
    sys.path.insert(0, str(BUILD / "python" / "proto"))


def _openssl(*args, cwd):
    subprocess.run(["openssl", *args], cwd=cwd, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _ca(d, name, cn):
    _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt",
             "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
             "-subj", f"/O=openshell/CN={cn}", "-keyout", f"{name}.key",
             "-out", f"{name}.crt", "-addext",
             "basicConstraints=critical,CA:TRUE", "-addext",
             "keyUsage=critical,keyCertSign,cRLSign", cwd=d)


def _leaf(d, name, cn, ca, ext):
    (d / f"{name}.ext").write_text(ext)
    _openssl("req", "-newkey", "ec", "-pkeyopt",
             "ec_paramgen_curve:prime256v1", "-nodes", "-subj", f"/CN={cn}",
             "-keyout", f"{name}.key", "-out", f"{name}.csr", cwd=d)
    _openssl("x509", "-req", "-in", f"{name}.csr", "-CA", f"{ca}.crt",
             "-CAkey", f"{ca}.key", "-CAcreateserial", "-days", "2",
             "-extfile", f"{name}.ext", "-out", f"{name}.crt", cwd=d)


@pytest.fixture
def pki(tmp_path):
    d = tmp_path / "pki"
    d.mkdir()
    _ca(d, "ca", "openshell-ca")
    _leaf(d, "server", "openshell-server", "ca",
          "subjectAltName=DNS:localhost,DNS:openshell,IP:127.0.0.1\n"
          "extendedKeyUsage=serverAuth\n")
    _leaf(d, "client", "openshell-client", "ca",
          "extendedKeyUsage=clientAuth\n")
    _ca(d, "foreign", "foreign-ca")
    _leaf(d, "fclient", "openshell-client", "foreign",
          "extendedKeyUsage=clientAuth\n")

    def p(n):
        return str(d / n)
    return SimpleNamespace(
        dir=d, ca=p("ca.crt"), server_cert=p("server.crt"),
        server_key=p("server.key"), client_cert=p("client.crt"),
        client_key=p("client.key"), foreign_ca=p("foreign.crt"),
        foreign_cert=p("fclient.crt"), foreign_key=p("fclient.key"))


@pytest.fixture
def build_dir():
    return BUILD

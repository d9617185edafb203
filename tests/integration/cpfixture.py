# Copyright (c) 2026 The OpenShell in C authors.
# SPDX-License-Identifier: ISC
"""The `cp` fixture: a real openshell-gateway tree serving the control
plane on an ephemeral port, for suites that call the gRPC API.

    from cpfixture import cp

    def test_x(cp):
        stub = openshell_pb2_grpc.OpenShellStub(cp.channel())

cp.endpoint   "127.0.0.1:<port>"
cp.port       the port (from --ready-fd: "ready <port>")
cp.creds      grpc channel credentials from <state>/pki/{ca.crt,
              admin.crt,admin.key} (CN openshell-admin)
cp.channel(creds=None)   a secure channel (default: admin)
cp.client_creds(cn)      credentials for a client cert with that CN,
              signed with the state's CA key (a sandbox's identity)
cp.gateway    the gatewaytree.Gateway-like handle: .log (LogStream),
              .admin(...), .pid_of(service), .state_dir, .proc

A module-scoped fixture wraps `with control_plane() as gw: yield gw`
(the same start and teardown, without the sanitizer check of cp).

Readiness is the --ready-fd line; nothing sleeps.  The state directory
is made searchable (0711) because gatewayd runs as _openshell when the
tests run as root and must reach its database directory.
"""

import contextlib
import os
import re
import shutil
import subprocess
import sys
import tempfile

import pytest

from gatewaytree import BUILD, LogStream, Tree, child_pids, wait_gone

PROTO = os.path.join(BUILD, "python", "proto")
if PROTO not in sys.path:
    sys.path.insert(0, PROTO)

import grpc  # noqa: E402


def _read(path):
    with open(path, "rb") as f:
        return f.read()


class ControlPlane(Tree):
    def __init__(self, root, extra_args=()):
        self.root = root
        self.state_dir = os.path.join(root, "state")
        self.run_dir = os.path.join(self.state_dir, "run")
        self.pki = os.path.join(self.state_dir, "pki")
        self.find_binaries()
        self._channels = []
        self.start(extra_args)

    def start(self, extra_args=()):
        rfd, wfd = os.pipe()
        env = dict(os.environ)
        env.pop("OPENSHELL_LIBEXEC", None)
        # The control plane alone: no sandbox is started for a record
        # (a suite that wants them passes --compute-driver local).
        env["OPENSHELL_COMPUTE_DRIVER"] = "none"
        self.proc = subprocess.Popen(
            [self.gateway_bin, "-d", "--state-dir", self.state_dir,
             "--port", "0", "--ready-fd", str(wfd)] + list(extra_args),
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, env=env, pass_fds=(wfd,))
        os.close(wfd)
        self.log = LogStream(self.proc.stderr)
        with os.fdopen(rfd, "rb") as f:
            line = f.readline().decode()   # EOF if the tree died
        if not line.startswith("ready "):
            self.stop()
            raise AssertionError("gateway did not get ready:\n%s"
                                 % self.log.text())
        self.port = int(line.split()[1])
        self.endpoint = "127.0.0.1:%d" % self.port
        self.ca = _read(os.path.join(self.pki, "ca.crt"))
        self.creds = grpc.ssl_channel_credentials(
            root_certificates=self.ca,
            private_key=_read(os.path.join(self.pki, "admin.key")),
            certificate_chain=_read(os.path.join(self.pki, "admin.crt")))

    def channel(self, creds=None):
        ch = grpc.secure_channel(self.endpoint, creds or self.creds)
        self._channels.append(ch)
        return ch

    def client_cert(self, cn, ca_dir=None):
        """(cert_pem, key_pem) for CN cn, signed by the state's CA (or
        by the CA whose ca.crt/ca.key are in ca_dir)."""
        d = tempfile.mkdtemp(dir=self.root)
        ca_dir = ca_dir or self.pki
        ext = os.path.join(d, "ext")
        with open(ext, "w") as f:
            f.write("extendedKeyUsage=clientAuth\n")
        run = lambda *a: subprocess.run(
            ["openssl", *a], cwd=d, check=True,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        run("req", "-newkey", "ec", "-pkeyopt",
            "ec_paramgen_curve:prime256v1", "-nodes", "-subj", "/CN=" + cn,
            "-keyout", "c.key", "-out", "c.csr")
        run("x509", "-req", "-in", "c.csr",
            "-CA", os.path.join(ca_dir, "ca.crt"),
            "-CAkey", os.path.join(ca_dir, "ca.key"), "-CAcreateserial",
            "-CAserial", os.path.join(d, "ca.srl"), "-days", "2",
            "-extfile", ext, "-out", "c.crt")
        return _read(os.path.join(d, "c.crt")), _read(os.path.join(d, "c.key"))

    def client_creds(self, cn):
        crt, key = self.client_cert(cn)
        return grpc.ssl_channel_credentials(
            root_certificates=self.ca, private_key=key,
            certificate_chain=crt)

    def close_channels(self):
        for ch in self._channels:
            ch.close()
        self._channels = []

    def stop(self):
        self.close_channels()
        return super().stop()


def make_root():
    root = tempfile.mkdtemp(prefix="openshell-cp-")
    os.chmod(root, 0o711)
    return root


@contextlib.contextmanager
def control_plane(extra_args=()):
    """A ControlPlane in a fresh root for the block; afterwards it is
    stopped, its children are waited for and the root is removed."""
    root = make_root()
    gw = ControlPlane(root, extra_args)
    try:
        yield gw
    finally:
        pids = child_pids(gw.proc.pid)
        gw.stop()
        wait_gone(pids)
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def cp():
    with control_plane() as gw:
        yield gw
    # Sanitizer builds report into the log; no daemon may have crashed.
    bad = [l for l in gw.log.lines
           if re.search(r"Sanitizer|runtime error|fatal in", l)]
    assert not bad, gw.log.text()

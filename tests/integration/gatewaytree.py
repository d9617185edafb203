# Copyright (c) 2026 The OpenShell in C authors.
# SPDX-License-Identifier: ISC
"""Helpers and the `gateway` fixture for the gateway tree: start
openshell-gateway -d in a temporary state directory, follow its stderr
(the parent's and every child's log lines), and drive `openshell admin`.
A suite uses the fixture with `from gatewaytree import gateway`.

Readiness and every later event are waited for on the log stream, with
a deadline; nothing sleeps to synchronise."""

import json
import os
import re
import signal
import subprocess
import threading
import time

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(
    os.path.abspath(__file__))))
BUILD = os.environ.get("OPENSHELL_BUILD", os.path.join(REPO, "build"))
SERVICES = ("gatewayd", "watchd", "logd")
TIMEOUT = 15


def binary(*parts):
    path = os.path.join(BUILD, *parts)
    if not os.access(path, os.X_OK):
        pytest.skip("%s is not built" % path)
    return path


def proc_status(pid):
    """/proc/<pid>/status as a dict, or None once the process is gone
    (a zombie counts as gone: nobody may reap it in a container)."""
    try:
        with open("/proc/%d/status" % pid) as f:
            lines = f.read().splitlines()
    except (FileNotFoundError, ProcessLookupError):
        return None
    status = {}
    for line in lines:
        key, _, value = line.partition(":")
        status[key] = value.strip()
    if status.get("State", "").startswith(("Z", "X")):
        return None
    return status


def wait_gone(pids, timeout=TIMEOUT):
    """Polls /proc until none of pids runs; returns those left."""
    deadline = time.monotonic() + timeout
    left = [p for p in pids if proc_status(p) is not None]
    while left and time.monotonic() < deadline:
        time.sleep(0.02)
        left = [p for p in left if proc_status(p) is not None]
    return left


def child_pids(ppid):
    """The children of ppid, from /proc/<ppid>/task/*/children."""
    pids = []
    try:
        tasks = os.listdir("/proc/%d/task" % ppid)
    except FileNotFoundError:
        return pids
    for tid in tasks:
        try:
            with open("/proc/%d/task/%s/children" % (ppid, tid)) as f:
                pids += [int(p) for p in f.read().split()]
        except FileNotFoundError:
            pass
    return pids


class LogStream:
    """Lines from a pipe, collected by a thread; wait_for blocks on a
    condition variable until a line matches or the deadline passes."""

    def __init__(self, pipe):
        self.lines = []
        self.cond = threading.Condition()
        self.closed = False
        self.thread = threading.Thread(target=self._read, args=(pipe,),
                                       daemon=True)
        self.thread.start()

    def _read(self, pipe):
        for raw in iter(pipe.readline, b""):
            with self.cond:
                self.lines.append(raw.decode(errors="replace").rstrip("\n"))
                self.cond.notify_all()
        with self.cond:
            self.closed = True
            self.cond.notify_all()

    def wait_for(self, pattern, start=0, timeout=TIMEOUT):
        """The first match of pattern in a line at index >= start."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        i = start
        with self.cond:
            while True:
                while i < len(self.lines):
                    m = rx.search(self.lines[i])
                    if m:
                        return m
                    i += 1
                left = deadline - time.monotonic()
                if left <= 0 or self.closed:
                    raise AssertionError(
                        "no line matching %r; log:\n%s"
                        % (pattern, "\n".join(self.lines)))
                self.cond.wait(left)

    def mark(self):
        with self.cond:
            return len(self.lines)

    def text(self):
        with self.cond:
            return "\n".join(self.lines)


class Tree:
    """What every handle on a running openshell-gateway tree shares:
    the binaries, `openshell admin` on its state directory, and a
    SIGTERM stop.  A subclass sets state_dir and starts proc, with its
    stderr followed by log (a LogStream)."""

    def find_binaries(self):
        self.gateway_bin = binary("bin", "openshell-gateway")
        self.cli_bin = binary("bin", "openshell")

    def admin(self, service, *args, as_json=False, check=True):
        cmd = [self.cli_bin, "admin", service] + list(args)
        cmd += ["--state-dir", self.state_dir]
        if as_json:
            cmd += ["-o", "json"]
        r = subprocess.run(cmd, capture_output=True, text=True,
                           timeout=TIMEOUT)
        if check:
            assert r.returncode == 0, (cmd, r.stdout, r.stderr)
        if as_json and r.returncode == 0:
            return json.loads(r.stdout)
        return r

    def status(self, service):
        return self.admin(service, "status", as_json=True)

    def pid_of(self, service):
        return self.status(service)["pid"]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=TIMEOUT)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.thread.join(timeout=TIMEOUT)
        return self.proc.returncode


class Gateway(Tree):
    def __init__(self, state_dir, extra_args=()):
        self.state_dir = str(state_dir)
        self.run_dir = os.path.join(self.state_dir, "run")
        self.find_binaries()
        env = dict(os.environ)
        env.pop("OPENSHELL_LIBEXEC", None)
        self.proc = subprocess.Popen(
            # An ephemeral gRPC port: suites may run side by side.
            [self.gateway_bin, "-d", "--state-dir", self.state_dir,
             "--port", "0"] + list(extra_args),
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, env=env)
        self.log = LogStream(self.proc.stderr)
        try:
            self.log.wait_for(r"^gateway: gateway ready$")
        except AssertionError:
            self.stop()
            raise

    def children(self):
        return {s: self.pid_of(s) for s in SERVICES}


@pytest.fixture
def gateway(tmp_path):
    """A running gateway tree; on teardown it must stop cleanly with
    SIGTERM and take its children along (unless the test killed it)."""
    gw = Gateway(tmp_path / "state")
    try:
        yield gw
    finally:
        killed = gw.proc.poll() is not None
        pids = child_pids(gw.proc.pid)
        rc = gw.stop()
        left = wait_gone(pids)
    if not killed:
        assert rc == 0, gw.log.text()
        assert not left, "children still running: %r" % left
        assert not os.path.exists(os.path.join(gw.run_dir, "gatewayd.sock"))

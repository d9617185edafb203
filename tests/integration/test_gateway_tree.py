# Copyright (c) 2026 The OpenShell in C authors.
# SPDX-License-Identifier: ISC
"""The gateway process tree: privilege separation, the control sockets,
crash and restart, the log bus, and the parent's lifecycle."""

import os
import pwd
import shutil
import signal
import socket
import stat
import subprocess

import pytest

from gatewaytree import (SERVICES, TIMEOUT, Gateway, binary,  # noqa: F401
                         child_pids, gateway, proc_status, wait_gone)

USER = "_openshell"
root_only = pytest.mark.skipif(os.geteuid() != 0, reason="needs root")


def daemon_user():
    try:
        return pwd.getpwnam(USER)
    except KeyError:
        pytest.fail("user %s does not exist after the gateway started" % USER)


def assert_sandboxed(pid, ppid):
    pw = daemon_user()
    st = proc_status(pid)
    assert st is not None, "pid %d is gone" % pid
    assert int(st["PPid"]) == ppid
    assert st["Uid"].split() == [str(pw.pw_uid)] * 4, st["Uid"]
    assert st["Gid"].split() == [str(pw.pw_gid)] * 4, st["Gid"]
    assert st["NoNewPrivs"] == "1"
    assert st["Seccomp"] == "2"
    assert int(st["CapEff"], 16) == 0
    assert int(st["CapBnd"], 16) == 0


@root_only
def test_children_drop_privileges_and_sandbox(gateway):
    for service, pid in gateway.children().items():
        assert_sandboxed(pid, gateway.proc.pid)


def test_status_text_and_json(gateway):
    for service in SERVICES:
        st = gateway.status(service)
        assert st["proc"] == service
        assert st["state"] == "running"
        assert st["uptime_s"] >= 0
        assert st["version"]
        assert proc_status(st["pid"]) is not None
        text = gateway.admin(service, "status").stdout
        lines = dict(l.split(":", 1) for l in text.splitlines())
        assert lines["proc"].strip() == service
        assert lines["pid"].strip() == str(st["pid"])
        assert lines["state"].strip() == "running"
        # aligned: every value starts in the same column
        cols = {len(l) - len(l.split(":", 1)[1].lstrip())
                for l in text.splitlines()}
        assert len(cols) == 1, text


def test_stats(gateway):
    for service in SERVICES:
        st = gateway.admin(service, "stats", as_json=True)
        for key in ("uptime_s", "restarts", "msgs_in", "msgs_out",
                    "bytes_in", "bytes_out", "queue_bytes", "queue_max",
                    "control_clients"):
            assert isinstance(st[key], int), (service, key, st)
        assert st["restarts"] == 0
        assert st["msgs_in"] > 0 and st["msgs_out"] > 0
        assert st["queue_max"] > 0
        assert st["control_clients"] == 1
        peers = {c["peer"] for c in st["channels"]}
        assert peers == {"parent"} | (set(SERVICES) - {service}), st
        for c in st["channels"]:
            assert set(c) == {"peer", "msgs_in", "msgs_out", "queue_bytes"}
    assert "subscribers" in gateway.admin("watchd", "stats", as_json=True)
    logd = gateway.admin("logd", "stats", as_json=True)
    assert logd["events"] > 0 and logd["lines_buffered"] > 0
    text = gateway.admin("gatewayd", "stats").stdout
    assert "channels:" in text and "  - peer:" in text


def test_log_level(gateway):
    r = gateway.admin("watchd", "log-level", "debug", as_json=True)
    assert r == {"proc": "watchd", "level": "debug", "previous": "info"}
    r = gateway.admin("watchd", "log-level", "info", as_json=True)
    assert r["level"] == "info" and r["previous"] == "debug"
    r = gateway.admin("watchd", "log-level", "loud", check=False)
    assert r.returncode == 1
    assert "unknown log level" in r.stderr
    assert gateway.status("watchd")["state"] == "running"


@root_only
def test_forbidden_syscall_kills_and_restarts_child(gateway):
    if shutil.which("gdb") is None:
        pytest.skip("gdb is not installed")
    before = gateway.children()
    mark = gateway.log.mark()
    # mount(2) from inside gatewayd: not in its pledge, so seccomp
    # kills it with SIGSYS.
    subprocess.run(["gdb", "-nx", "-batch", "-p", str(before["gatewayd"]),
                    "-ex", "call (long)syscall(165, 0, 0, 0, 0, 0)"],
                   capture_output=True, timeout=60)
    gateway.log.wait_for(
        r"^gateway: lost child: gatewayd pid %d killed by signal 31 "
        r"\(SIGSYS\)$" % before["gatewayd"], start=mark)
    m = gateway.log.wait_for(r"^gateway: restarted gatewayd \(pid (\d+)",
                             start=mark)
    new = int(m.group(1))
    assert new != before["gatewayd"]
    assert proc_status(before["gatewayd"]) is None
    gateway.log.wait_for(r"^watchd: lost channel to gatewayd$", start=mark)
    gateway.log.wait_for(r"^logd: lost channel to gatewayd$", start=mark)

    st = gateway.status("gatewayd")
    assert st["pid"] == new and st["state"] == "running"
    assert_sandboxed(new, gateway.proc.pid)
    assert gateway.admin("gatewayd", "stats", as_json=True)["restarts"] == 1
    for service in ("watchd", "logd"):
        assert gateway.pid_of(service) == before[service]
        assert gateway.admin(service, "stats",
                             as_json=True)["restarts"] == 0
    # the survivors got a fresh channel to the new gatewayd
    for service in ("watchd", "logd"):
        peers = {c["peer"] for c in gateway.admin(
            service, "stats", as_json=True)["channels"]}
        assert "gatewayd" in peers


def test_parent_sigkill_takes_children_along(gateway):
    pids = list(gateway.children().values())
    gateway.proc.kill()
    gateway.proc.wait(timeout=TIMEOUT)
    assert wait_gone(pids) == []


@root_only
def test_control_socket_mode_and_peer_check(gateway):
    path = os.path.join(gateway.run_dir, "gatewayd.sock")
    st = os.stat(path)
    assert stat.S_ISSOCK(st.st_mode)
    assert stat.S_IMODE(st.st_mode) == 0o600
    assert st.st_uid == 0
    assert stat.S_IMODE(os.stat(gateway.run_dir).st_mode) == 0o700

    # The socket's mode stops another user (the run directory opened
    # up so that only the socket's own mode is in the way) ...
    os.chmod(gateway.run_dir, 0o711)
    try:
        assert connect_as(65534, gateway.run_dir, "gatewayd.sock") == \
            "refused"
        # ... and with the mode opened up too, SO_PEERCRED still does.
        os.chmod(path, 0o666)
        mark = gateway.log.mark()
        assert connect_as(65534, gateway.run_dir, "gatewayd.sock") == \
            "closed"
        gateway.log.wait_for(r"^gatewayd: control: refused uid 65534 ",
                             start=mark)
    finally:
        os.chmod(path, 0o600)
        os.chmod(gateway.run_dir, 0o700)
    assert gateway.status("gatewayd")["state"] == "running"


def connect_as(uid, directory, name):
    """Connects to directory/name as uid in a forked child: "refused"
    when connect(2) fails with EACCES, "closed" when the server hangs up
    without a word, "open" otherwise.  The child enters the directory
    before dropping root, so that the test's own temporary directories
    (0700) are not in the way."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        result = b"error"
        try:
            os.close(r)
            os.chdir(directory)
            os.setgroups([])
            os.setgid(uid)
            os.setuid(uid)
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.settimeout(TIMEOUT)
            try:
                s.connect(name)
            except PermissionError:
                result = b"refused"
            else:
                try:
                    result = b"closed" if s.recv(64) == b"" else b"open"
                except ConnectionResetError:
                    result = b"closed"
        finally:
            os.write(w, result)
            os._exit(0)
    os.close(w)
    with os.fdopen(r, "rb") as f:
        result = f.read().decode()
    os.waitpid(pid, 0)
    return result


def test_logd_collects_every_process_events(gateway):
    pids = gateway.children()
    events = gateway.admin("logd", "dump", as_json=True)["events"]
    seen = {(e["proc"], e["pid"]) for e in events
            if e["message"].startswith("running")}
    for service in SERVICES:
        assert (service, pids[service]) in seen, events
    assert any(e["proc"] == "gateway" and e["message"] == "gateway ready"
               for e in events)
    text = gateway.admin("logd", "dump").stdout
    for service in SERVICES:
        assert "%s[%d] INFO: running" % (service, pids[service]) in text
    with open(os.path.join(gateway.state_dir, "gateway.log")) as f:
        logfile = f.read()
    for service in SERVICES:
        assert "%s[%d] INFO: running" % (service, pids[service]) in logfile
    assert "gateway[%d] INFO: gateway ready" % gateway.proc.pid in logfile


def test_config_check(tmp_path):
    gw = binary("bin", "openshell-gateway")
    r = subprocess.run([gw, "-n", "--state-dir", str(tmp_path / "s")],
                       capture_output=True, text=True, timeout=TIMEOUT)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == "configuration OK"
    env = dict(os.environ, OPENSHELL_LIBEXEC=str(tmp_path / "nowhere"))
    r = subprocess.run([gw, "-n", "--state-dir", str(tmp_path / "s")],
                       capture_output=True, text=True, timeout=TIMEOUT,
                       env=env)
    assert r.returncode == 1
    assert "configuration OK" not in r.stdout
    assert "gatewayd" in r.stderr


def test_admin_without_gateway(tmp_path):
    cli = binary("bin", "openshell")
    r = subprocess.run([cli, "admin", "gatewayd", "status", "--state-dir",
                        str(tmp_path)], capture_output=True, text=True,
                       timeout=TIMEOUT)
    assert r.returncode == 1
    assert r.stderr.startswith(
        "openshell: gatewayd is not running (no control socket at ")
    assert len(r.stderr.splitlines()) == 1
    r = subprocess.run([cli, "admin", "nosuchd", "status"],
                       capture_output=True, text=True, timeout=TIMEOUT)
    assert r.returncode == 1 and "unknown service" in r.stderr


def test_second_gateway_refused(gateway):
    r = subprocess.run([gateway.gateway_bin, "-d", "--state-dir",
                        gateway.state_dir], capture_output=True, text=True,
                       timeout=TIMEOUT)
    assert r.returncode == 1
    assert "already running" in r.stderr
    assert gateway.status("gatewayd")["state"] == "running"


def test_long_state_dir(tmp_path):
    """Control socket paths longer than sun_path's 108 bytes (a long
    --state-dir or $XDG_STATE_HOME) still work, for the gateway that
    binds them and for `openshell admin` that connects."""
    gw = Gateway(tmp_path / ("long-state-" + "s" * 140))
    sock = os.path.join(gw.run_dir, "gatewayd.sock")
    try:
        assert len(sock) > 108
        assert stat.S_ISSOCK(os.stat(sock).st_mode)
        text = gw.admin("gatewayd", "status").stdout
        lines = dict(l.split(":", 1) for l in text.splitlines())
        assert lines["proc"].strip() == "gatewayd"
        assert lines["state"].strip() == "running"
    finally:
        pids = child_pids(gw.proc.pid)
        rc = gw.stop()
        left = wait_gone(pids)
    assert rc == 0, gw.log.text()
    assert not left, "children still running: %r" % left
    assert not os.path.exists(sock)

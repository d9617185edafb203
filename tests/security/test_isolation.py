# Copyright (c) 2026 The OpenShell in C authors.
# SPDX-License-Identifier: ISC
"""The agent's process isolation: user, capabilities, no_new_privs,
seccomp, Landlock, setuid binaries, mounts, the persistent /sandbox."""

import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

from sbxsec import TRY, agent

SANDBOX_UID = pwd.getpwnam("sandbox").pw_uid

# each must be refused with EPERM inside; clone3 gets ENOSYS so that
# glibc falls back to the checked clone(2)
BLOCKED = [
    "socket_packet", "socket_bluetooth", "socket_vsock", "socket_netlink",
    "socket_netlink_hibits", "io_uring_setup", "io_uring_enter",
    "io_uring_register", "bpf", "userfaultfd", "keyctl", "add_key",
    "request_key", "perf_event_open", "mount", "umount2", "fsopen",
    "fsconfig", "fsmount", "fspick", "move_mount", "open_tree",
    "mount_setattr", "pivot_root", "setns", "unshare_user", "unshare_net",
    "unshare_ns", "clone_newuser", "clone_newpid", "clone_newtime",
    "kexec_load", "kexec_file_load", "init_module", "finit_module",
    "delete_module", "ioctl_tiocsti", "ioctl_tiocsti_hibits",
]
# outside the sandbox, as the same unprivileged user, these do NOT
# fail with EPERM: proof that the filter, not the uid, refuses them
CONTROL = ["socket_netlink", "keyctl", "add_key", "setns", "open_tree",
           "mount_setattr", "clone3", "io_uring_setup", "perf_event_open",
           "ioctl_tiocsti"]


def status(text):
    return dict(l.split(":\t", 1) for l in text.splitlines() if ":\t" in l)


def test_agent_user_caps_nnp_seccomp(sandbox):
    p = sandbox().run(["/bin/sh", "-c", "id -u; id -g; id -G; "
                       "cat /proc/self/status"])
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert int(lines[0]) == SANDBOX_UID
    assert lines[1] == lines[2]		# no supplementary groups
    st = status("\n".join(lines[3:]))
    for cap in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        assert int(st[cap], 16) == 0, (cap, st[cap])
    assert st["NoNewPrivs"].strip() == "1"
    assert st["Seccomp"].strip() == "2"
    uids = st["Uid"].split()
    assert uids == [str(SANDBOX_UID)] * 4


def test_namespaces(sandbox):
    p = sandbox().run(["/bin/sh", "-c", "echo $$; hostname; "
                       "ls /proc | grep -c '^[0-9]'"])
    assert p.returncode == 0, p.stderr
    pid, host, nprocs = p.stdout.split()
    assert int(pid) <= 3		# PID 1 is the reaper
    assert host == "sandbox"
    assert int(nprocs) <= 5		# only the agent's own tree


def test_pid1_shows_no_supervisor_arguments(sandbox):
    """PID 1 of the agent's namespace is the supervisor's clone: its
    command line must not tell the agent the host's state paths."""
    sb = sandbox()
    p = sb.run(["/usr/bin/python3", "-c", "import sys; sys.stdout.write("
                "open('/proc/1/cmdline', 'rb').read().hex())"])
    assert p.returncode == 0, p.stderr
    args = [a for a in bytes.fromhex(p.stdout).split(b"\0") if a]
    assert args == [b"openshell-reaper"], args


def test_seccomp_blocks(sandbox):
    sb = sandbox()
    path = sb.install(TRY, "try_syscall")
    p = sb.run([path, *BLOCKED, "clone3", "fork"])
    assert p.returncode == 0, p.stderr
    got = {l.split()[0]: (int(l.split()[1]), int(l.split()[2]))
           for l in p.stdout.splitlines()}
    for name in BLOCKED:
        assert got[name] == (-1, 1), (name, got[name])	# EPERM
    assert got["clone3"] == (-1, 38)			# ENOSYS
    assert got["fork"] == (0, 0)			# plain fork works


def test_seccomp_control_outside():
    """The same probes as the same user, no sandbox: not EPERM."""
    def drop():
        os.setgroups([])
        os.setgid(pwd.getpwnam("sandbox").pw_gid)
        os.setuid(SANDBOX_UID)
    with tempfile.TemporaryDirectory() as d:
        os.chmod(d, 0o755)
        exe = Path(d) / "try_syscall"
        exe.write_bytes(TRY.read_bytes())
        exe.chmod(0o755)
        p = subprocess.run([str(exe), *CONTROL], preexec_fn=drop,
                           stdout=subprocess.PIPE, text=True, timeout=30)
    got = {l.split()[0]: int(l.split()[2]) for l in p.stdout.splitlines()}
    assert all(got[n] != 1 for n in CONTROL), got


def test_landlock_blocks_outside_policy(sandbox):
    assert os.access("/var/lib/dpkg/status", os.R_OK)
    out, p = agent(sandbox(), """
out["dpkg"] = openf("/var/lib/dpkg/status")	# world-readable, not listed
out["zero"] = openf("/dev/zero")	# mounted, not listed: Landlock
out["shadow"] = openf("/etc/shadow")
out["root"] = openf("/root/.bashrc")
out["etc_ok"] = openf("/etc/hostname")
out["usr_w"] = openf("/usr/openshell-test", "w")
out["etc_w"] = openf("/etc/passwd", "a")
out["shm_w"] = openf("/dev/shm/x", "w")	# writable tmpfs, not listed
out["sandbox_w"] = openf("/sandbox/ok", "w")
out["tmp_w"] = openf("/tmp/ok", "w")
try:
    os.listdir("/var/lib")
    out["ls"] = "ok"
except OSError as e:
    out["ls"] = err(e)
""")
    # not listed: not even in the agent's mount namespace
    assert out["dpkg"] == "ENOENT", out
    assert out["zero"] == "EACCES", out
    assert out["shadow"] == "EACCES", out
    assert out["root"] in ("EACCES", "ENOENT"), out
    assert out["etc_ok"] == "ok", out
    assert out["usr_w"] in ("EROFS", "EACCES"), out
    assert out["etc_w"] in ("EROFS", "EACCES"), out
    assert out["shm_w"] == "EACCES", out	# Landlock, not the mount
    assert out["sandbox_w"] == "ok" and out["tmp_w"] == "ok", out
    assert out["ls"] == "ENOENT", out


def test_landlock_status_logged(sandbox):
    p = sandbox().run(["/bin/true"])
    assert p.returncode == 0, p.stderr
    assert "landlock abi=" in p.stderr and "enforced=yes" in p.stderr, \
        p.stderr
    assert "compatibility=best_effort" in p.stderr
    assert "seccomp mode=filter enforced=yes" in p.stderr


def test_landlock_best_effort_skips_missing(sandbox):
    sb = sandbox()
    text = sb.policy.read_text().replace(
        "read_only: [", "read_only: [/nonexistent-openshell, ")
    sb.policy.write_text(text)
    p = sb.run(["/bin/true"])
    assert p.returncode == 0, p.stderr
    assert "skipping /nonexistent-openshell" in p.stderr
    assert "skipped=1" in p.stderr and "enforced=yes" in p.stderr


def test_landlock_hard_requirement_fails(sandbox):
    sb = sandbox(compat="hard_requirement")
    text = sb.policy.read_text().replace(
        "read_only: [", "read_only: [/nonexistent-openshell, ")
    sb.policy.write_text(text)
    p = sb.run(["/bin/echo", "must not run"])
    assert p.returncode != 0
    assert "must not run" not in p.stdout
    assert "/nonexistent-openshell" in p.stderr and \
        "enforced=no" in p.stderr, p.stderr


def test_setuid_does_not_regain_root(sandbox):
    sb = sandbox()
    # a setuid-root copy of the probe, planted by root in /sandbox
    path = sb.install(TRY, "suid_probe", mode=0o4755, owner=(0, 0))
    p = sb.run(["/bin/sh", "-c", f"{path} ids; "
                "/usr/bin/su root -c id </dev/null; echo su=$?; "
                "/usr/bin/passwd -S root </dev/null; echo passwd=$?"])
    lines = p.stdout.splitlines()
    assert lines[0] == f"ids {SANDBOX_UID} {SANDBOX_UID} {SANDBOX_UID}", p
    assert "uid=0" not in p.stdout
    assert "su=0" not in p.stdout and "passwd=0" not in p.stdout, p.stdout


def test_sandbox_dir_persists(sandbox, tmp_path):
    token = secrets.token_hex(8)
    state = tmp_path / "persist"
    p = sandbox(state=state).run(["/bin/sh", "-c",
                                  f"echo {token} > /sandbox/keep"])
    assert p.returncode == 0, p.stderr
    p = sandbox(state=state).run(["/bin/cat", "/sandbox/keep"])
    assert p.returncode == 0, p.stderr
    assert p.stdout.strip() == token
    assert (state / "sandbox" / "keep").stat().st_uid == SANDBOX_UID


def test_exit_status_propagates(sandbox):
    assert sandbox().run(["/bin/sh", "-c", "exit 7"]).returncode == 7
    p = sandbox().run(["/bin/sh", "-c", "kill -TERM $$"])
    assert p.returncode == 128 + 15
    assert sandbox().run(["/nonexistent/cmd"]).returncode == 127


def test_host_unix_sockets_absent(sandbox, tmp_path):
    """Landlock does not restrict connect(2) to a socket file: what is
    not listed in the policy must not be in the agent's tree at all."""
    d = Path(tempfile.mkdtemp(prefix="openshell-sec-", dir="/run"))
    srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        os.chmod(d, 0o755)
        srv.bind(str(d / "s"))
        os.chmod(d / "s", 0o777)
        srv.listen(1)
        srv.setblocking(False)
        out, _ = agent(sandbox(), f"""
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
try:
    s.connect("{d}/s")
    out["run"] = "connected"
except OSError as e:
    out["run"] = err(e)
out["var_run"] = os.path.exists("/var/run/{d.name}/s")
out["dbus"] = os.path.exists("/run/dbus")
""")
        assert out == {"run": "ENOENT", "var_run": False, "dbus": False}
        try:
            srv.accept()
            raise AssertionError("the agent reached a host socket")
        except BlockingIOError:
            pass
    finally:
        srv.close()
        shutil.rmtree(d, ignore_errors=True)


def test_sigterm_stops_agent(sandbox):
    sb = sandbox()
    hold = sb.popen(["/bin/sh", "-c", "echo up; exec sleep 100"])
    assert hold.ready == "ready"
    assert hold.stdout.readline().strip() == "up"
    kids = open(f"/proc/{hold.pid}/task/{hold.pid}/children").read().split()
    hold.terminate()
    assert hold.wait(30) == 128 + 15
    hold.communicate(timeout=30)
    # proxyd and the reaper (hence the whole agent PID namespace) gone
    for k in kids:
        assert not os.path.exists(f"/proc/{k}/status") or \
            "zombie" in open(f"/proc/{k}/status").read()
    assert not (sb.state / "run" / "root").exists()


def test_many_sandboxes_at_once(sandbox, tmp_path):
    """Each has its own namespaces, addresses and /sandbox."""
    n = 8
    boxes = [sandbox(state=tmp_path / f"s{i}") for i in range(n)]
    procs = [b.popen(["/bin/sh", "-c",
                      f"echo {i} > /sandbox/id; cat /sandbox/id; "
                      "cat /proc/net/fib_trie | grep -c 10.200.0.2"])
             for i, b in enumerate(boxes)]
    for i, p in enumerate(procs):
        out, err = p.communicate(timeout=60)
        assert p.returncode == 0, err
        assert p.ready == "ready"
        assert out.split()[0] == str(i)


def test_ptrace_own_tree_only(sandbox):
    """gdb/strace on the agent's own children keep working; the reaper
    (PID 1, root) and anything outside are out of reach."""
    out, _ = agent(sandbox(), """
import ctypes, signal
libc = ctypes.CDLL(None, use_errno=True)
def attach(pid):
    if libc.ptrace(16, pid, None, None) == 0:	# PTRACE_ATTACH
        os.waitpid(pid, 0)
        libc.ptrace(17, pid, None, None)	# PTRACE_DETACH
        return "ok"
    return errno.errorcode[ctypes.get_errno()]
child = os.fork()
if child == 0:
    time.sleep(30)
    os._exit(0)
out["child"] = attach(child)
os.kill(child, signal.SIGKILL)
out["reaper"] = attach(1)
try:
    os.kill(1, 0)
    out["signal_reaper"] = "ok"
except OSError as e:
    out["signal_reaper"] = err(e)
""")
    assert out["child"] == "ok", out
    assert out["reaper"] == "EPERM", out
    assert out["signal_reaper"] == "EPERM", out


def test_strace_works_inside(sandbox):
    p = sandbox().run(["/usr/bin/strace", "-f", "-e", "trace=execve",
                       "/bin/sh", "-c", "/bin/true"])
    assert p.returncode == 0, p.stderr
    assert 'execve("/bin/true"' in p.stderr


def test_supervisor_killed_takes_everything(sandbox):
    """kill -9 of the supervisor: the agent's PID namespace (through the
    reaper's parent-death signal) and proxyd (its channel closes) go."""
    import select
    sb = sandbox()
    hold = sb.popen(["/bin/sh", "-c", "echo up; exec sleep 100"])
    assert hold.ready == "ready"
    assert hold.stdout.readline().strip() == "up"
    kids = [int(k) for k in open(
        f"/proc/{hold.pid}/task/{hold.pid}/children").read().split()]
    assert len(kids) == 2			# proxyd and the reaper
    fds = [os.pidfd_open(k) for k in kids]
    hold.kill()
    hold.wait(30)
    for fd in fds:	# readable once the process has exited
        assert select.select([fd], [], [], 30)[0] == [fd]
        os.close(fd)
    hold.communicate(timeout=30)

# Copyright (c) 2026 The OpenShell in C authors.
# SPDX-License-Identifier: ISC
"""bench/proxy: see run.sh.  This script only sets the stage (network
namespaces, the real supervisor with proxyd, tinyproxy, the floor
relay, the C test server) and prints; proxy_load does the measuring.

    bench netns (private)    203.0.113.10 on lo: the sink
        |  veth 10.201.0.1 -- 10.201.0.2
    client netns             direct, tinyproxy and floor clients
    sandbox (the real one)   agent 10.200.0.2 -- veth -- 10.200.0.1:3128
                             proxyd; the proxyd clients run in the agent
    upstream netns           203.0.113.20 behind a veth shaped with tbf
                             (the "shaped" cases: a real link's speed)

Every client crosses one veth to its proxy (or to the sink), so the
four columns pay the same for the first hop; proxyd's CONNECT includes
the supervisor's identity lookup of the agent's socket (ident.c)."""

import ctypes
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "integration"))

from proxydharness import private_netns  # noqa: E402

HOST = "203.0.113.10"
SHAPED = "203.0.113.20"
BENCH_IP = "10.201.0.1"
CLIENT_IP = "10.201.0.2"
UP_B, UP_U = "10.202.0.1", "10.202.0.2"
PROXYD = "10.200.0.1:3128"
SINK_PORT = 9100
SECS = os.environ.get("PROXY_BENCH_SECS", "0.5")
IDLE = 200
REPS = int(os.environ.get("PROXY_BENCH_REPS", "3"))
LAT_N = os.environ.get("PROXY_BENCH_LAT_N", "1000")
RATE = os.environ.get("PROXY_BENCH_RATE", "4gbit")
ONLY = os.environ.get("PROXY_BENCH_ONLY", "")
CLONE_NEWNET = 0x40000000
POLICY = """version: 1
filesystem_policy:
  include_workdir: true
  read_only: [/usr, /lib, /proc, /etc]
  read_write: [/sandbox, /tmp, /dev/null]
landlock:
  compatibility: best_effort
process:
  run_as_user: sandbox
  run_as_group: sandbox
network_policies:
  bench:
    endpoints:
      - { host: bench.test, port: %d, allowed_ips: [203.0.113.0/24] }
      - { host: shaped.test, port: %d, allowed_ips: [203.0.113.0/24] }
    binaries:
      - { path: /sandbox/proxy_load }
""" % (SINK_PORT, SINK_PORT)
TINYPROXY_CONF = """User nobody
Group nogroup
Port %d
Listen %s
Timeout 600
MaxClients 100
LogLevel Error
DisableViaHeader Yes
Allow %s
ConnectPort %d
"""


def ip(*args):
    subprocess.run(["ip", *args], check=True)


class Netns:
    """A named netns of this run (ip netns), entered by setns in a
    child before exec."""

    def __init__(self, name):
        self.name = name
        ip("netns", "add", name)
        self.path = "/run/netns/" + name
        ip("-n", name, "link", "set", "lo", "up")

    def enter(self):
        libc = ctypes.CDLL(None, use_errno=True)
        fd = os.open(self.path, os.O_RDONLY)
        if libc.setns(fd, CLONE_NEWNET) != 0:
            os._exit(111)
        os.close(fd)

    def delete(self):
        subprocess.run(["ip", "netns", "del", self.name])


def links(cns, uns):
    """The client's veth to us, and the shaped veth to the upstream
    host (tbf both ways: a link of RATE)."""
    ip("link", "add", "pb0", "type", "veth", "peer", "name", "pc0",
       "netns", cns.name)
    ip("addr", "add", BENCH_IP + "/24", "dev", "pb0")
    ip("link", "set", "pb0", "up")
    ip("-n", cns.name, "addr", "add", CLIENT_IP + "/24", "dev", "pc0")
    ip("-n", cns.name, "link", "set", "pc0", "up")
    ip("-n", cns.name, "route", "add", "203.0.113.0/24", "via", BENCH_IP)
    ip("link", "add", "pu0", "type", "veth", "peer", "name", "pu1",
       "netns", uns.name)
    ip("addr", "add", UP_B + "/24", "dev", "pu0")
    ip("link", "set", "pu0", "up")
    ip("-n", uns.name, "addr", "add", UP_U + "/24", "dev", "pu1")
    ip("-n", uns.name, "addr", "add", SHAPED + "/32", "dev", "lo")
    ip("-n", uns.name, "link", "set", "pu1", "up")
    ip("-n", uns.name, "route", "add", "default", "via", UP_B)
    ip("route", "add", SHAPED + "/32", "via", UP_U)
    with open("/proc/sys/net/ipv4/ip_forward", "w") as f:
        f.write("1")    # this netns only: client -> upstream host
    for ns, dev in ((None, "pu0"), (uns.name, "pu1")):
        pre = ["-n", ns] if ns else []
        subprocess.run(["tc", *pre, "qdisc", "add", "dev", dev, "root",
                        "tbf", "rate", RATE, "burst", "4mb", "latency",
                        "5ms"], check=True)


def wait_listen(addr, proc, what):
    """tinyproxy says nothing when it is ready: connect until it takes
    (bounded, and not a test)."""
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("%s exited %d" % (what, proc.returncode))
        try:
            socket.create_connection(addr, timeout=1).close()
            return
        except OSError:
            time.sleep(0.01)
    raise RuntimeError("%s does not listen on %s:%d" % ((what,) + addr))


def cpu_ticks(pid):
    """utime + stime of the whole process (dead threads included)."""
    if pid is None:
        return 0
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def cpu_ns(pid):
    """CPU time of a single-threaded process, ns (schedstat)."""
    with open("/proc/%d/schedstat" % pid) as f:
        return int(f.read().split()[0])


def child_named(ppid, name):
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                st = f.read()
        except OSError:
            continue
        comm = st[st.index("(") + 1:st.rindex(")")]
        if comm == name and int(st.rsplit(")", 1)[1].split()[1]) == ppid:
            return int(d)
    raise RuntimeError("no %s under pid %d" % (name, ppid))


def descendant_named(top, name):
    """The process called name below top (the agent, under its
    reaper)."""
    kids = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open("/proc/%s/stat" % d) as f:
                    st = f.read()
            except OSError:
                continue
            ppid = int(st.rsplit(")", 1)[1].split()[1])
            kids.setdefault(ppid, []).append(
                (int(d), st[st.index("(") + 1:st.rindex(")")]))
    todo = [top]
    while todo:
        for pid, comm in kids.get(todo.pop(), []):
            if comm == name:
                return pid
            todo.append(pid)
    raise RuntimeError("no %s below pid %d" % (name, top))


class Sandbox:
    """openshell-sandbox in local mode (policy file, no gateway), its
    agent `proxy_load agent`: one command line in, one answer line
    out."""

    def __init__(self, build, load, tmp):
        state = os.path.join(tmp, "state")
        sbx = os.path.join(state, "sandbox")
        os.makedirs(sbx)
        shutil.copyfile(load, os.path.join(sbx, "proxy_load"))
        os.chmod(os.path.join(sbx, "proxy_load"), 0o755)
        pol = os.path.join(tmp, "policy.yaml")
        with open(pol, "w") as f:
            f.write(POLICY)
        hosts = os.path.join(tmp, "hosts")
        with open(hosts, "w") as f:
            f.write("%s bench.test\n%s shaped.test\n" % (HOST, SHAPED))
        self.errlog = open(os.path.join(tmp, "sandbox.log"), "w+")
        self.proc = subprocess.Popen(
            [os.path.join(build, "bin", "openshell-sandbox"), "--policy",
             pol, "--state-dir", state, "--hosts-file", hosts, "--",
             "/sandbox/proxy_load", "agent"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=self.errlog, text=True, bufsize=1)
        if self.proc.stdout.readline().strip() != "ready":
            raise RuntimeError("the sandbox did not start:\n" + self.log())
        self.proxyd = child_named(self.proc.pid, "proxyd")
        self.agent = descendant_named(self.proc.pid, "proxy_load")

    def log(self):
        self.errlog.seek(0)
        return self.errlog.read()[-4000:]

    def cmd(self, *args):
        self.proc.stdin.write(" ".join(str(a) for a in args) + "\n")
        out = self.proc.stdout.readline().split()
        if not out or out[0] == "error":
            raise RuntimeError("agent: %s failed:\n%s" % (args, self.log()))
        return out

    def stop(self):
        try:
            self.proc.stdin.close()
            self.proc.wait(timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
            self.proc.wait()


class Stage:
    """Where each column's client runs and what it is told; each run
    also says how much CPU the client used (seconds)."""

    def __init__(self, load, cns, sbx):
        self.load = load
        self.cns = cns
        self.sbx = sbx
        self.hz = os.sysconf("SC_CLK_TCK")

    def run(self, target, *args):
        """target: (name, extra argv); proxyd's runs in the agent.
        Returns (numbers printed, client CPU seconds)."""
        name, extra = target
        if name == "proxyd":
            c0 = cpu_ticks(self.sbx.agent)
            out = [float(x) for x in self.sbx.cmd(*args, *extra)]
            return out, (cpu_ticks(self.sbx.agent) - c0) / self.hz
        p = subprocess.Popen([self.load] + [str(a) for a in
                                            args + tuple(extra)],
                             stdout=subprocess.PIPE,
                             preexec_fn=self.cns.enter)
        out = p.stdout.read()
        _, status, ru = os.wait4(p.pid, 0)
        p.returncode = os.waitstatus_to_exitcode(status)
        if p.returncode != 0:
            raise RuntimeError("proxy_load %s: exit %d" % (args,
                                                           p.returncode))
        return [float(x) for x in out.split()], ru.ru_utime + ru.ru_stime


def start_c(load, *args, ns=None):
    """A proxy_load server; returns once it says "ready"."""
    p = subprocess.Popen([load] + [str(a) for a in args],
                         stdout=subprocess.PIPE,
                         preexec_fn=ns.enter if ns else None)
    if p.stdout.readline().strip() != b"ready":
        p.kill()
        raise RuntimeError("proxy_load %s did not start" % args[0])
    return p


def start_tinyproxy(tmp, port):
    conf = os.path.join(tmp, "tinyproxy.conf")
    with open(conf, "w") as f:
        f.write(TINYPROXY_CONF % (port, BENCH_IP, CLIENT_IP, SINK_PORT))
    p = subprocess.Popen(["tinyproxy", "-d", "-c", conf],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    wait_listen((BENCH_IP, port), p, "tinyproxy")
    return p


def ratio(a, b, lower_better):
    if not a or not b:
        return "   -"
    return "%5.2f" % ((b / a) if lower_better else (a / b))


def line(name, v, unit, lower_better=False):
    print("%-20s %8.1f %8.1f %8.1f %8.1f  %-5s %6s %6s %6s" % (
        name, v["direct"], v["proxyd"], v["tinyproxy"], v["floor"], unit,
        ratio(v["proxyd"], v["direct"], lower_better),
        ratio(v["proxyd"], v["tinyproxy"], lower_better),
        ratio(v["proxyd"], v["floor"], lower_better)))


def measure(st, targets, pids, sink, host, cases):
    """targets: name -> (name, extra argv).  Targets take turns within
    each round, so that a burst of load from elsewhere on the machine
    hits all of them; a figure is the median of REPS rounds.  Per case
    and target: MB/s; the proxy's CPU ms per GiB moved; all CPU (client,
    server, proxy) ms per GiB; the proxy's cores in use."""
    raw = {}
    hz = os.sysconf("SC_CLK_TCK")
    for _ in range(REPS):
        for mode, conns in cases:
            key = "%s x%d" % (mode, conns)
            for n, t in targets.items():
                c0, s0 = cpu_ticks(pids[n]), cpu_ticks(sink)
                w0 = time.monotonic()
                (rate, total), ccpu = st.run(t, "bulk", mode, conns, SECS,
                                             host, SINK_PORT)
                wall = time.monotonic() - w0
                pcpu = (cpu_ticks(pids[n]) - c0) / hz
                scpu = (cpu_ticks(sink) - s0) / hz
                gib = total / (1 << 30)
                raw.setdefault(key, {}).setdefault(n, []).append(
                    (rate, pcpu * 1000 / gib,
                     (pcpu + scpu + ccpu) * 1000 / gib, pcpu / wall))
    out = {}
    for key, d in raw.items():
        for n, v in d.items():
            for i, what in enumerate(("rate", "cpu", "all", "cores")):
                out.setdefault(what, {}).setdefault(key, {})[n] = \
                    statistics.median(x[i] for x in v)
    return out


def latency(st, targets, sbx):
    """First-byte latency per target (p50, p99: the medians over REPS
    interleaved rounds of LAT_N connections); and the supervisor's CPU
    per identity lookup (one per proxyd connection)."""
    raw, ident_ns = {}, 0
    for _ in range(REPS):
        for n, t in targets.items():
            if n == "proxyd":
                c0 = cpu_ns(sbx.proc.pid)
            raw.setdefault(n, []).append(
                st.run(t, "lat", LAT_N, HOST, SINK_PORT)[0])
            if n == "proxyd":
                ident_ns += cpu_ns(sbx.proc.pid) - c0
    lat = {n: [statistics.median(x[i] for x in v) for i in (0, 1)]
           for n, v in raw.items()}
    return lat, ident_ns / 1e3 / (REPS * int(LAT_N))


def idle_case(sbx, target):
    """proxyd's bulk figures with IDLE tunnels open beside: idle
    tunnels must not cost the busy one (splice.c's pipe pool, the
    kernel's per-user pipe limit)."""
    hz = os.sysconf("SC_CLK_TCK")
    sbx.cmd("hold", IDLE, *target)
    try:
        rates, cpus = [], []
        for _ in range(REPS):
            c0 = cpu_ticks(sbx.proxyd)
            rate, total = [float(x) for x in sbx.cmd(
                "bulk", "down", 1, SECS, HOST, SINK_PORT, *target)]
            rates.append(rate)
            cpus.append((cpu_ticks(sbx.proxyd) - c0) * 1000.0 / hz /
                        (total / (1 << 30)))
        return statistics.median(rates), statistics.median(cpus)
    finally:
        sbx.cmd("drop")


def header():
    print("%-20s %8s %8s %8s %8s  %-5s %6s %6s %6s" % (
        "case", "direct", "proxyd", "tiny", "floor", "", "p/dir",
        "p/tiny", "p/flr"))


def cpurow(name, v, unit, with_direct):
    print("%-20s %8s %8.0f %8.0f %8.0f  %-5s %6s %6s %6s" % (
        name, "%8.0f" % v["direct"] if with_direct else "-", v["proxyd"],
        v["tinyproxy"], v["floor"], unit,
        ratio(v["proxyd"], v["direct"], True) if with_direct else "",
        ratio(v["proxyd"], v["tinyproxy"], True),
        ratio(v["proxyd"], v["floor"], True)))


def report(m, prefix=""):
    for key, v in m["rate"].items():
        line("%stunnel %s" % (prefix, key), v, "MB/s")
    for key, v in m["cpu"].items():
        cpurow("%scpu %s" % (prefix, key), v, "ms/GB", False)
    for key, v in m["all"].items():
        cpurow("%sall cpu %s" % (prefix, key), v, "ms/GB", True)
    for key, v in m["cores"].items():
        print("%-20s %8s %8.2f %8.2f %8.2f" % (
            "%scores %s" % (prefix, key), "-", v["proxyd"], v["tinyproxy"],
            v["floor"]))


def report_latency(lat, ident_us):
    for i, q in enumerate(("p50", "p99")):
        line("first byte %s" % q, {n: v[i] for n, v in lat.items()}, "us",
             True)
    for i, q in enumerate(("p50", "p99")):
        d = lat["direct"][i]
        a = {n: v[i] - d for n, v in lat.items()}
        print("%-20s %8s %8.1f %8.1f %8.1f  %-5s %6s %6s %6s" % (
            "added lat " + q, "-", a["proxyd"], a["tinyproxy"], a["floor"],
            "us", "", ratio(a["proxyd"], a["tinyproxy"], True)
            if a["proxyd"] > 0 and a["tinyproxy"] > 0 else "   -",
            ratio(a["proxyd"], a["floor"], True)
            if a["proxyd"] > 0 and a["floor"] > 0 else "   -"))
    print("%-20s %8s %8.1f  us of the supervisor's CPU per CONNECT "
          "(identity)" % ("ident cpu", "-", ident_us))


def bench(build, load, tmp, cns, uns):
    procs = []
    sbx = None
    try:
        links(cns, uns)
        procs.append(start_c(load, "sink", HOST, SINK_PORT))
        procs.append(start_c(load, "sink", SHAPED, SINK_PORT, ns=uns))
        with socket.socket() as s:
            s.bind((BENCH_IP, 0))
            fport, sport, tport = 3129, 3130, s.getsockname()[1]
        floor = start_c(load, "relay", BENCH_IP, fport, HOST, SINK_PORT)
        sfloor = start_c(load, "relay", BENCH_IP, sport, SHAPED, SINK_PORT)
        procs += [floor, sfloor]
        tp = start_tinyproxy(tmp, tport)
        procs.append(tp)
        sbx = Sandbox(build, load, tmp)
        st = Stage(load, cns, sbx)
        pids = {"direct": None, "proxyd": sbx.proxyd, "tinyproxy": tp.pid,
                "floor": floor.pid}

        def targets(host, fp):
            return {
                "direct": ("direct", []),
                "proxyd": ("proxyd", [PROXYD, "%s:%d" % (
                    "bench.test" if host == HOST else "shaped.test",
                    SINK_PORT)]),
                "tinyproxy": ("tinyproxy", ["%s:%d" % (BENCH_IP, tport),
                                            "%s:%d" % (host, SINK_PORT)]),
                "floor": ("floor", ["%s:%d" % (BENCH_IP, fp),
                                    "%s:%d" % (host, SINK_PORT)]),
            }
        t = targets(HOST, fport)
        header()
        if ONLY == "latency":
            report_latency(*latency(st, t, sbx))
            return
        m = measure(st, t, pids, procs[0].pid, HOST, [
            ("down", 1), ("down", 8), ("up", 1), ("up", 8)])
        report(m)
        report_latency(*latency(st, t, sbx))
        pids["floor"] = sfloor.pid
        m2 = measure(st, targets(SHAPED, sport), pids, procs[1].pid, SHAPED,
                     [("down", 1), ("down", 8), ("up", 1)])
        report(m2, prefix="%s " % RATE)
        print("MB = MiB, GB = GiB.  floor: proxy_load relay, a bare splice "
              "relay (no policy, no\nidentity), the best a user-space proxy "
              "can do here.  Ratios > 1 favour proxyd\n(latency and cpu "
              "ratios inverted).  %s: the upstream host behind a veth\n"
              "shaped to %s with tbf (a network-bound link)." % (RATE, RATE))
        rate, ms = idle_case(sbx, t["proxyd"][1])
        print("proxyd down x1 with %d idle tunnels open: %.1f MB/s "
              "(%.2f of idle-free), cpu %.0f ms/GB" % (
                  IDLE, rate, rate / m["rate"]["down x1"]["proxyd"], ms))
    finally:
        if sbx is not None:
            sbx.stop()
            if os.environ.get("PROXY_BENCH_LOG"):
                print(sbx.log())
        for p in procs:
            p.kill()
            p.wait()


def main():
    build = sys.argv[1]
    load = os.path.join(build, "bench", "proxy", "proxy_load")
    tag = str(os.getpid())
    with tempfile.TemporaryDirectory() as tmp, \
            private_netns([HOST + "/32"]):
        os.chmod(tmp, 0o755)
        cns = uns = None
        try:
            cns = Netns("osbpc-" + tag)
            uns = Netns("osbpu-" + tag)
            bench(build, load, tmp, cns, uns)
        finally:
            for ns in (cns, uns):
                if ns is not None:
                    ns.delete()


if __name__ == "__main__":
    main()

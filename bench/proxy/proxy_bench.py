# Copyright (c) 2026 The OpenShell in C authors.
# SPDX-License-Identifier: ISC
"""bench/proxy: see run.sh.  This script only sets the stage (network
namespace, proxyd with this process as its parent, tinyproxy, the C
test server) and prints; proxy_load does the measuring."""

import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "tests", "integration"))

from proxydharness import FakeParent, private_netns  # noqa: E402

HOST = "203.0.113.10"
CLIENT = "10.200.0.1"
PROXYD_PORT = 3128
SINK_PORT = 9100
SECS = os.environ.get("PROXY_BENCH_SECS", "0.5")
IDLE = 200
REPS = int(os.environ.get("PROXY_BENCH_REPS", "3"))
LAT_N = os.environ.get("PROXY_BENCH_LAT_N", "1000")
POLICY = """version: 1
network_policies:
  bench:
    endpoints:
      - { host: bench.test, port: %d, allowed_ips: [203.0.113.0/24] }
    binaries:
      - { path: /usr/bin/curl }
""" % SINK_PORT
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


def free_port():
    with socket.socket() as s:
        s.bind((CLIENT, 0))
        return s.getsockname()[1]


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


def run(load, *args):
    out = subprocess.run([load] + [str(a) for a in args], check=True,
                         stdout=subprocess.PIPE, timeout=30).stdout
    return [float(x) for x in out.split()]


def cpu_ticks(pid):
    """utime + stime of the whole process (dead threads included)."""
    if pid is None:
        return 0
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def start_tinyproxy(tmp):
    port = free_port()
    conf = os.path.join(tmp, "tinyproxy.conf")
    with open(conf, "w") as f:
        f.write(TINYPROXY_CONF % (port, CLIENT, CLIENT, SINK_PORT))
    p = subprocess.Popen(["tinyproxy", "-d", "-c", conf],
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    wait_listen((CLIENT, port), p, "tinyproxy")
    return p, port


def start_c(load, *args):
    """A proxy_load server; returns once it says "ready"."""
    p = subprocess.Popen([load] + [str(a) for a in args],
                         stdout=subprocess.PIPE)
    if p.stdout.readline().strip() != b"ready":
        p.kill()
        raise RuntimeError("proxy_load %s did not start" % args[0])
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


def measure(load, targets, pids):
    """targets: name -> extra argv (proxy, CONNECT target) or [].
    Targets take turns within each round, so that a burst of load from
    elsewhere on the machine hits all of them; a figure is the median
    of REPS rounds.  cpu: the proxy's CPU ms per GiB moved."""
    res, cpu = {}, {}
    hz = os.sysconf("SC_CLK_TCK")
    for _ in range(REPS):
        for mode in ("down", "up"):
            for conns in (1, 8):
                key = "%s x%d" % (mode, conns)
                for n, a in targets.items():
                    c0 = cpu_ticks(pids[n])
                    rate, total = run(load, "bulk", mode, conns, SECS, HOST,
                                      SINK_PORT, *a)
                    ms = (cpu_ticks(pids[n]) - c0) * 1000.0 / hz
                    res.setdefault(key, {}).setdefault(n, []).append(rate)
                    cpu.setdefault(key, {}).setdefault(n, []).append(
                        ms / (total / (1 << 30)))
    res = {k: {n: statistics.median(v) for n, v in d.items()}
           for k, d in res.items()}
    cpu = {k: {n: statistics.median(v) for n, v in d.items()}
           for k, d in cpu.items()}
    lat = {n: run(load, "lat", LAT_N, HOST, SINK_PORT, *a)
           for n, a in targets.items()}
    return res, cpu, lat


def idle_case(load, proxy, pid):
    """proxyd's bulk figures with IDLE tunnels open beside: idle
    tunnels must not cost the busy one (splice.c's pipe pool, the
    kernel's per-user pipe limit)."""
    held = []
    hz = os.sysconf("SC_CLK_TCK")
    try:
        for _ in range(IDLE):
            host, port = proxy[0].split(":")
            s = socket.create_connection((host, int(port)))
            s.sendall(b"CONNECT %s HTTP/1.1\r\n\r\n" % proxy[1].encode())
            head = b""
            while b"\r\n\r\n" not in head:
                b = s.recv(1024)
                if not b:
                    raise RuntimeError("idle tunnel refused")
                head += b
            held.append(s)
        rates, cpus = [], []
        for _ in range(REPS):
            c0 = cpu_ticks(pid)
            rate, total = run(load, "bulk", "down", 1, SECS, HOST,
                              SINK_PORT, *proxy)
            rates.append(rate)
            cpus.append((cpu_ticks(pid) - c0) * 1000.0 / hz /
                        (total / (1 << 30)))
        return statistics.median(rates), statistics.median(cpus)
    finally:
        for s in held:
            s.close()


def report(res, cpu, lat):
    print("%-20s %8s %8s %8s %8s  %-5s %6s %6s %6s" % (
        "case", "direct", "proxyd", "tiny", "floor", "", "p/dir",
        "p/tiny", "p/flr"))
    for key, v in res.items():
        line("tunnel %s" % key, v, "MB/s")
    for key, v in cpu.items():
        print("%-20s %8s %8.0f %8.0f %8.0f  %-5s %6s %6s %6s" % (
            "proxy cpu %s" % key, "-", v["proxyd"], v["tinyproxy"],
            v["floor"], "ms/GB", "",
            ratio(v["proxyd"], v["tinyproxy"], True),
            ratio(v["proxyd"], v["floor"], True)))
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
    print("MB = MiB, GB = GiB.  floor: proxy_load relay, a bare splice "
          "relay (no policy, no\nidentity), the best a user-space proxy "
          "can do here.  Ratios > 1 favour proxyd\n(latency and cpu "
          "ratios inverted).  proxyd's CONNECT includes the identity\n"
          "round trip to this python parent.")


def main():
    build = sys.argv[1]
    proxyd = os.path.join(build, "libexec", "openshell", "proxyd")
    load = os.path.join(build, "bench", "proxy", "proxy_load")
    procs = []
    parent = None
    with tempfile.TemporaryDirectory() as tmp, \
            private_netns([CLIENT + "/32", HOST + "/32"]):
        try:
            procs.append(start_c(load, "sink", HOST, SINK_PORT))
            fport = free_port()
            floor = start_c(load, "relay", CLIENT, fport, HOST, SINK_PORT)
            procs.append(floor)
            ls = socket.socket()
            ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            ls.bind((CLIENT, PROXYD_PORT))
            ls.listen(1024)
            parent = FakeParent(proxyd, ls, POLICY,
                                hosts="%s bench.test\n" % HOST)
            parent.log.wait_for(r"running \(pid")
            tp, tport = start_tinyproxy(tmp)
            procs.append(tp)
            res = measure(load, {
                "direct": [],
                "proxyd": ["%s:%d" % (CLIENT, PROXYD_PORT),
                           "bench.test:%d" % SINK_PORT],
                "tinyproxy": ["%s:%d" % (CLIENT, tport),
                              "%s:%d" % (HOST, SINK_PORT)],
                "floor": ["%s:%d" % (CLIENT, fport),
                          "%s:%d" % (HOST, SINK_PORT)],
            }, {"direct": None, "proxyd": parent.proc.pid,
                "tinyproxy": tp.pid, "floor": floor.pid})
            report(*res)
            rate, ms = idle_case(load, ["%s:%d" % (CLIENT, PROXYD_PORT),
                                        "bench.test:%d" % SINK_PORT],
                                 parent.proc.pid)
            print("proxyd down x1 with %d idle tunnels open: %.1f MB/s "
                  "(%.2f of idle-free), cpu %.0f ms/GB" % (
                      IDLE, rate, rate / res[0]["down x1"]["proxyd"], ms))
        finally:
            if parent is not None:
                parent.stop()
            for p in procs:
                p.kill()
                p.wait()


if __name__ == "__main__":
    main()

# Copyright (c) 2026 The OpenShell in C authors.
# SPDX-License-Identifier: ISC
"""bench/l7: see run.sh.  This script only sets the stage (test PKI,
network namespace, the C origin, proxyd with this process as its
parent, mitmdump) and prints; l7_load does the measuring."""

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
PORT = 8443
NAME = "bench.test"
SECS = os.environ.get("L7_BENCH_SECS", "1")
REPS = int(os.environ.get("L7_BENCH_REPS", "3"))
CONNS = os.environ.get("L7_BENCH_CONNS", "8")
HS_N = int(os.environ.get("L7_BENCH_HS_N", "200"))
# A/B: another proxyd binary (an older build, say) as a fourth target
AB = os.environ.get("L7_BENCH_AB")
# 1: request rates only (no mitmdump, no handshake series)
QUICK = os.environ.get("L7_BENCH_QUICK") == "1"
# 1: the floor copies in a thread per tunnel (l7_floor -t), not epoll
FLOOR_THREADS = os.environ.get("L7_BENCH_FLOOR_THREADS") == "1"
FLOOR_PORT = PROXYD_PORT + 2
NAMES = HS_N * (REPS + 1)      # miss names: each used once per proxy
POLICY = """version: 1
network_policies:
  bench:
    name: bench
    endpoints:
      - host: %s
        port: %d
        allowed_ips: [203.0.113.0/24]
        protocol: rest
        enforcement: enforce
        access: read-only
      - host: "*.%s"
        port: %d
        allowed_ips: [203.0.113.0/24]
        protocol: rest
        enforcement: enforce
        access: read-only
    binaries:
      - { path: /usr/bin/curl }
""" % (NAME, PORT, NAME, PORT)


def openssl(*args, cwd):
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def make_pki(d):
    """A test CA of this run and the origin's certificate (the name,
    its wildcard and the address, for mitmdump's upstream check)."""
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    openssl("req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt",
            "-subj", "/CN=bench l7 test CA", "-days", "1", "-addext",
            "basicConstraints=critical,CA:TRUE", "-addext",
            "keyUsage=critical,keyCertSign,cRLSign", cwd=d)
    openssl("req", *ec, "-keyout", "srv.key", "-out", "srv.csr", "-subj",
            "/CN=" + NAME, cwd=d)
    with open(os.path.join(d, "ext.cnf"), "w") as f:
        f.write("subjectAltName=DNS:%s,DNS:*.%s,IP:%s\n"
                "extendedKeyUsage=serverAuth\nbasicConstraints=CA:FALSE\n"
                % (NAME, NAME, HOST))
    openssl("x509", "-req", "-in", "srv.csr", "-CA", "ca.crt", "-CAkey",
            "ca.key", "-CAcreateserial", "-out", "srv.crt", "-days", "1",
            "-extfile", "ext.cnf", cwd=d)


def hosts_text():
    names = [NAME, "hit." + NAME] + ["m%d.%s" % (i, NAME)
                                     for i in range(NAMES)]
    return "".join("%s %s\n" % (HOST, n) for n in names)


def wait_listen(addr, proc, what, timeout=30):
    """mitmdump says nothing useful when it is ready: connect until it
    takes (bounded; this is a benchmark, not a test)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError("%s exited %d" % (what, proc.returncode))
        try:
            socket.create_connection(addr, timeout=1).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("%s does not listen on %s:%d" % ((what,) + addr))


def free_port():
    with socket.socket() as s:
        s.bind((CLIENT, 0))
        return s.getsockname()[1]


def start_origin(bindir, d):
    p = subprocess.Popen([os.path.join(bindir, "l7_serve"), HOST, str(PORT),
                          os.path.join(d, "srv.crt"),
                          os.path.join(d, "srv.key")],
                         stdout=subprocess.PIPE)
    if p.stdout.readline().strip() != b"ready":
        p.kill()
        raise RuntimeError("l7_serve did not start")
    return p


def start_floor(bindir, d):
    """l7_floor: the client's TLS with the origin's own certificate
    (the test CA's, every name), TLS to the fixed origin address."""
    p = subprocess.Popen([os.path.join(bindir, "l7_floor")] +
                         (["-t"] if FLOOR_THREADS else []) +
                         [CLIENT, str(FLOOR_PORT),
                          os.path.join(d, "srv.crt"),
                          os.path.join(d, "srv.key"),
                          os.path.join(d, "ca.crt"),
                          "%s:%d" % (HOST, PORT)],
                         stdout=subprocess.PIPE)
    if p.stdout.readline().strip() != b"ready":
        p.kill()
        raise RuntimeError("l7_floor did not start")
    return p


def start_proxyd(proxyd, d, port=PROXYD_PORT, cafile="proxyd-ca.pem"):
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind((CLIENT, port))
    ls.listen(1024)
    parent = FakeParent(proxyd, ls, POLICY, hosts=hosts_text())
    ls.close()
    parent.log.wait_for(r"running \(pid")
    with open(os.path.join(d, "ca.crt")) as f:
        parent.send("IPC_PROXY_TRUST", [f.read()])
    while True:
        name, value = parent.other.get(timeout=10)
        if name == "IPC_PROXY_CA":
            break
    with open(os.path.join(d, cafile), "w") as f:
        f.write(value[0])
    return parent


def start_mitmdump(d):
    """mitmdump as an upstream-verifying MITM (its default), trusting the
    test CA upstream.  It resolves names itself, so it runs in a mount
    namespace of its own whose /etc/hosts names the origin."""
    conf = os.path.join(d, "mitm")
    os.mkdir(conf)
    hosts = os.path.join(d, "hosts")
    with open(hosts, "w") as f:
        f.write("127.0.0.1 localhost\n" + hosts_text())
    port = free_port()
    script = ('mount --bind "$1" /etc/hosts && shift && exec "$@"')
    p = subprocess.Popen([
        "unshare", "-m", "sh", "-c", script, "sh", hosts, "mitmdump", "-q",
        "--listen-host", CLIENT, "--listen-port", str(port),
        "--set", "confdir=" + conf,
        "--set", "ssl_verify_upstream_trusted_ca=" +
        os.path.join(d, "ca.crt"),
        "--set", "http2=false", "--set", "flow_detail=0",
        "--set", "termlog_verbosity=error"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=open(os.path.join(d, "mitmdump.err"), "w"))
    wait_listen((CLIENT, port), p, "mitmdump")
    return p, port, os.path.join(conf, "mitmproxy-ca-cert.pem")


def load(bindir, *args):
    out = subprocess.run([os.path.join(bindir, "l7_load")] +
                         [str(a) for a in args], check=True,
                         stdout=subprocess.PIPE, timeout=120).stdout
    return {k: float(v) for k, v in
            (f.split("=") for f in out.decode().split())}


def cpu_ticks(pid):
    """utime + stime of the whole process (dead threads included)."""
    if pid is None:
        return 0
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def rps(bindir, mode, ca, via, pid):
    """One rate figure, plus the proxy's CPU per request (us)."""
    hz = os.sysconf("SC_CLK_TCK")
    c0 = cpu_ticks(pid)
    r = load(bindir, "rps", *(["-k"] if mode == "keep" else []),
             "-c", CONNS, "-t", SECS, "-w", "0.3", "-a", ca, "-h", NAME,
             "-p", PORT, *via)
    if pid is not None and r["total"] > 0:
        r["cpu_us"] = (cpu_ticks(pid) - c0) * 1e6 / hz / r["total"]
    return r


def handshakes(bindir, rep, ca, via, direct):
    """hit: one name the proxy has seen; miss: a new name each time;
    resumed: the hit name, the client resuming its last session."""
    cases = [("hit", "hit." + NAME, 0, [])]
    if not direct:
        cases.append(("miss", "m%d." + NAME, rep * HS_N, []))
    cases.append(("resumed", "hit." + NAME, 0, ["-R"]))
    out = {}
    for case, host, first, flags in cases:
        if case != "miss":
            load(bindir, "hs", "-n", 1, "-a", ca, "-h", host, "-p", PORT,
                 *via)      # fill the cache
        out[case] = load(bindir, "hs", *flags, "-n", HS_N, "-o", first,
                         "-a", ca, "-h", host, "-p", PORT, *via)
    return out


def measure(bindir, targets):
    """targets: name -> (CA file, l7_load arguments, pid whose CPU
    is counted: the proxy's, for direct the origin's).
    Targets take turns within each round (load from elsewhere on the
    machine hits all); a figure is the median of REPS rounds."""
    res = {}
    for rep in range(REPS):
        for mode in ("keep", "new"):
            for n, (ca, via, pid) in targets.items():
                res.setdefault("rps " + mode, {}).setdefault(n, []).append(
                    rps(bindir, mode, ca, via, pid))
        if QUICK:
            continue
        for n, (ca, via, pid) in targets.items():
            for case, r in handshakes(bindir, rep, ca, via,
                                      n == "direct").items():
                res.setdefault("hs " + case, {}).setdefault(
                    n, []).append(r)
    return res


def med(rs, key):
    vals = [r[key] for r in rs if key in r]
    return statistics.median(vals) if vals else None


def fmt(v):
    return "%8.0f" % v if v is not None else "%8s" % "-"


def ratio(a, b):
    return "%8.2f" % (a / b) if a and b else "%8s" % "-"


COLS = ("proxyd", "direct", "floor", "mitmdump")


def row(label, v, key, unit, lower_better):
    """proxyd, direct, floor, mitmdump; proxyd against the other three
    (inverted for latency and CPU: other/proxyd, > 1 favours proxyd)."""
    p, d, f, m = (med(v.get(n, []), key) for n in COLS)
    if lower_better:
        rs = (ratio(d, p), ratio(f, p), ratio(m, p))
    else:
        rs = (ratio(p, d), ratio(p, f), ratio(p, m))
    print("%-23s %s %s %s %s %-3s%s%s%s" % (
        label, fmt(p), fmt(d), fmt(f), fmt(m), unit, *rs))


def report_ab(res):
    """proxyd (this build) against proxyd-b (L7_BENCH_AB)."""
    print("A/B: proxyd = this build, proxyd-b = %s" % AB)
    print("%-24s %9s %9s %9s  %-5s %6s" % (
        "case", "proxyd", "proxyd-b", "direct", "", "p/b"))
    for mode, label in (("keep", "keep-alive"), ("new", "conn/request")):
        v = res["rps " + mode]
        for key, unit, lbl in (("rps", "/s", "req/s " + label),
                               ("p50_us", "us", "  latency p50"),
                               ("cpu_us", "us", "  cpu/request")):
            p, b, d = (med(v.get(n, []), key) for n in
                       ("proxyd", "proxyd-b", "direct"))
            print("%-24s %s %s %s  %-5s %s   (p/dir %s, b/dir %s)" % (
                lbl, fmt(p), fmt(b), fmt(d), unit, ratio(p, b),
                ratio(p, d).strip(), ratio(b, d).strip()))
    print("errors: %s" % ", ".join(
        "%s %d" % (n, sum(r["errors"] for rs in res.values()
                           for r in rs.get(n, [])))
        for n in ("proxyd", "proxyd-b", "direct")))


def report(res):
    if AB:
        report_ab(res)
    print("%-23s %8s %8s %8s %8s %-3s%8s%8s%8s" % (
        "case", "proxyd", "direct", "floor", "mitmdump", "", "p/dir",
        "p/floor", "p/mitm"))
    for mode, label in (("keep", "keep-alive"), ("new", "conn/request")):
        v = res["rps " + mode]
        row("req/s " + label, v, "rps", "/s", False)
        row("  latency p50", v, "p50_us", "us", True)
        row("  latency p99", v, "p99_us", "us", True)
        row("  cpu/request", v, "cpu_us", "us", True)
    if QUICK:
        return
    direct = res["hs hit"]["direct"]
    for case in ("hit", "miss", "resumed"):
        v = dict(res["hs " + case])
        if case == "miss":
            v["direct"] = direct
        row("handshake p50 " + case, v, "hs_p50_us", "us", True)
        row("handshake p99 " + case, v, "hs_p99_us", "us", True)
        row("first answer p50 " + case, v, "first_p50_us", "us", True)
    verdict = []
    for mode, label in (("keep", "keep-alive"), ("new", "conn/request")):
        v = res["rps " + mode]
        p, d, m = (med(v.get(n, []), "rps") for n in
                   ("proxyd", "direct", "mitmdump"))
        for what, r, goal in (("direct", p / d if d else 0, 0.5),
                              ("mitmdump", p / m if m else 0, 2.0)):
            verdict.append("%s %.2f x %s %s" % (
                label, r, what, "ok" if r >= goal else
                "BELOW TARGET (%.2f)" % goal))
    print("targets: " + "; ".join(verdict))
    errs = {n: sum(r["errors"] for rs in res.values() for r in rs.get(n, []))
            for n in COLS}
    reused = {n: sum(r["reused"] for r in res["hs resumed"].get(n, []))
              for n in COLS}
    print("errors: %s; resumed handshakes: %s of %d each" % (
        ", ".join("%s %d" % kv for kv in errs.items()),
        ", ".join("%s %d" % kv for kv in reused.items()), HS_N * REPS))
    print("%d connections, %ss per rate figure, median of %d rounds; "
          "handshakes: %d one after\nthe other (miss: a host name the "
          "proxy has not seen, under *.%s; direct\nhas no cache: its hit "
          "figure is repeated; the floor has one certificate for\nall "
          "names, its miss is a new upstream session only).  cpu/request: "
          "the proxy's\nCPU, for direct the origin's (one TLS server).  "
          "floor: l7_floor (%s), the\nleast a TLS-terminating relay "
          "costs.  Ratios > 1 favour proxyd (latency and\ncpu ratios "
          "inverted: other/proxyd).  Targets (issue 6): req/s "
          ">= 0.50 of\ndirect and >= 2 x mitmdump." % (
              int(CONNS), SECS, REPS, HS_N, NAME,
              "thread per tunnel" if FLOOR_THREADS else "epoll"))


def main():
    build = sys.argv[1]
    proxyd = os.path.join(build, "libexec", "openshell", "proxyd")
    bindir = os.path.join(build, "bench", "l7")
    procs = []
    parent = parent_b = None
    with tempfile.TemporaryDirectory() as d, \
            private_netns([CLIENT + "/32", HOST + "/32"]):
        try:
            make_pki(d)
            procs.append(start_origin(bindir, d))
            parent = start_proxyd(proxyd, d)
            procs.append(start_floor(bindir, d))
            targets = {
                "direct": (os.path.join(d, "ca.crt"),
                           ["-s", "%s:%d" % (HOST, PORT)], procs[0].pid),
                "proxyd": (os.path.join(d, "proxyd-ca.pem"),
                           ["-x", "%s:%d" % (CLIENT, PROXYD_PORT)],
                           parent.proc.pid),
                "floor": (os.path.join(d, "ca.crt"),
                          ["-x", "%s:%d" % (CLIENT, FLOOR_PORT)],
                          procs[1].pid),
            }
            if AB:
                parent_b = start_proxyd(AB, d, PROXYD_PORT + 1,
                                        "proxyd-b-ca.pem")
                targets["proxyd-b"] = (
                    os.path.join(d, "proxyd-b-ca.pem"),
                    ["-x", "%s:%d" % (CLIENT, PROXYD_PORT + 1)],
                    parent_b.proc.pid)
            if not QUICK:
                mp, mport, mca = start_mitmdump(d)
                procs.append(mp)
                targets["mitmdump"] = (
                    mca, ["-x", "%s:%d" % (CLIENT, mport)], mp.pid)
            report(measure(bindir, targets))
        finally:
            if parent is not None:
                parent.stop()
            if parent_b is not None:
                parent_b.stop()
            for p in procs:
                p.kill()
                p.wait()


if __name__ == "__main__":
    main()

# Copyright (c) 2026 The OpenShell in C authors.
# SPDX-License-Identifier: ISC
"""`openshell term` in a pty against a real gateway.

The gateway is started by the CLI as in test_cli.py; sandboxes, log
lines and providers are set up with the CLI or the raw admin stubs.
What the TUI writes is fed to Screen, a small model of the terminal
(the subset of xterm that curses uses), so that the tests look at the
screen a user would see, not at curses' update stream.  Every wait
is a read on the pty with a deadline."""

import codecs
import re
import socket
import time

import pytest

# The CLI suite's gateway and admin client fixtures, one per module.
from test_cli import admin, gw  # noqa: F401

pexpect = pytest.importorskip("pexpect")

TIMEOUT = 30
ROWS, COLS = 30, 120

CSI = re.compile(r"\x1b\[([?>=]?)([0-9;]*)[ -/]*([@-~])")
OTHER_ESC = re.compile(r"\x1b(?:[()*+].|\][^\x07\x1b]*(?:\x07|\x1b\\)|.)",
                       re.S)


class Screen:
    """Cells, cursor, scroll region and the reverse-video attribute."""

    def __init__(self, rows, cols):
        self.raw = bytearray()
        self.dec = codecs.getincrementaldecoder("utf-8")("replace")
        self.pending = ""
        self.resize(rows, cols)
        self.clear()

    def resize(self, rows, cols):
        old = getattr(self, "cells", [])
        self.rows, self.cols = rows, cols
        self.cells = [[(" ", False)] * cols for _ in range(rows)]
        for y, line in enumerate(old[:rows]):
            n = min(cols, len(line))
            self.cells[y][:n] = line[:n]
        self.top, self.bot = 0, rows - 1
        self.y = min(getattr(self, "y", 0), rows - 1)
        self.x = min(getattr(self, "x", 0), cols - 1)

    def clear(self):
        self.cells = [[(" ", False)] * self.cols for _ in range(self.rows)]
        self.y = self.x = 0
        self.rev = False
        self.last = " "
        self.saved = (0, 0)

    def text(self, y):
        return "".join(c for c, _ in self.cells[y])

    def reverse(self, y, word):
        """Is word on row y drawn in reverse video?"""
        i = self.text(y).find(word)
        return i >= 0 and all(r for _, r in self.cells[y][i:i + len(word)])

    def find(self, word):
        return [y for y in range(self.rows) if word in self.text(y)]

    def row(self, name):
        """The rows of the main pane that show name."""
        return [y for y in range(self.rows)
                if self.text(y).startswith(" %s " % name)]

    def dump(self):
        return "\n".join(self.text(y).rstrip() for y in range(self.rows))

    def feed(self, data):
        self.raw += data
        s = self.pending + self.dec.decode(data)
        self.pending = ""
        i = 0
        while i < len(s):
            if s[i] != "\x1b":
                self._char(s[i])
                i += 1
                continue
            m = CSI.match(s, i) or OTHER_ESC.match(s, i)
            if m is None or (m.re is OTHER_ESC and m.group(0) in
                             ("\x1b[", "\x1b]")):
                self.pending = s[i:]    # split sequence: wait for more
                return
            if m.re is CSI:
                self._csi(m.group(1), m.group(2), m.group(3))
            else:
                self._esc(m.group(0))
            i = m.end()

    def _char(self, c):
        if c == "\r":
            self.x = 0
        elif c == "\n":
            self._index()
        elif c == "\b":
            self.x = max(0, self.x - 1)
        elif c == "\t":
            self.x = min(self.cols - 1, (self.x // 8 + 1) * 8)
        elif c >= " " and c != "\x7f":
            self._put(c)

    def _put(self, c):
        if self.x >= self.cols:         # deferred wrap (xenl)
            self.x = 0
            self._index()
        self.cells[self.y][self.x] = (c, self.rev)
        self.last = c
        self.x += 1

    def _index(self):
        if self.y == self.bot:
            self._scroll(self.top, self.bot, 1)
        elif self.y < self.rows - 1:
            self.y += 1

    def _scroll(self, top, bot, n):
        """n > 0: lines move up; n < 0: down."""
        blank = [(" ", False)] * self.cols
        region = self.cells[top:bot + 1]
        if n > 0:
            region = region[n:] + [list(blank) for _ in range(n)]
        else:
            region = [list(blank) for _ in range(-n)] + region[:n]
        self.cells[top:bot + 1] = region[:bot - top + 1]

    def _esc(self, seq):
        if seq == "\x1bM":
            if self.y == self.top:
                self._scroll(self.top, self.bot, -1)
            else:
                self.y = max(0, self.y - 1)
        elif seq == "\x1bD":
            self._index()
        elif seq == "\x1bE":
            self.x = 0
            self._index()
        elif seq == "\x1b7":
            self.saved = (self.y, self.x)
        elif seq == "\x1b8":
            self.y, self.x = self.saved
        elif seq == "\x1bc":
            self.clear()

    def _csi(self, priv, params, final):
        if priv:
            return                      # modes: nothing to draw
        p = [int(v) if v else 0 for v in params.split(";")] if params \
            else []
        n = max(1, p[0]) if p else 1
        row = self.cells[min(self.y, self.rows - 1)]
        x = min(self.x, self.cols - 1)
        blank = (" ", False)
        if final in "Hf":
            self.y = min(self.rows, max(1, p[0] if p else 1)) - 1
            self.x = min(self.cols, max(1, p[1] if len(p) > 1 else 1)) - 1
        elif final == "A":
            self.y = max(0, self.y - n)
        elif final == "B":
            self.y = min(self.rows - 1, self.y + n)
        elif final == "C":
            self.x = min(self.cols - 1, self.x + n)
        elif final == "D":
            self.x = max(0, x - n)
        elif final == "G":
            self.x = min(self.cols, n) - 1
        elif final == "d":
            self.y = min(self.rows, n) - 1
        elif final == "K":
            mode = p[0] if p else 0
            lo, hi = {0: (x, self.cols), 1: (0, x + 1),
                      2: (0, self.cols)}[mode]
            row[lo:hi] = [blank] * (hi - lo)
        elif final == "J":
            mode = p[0] if p else 0
            if mode == 0:
                row[x:] = [blank] * (self.cols - x)
                rng = range(self.y + 1, self.rows)
            elif mode == 1:
                row[:x + 1] = [blank] * (x + 1)
                rng = range(0, self.y)
            else:
                rng = range(self.rows)
            for y in rng:
                self.cells[y] = [blank] * self.cols
        elif final == "X":
            n = min(n, self.cols - x)
            row[x:x + n] = [blank] * n
        elif final == "b":
            for _ in range(n):
                self._put(self.last)
        elif final == "@":
            row[x:] = ([blank] * n + row[x:])[:self.cols - x]
        elif final == "P":
            row[x:] = (row[x + n:] + [blank] * n)[:self.cols - x]
        elif final in "LM" and self.top <= self.y <= self.bot:
            self._scroll(self.y, self.bot, -n if final == "L" else n)
        elif final in "ST":
            self._scroll(self.top, self.bot, n if final == "S" else -n)
        elif final == "r":
            self.top = (p[0] if p and p[0] else 1) - 1
            self.bot = (p[1] if len(p) > 1 and p[1] else self.rows) - 1
            self.y = self.x = 0
        elif final == "m":
            self._sgr(p or [0])

    def _sgr(self, p):
        for v in p:
            if v == 0 or v == 27:
                self.rev = False
            elif v == 7:
                self.rev = True


class Term:
    """openshell term in a pty of ROWS x COLS, read into a Screen."""

    def __init__(self, cli, *args, rows=ROWS, cols=COLS):
        env = dict(cli.env, TERM="xterm", LANG="C.UTF-8")
        env.pop("LC_ALL", None)
        self.screen = Screen(rows, cols)
        self.child = pexpect.spawn(cli.bin, [str(a) for a in args] +
                                   ["term", "--interval", "0.2"],
                                   env=env, dimensions=(rows, cols),
                                   timeout=TIMEOUT)

    def wait(self, pred, what):
        """Reads until pred(screen) holds; fails after TIMEOUT."""
        deadline = time.monotonic() + TIMEOUT
        while not pred(self.screen):
            left = deadline - time.monotonic()
            if left <= 0:
                pytest.fail("timed out waiting for %s; screen:\n%s" %
                            (what, self.screen.dump()))
            try:
                self.screen.feed(self.child.read_nonblocking(65536, left))
            except pexpect.TIMEOUT:
                continue
            except pexpect.EOF:
                pytest.fail("term exited waiting for %s; screen:\n%s" %
                            (what, self.screen.dump()))
        return self.screen

    def shows(self, *words):
        return self.wait(lambda s: all(s.find(w) for w in words),
                         " ".join(repr(w) for w in words))

    def send(self, keys):
        self.child.send(keys)

    def quit(self, key="q"):
        """Exit status after key; the terminal must be given back."""
        self.child.send(key)
        self.child.expect(pexpect.EOF)
        self.screen.feed(self.child.before)
        self.child.close()
        raw = bytes(self.screen.raw)
        # the alternate screen left and the cursor shown again (xterm)
        assert raw.rfind(b"\x1b[?1049l") > raw.rfind(b"\x1b[?1049h")
        assert raw.rfind(b"\x1b[?25h") > raw.rfind(b"\x1b[?25l")
        return self.child.exitstatus

    def kill(self):
        if self.child.isalive():
            self.child.terminate(force=True)


@pytest.fixture
def term():
    started = []

    def start(cli, *args, **kw):
        t = Term(cli, *args, **kw)
        started.append(t)
        return t
    yield start
    for t in started:
        t.kill()


def test_not_a_terminal(gw):
    r = gw("term", check=False)
    assert r.returncode == 1
    assert r.stderr == "openshell: term needs a terminal\n"
    assert r.stdout == ""


def test_bad_interval(gw):
    for v in ("0.1", "61", "x", "nan"):
        r = gw("term", "--interval", v, check=False)
        assert r.returncode == 1 and "--interval" in r.stderr, (v, r.stderr)


def test_sandboxes_providers_logs_delete(gw, admin, term):
    a = admin.create_sandbox("term-a")
    b = admin.create_sandbox("term-b")
    admin.push_logs(a.id, [dict(
        timestamp_ms=1700000000123, level="WARN", target="proxy",
        source="sandbox", message="\x1b[31mred-alert\x1b[0m\x07 done",
        fields={})])
    admin.push_logs(b.id, [dict(
        timestamp_ms=1700000001000, level="INFO", target="proxy",
        source="sandbox", message="hello-from-b", fields={})])
    gw("provider", "create", "--name", "term-prov", "--type", "openai",
       "--credential", "OPENAI_API_KEY=sk-term-secret")

    t = term(gw)
    s = t.shows("Healthy", "https://127.0.0.1:%d" % gw.port, "updated")
    # Rows are checked once whole: curses may draw one in two writes.
    s = t.shows("term-a", "term-b", "Logs: term-a")
    s = t.wait(lambda s: len(s.row("term-a")) == 1 and re.search(
        r"PROVISIONING +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d",
        s.text(s.row("term-a")[0])), "term-a's whole row")
    (ya,), (yb,) = s.row("term-a"), s.row("term-b")
    assert s.reverse(ya, "term-a") and not s.reverse(yb, "term-b")

    # The gateway's ESC and BEL never reach the terminal raw.
    s = t.shows("[31mred-alert[0m done")
    assert b"\x1b[31m" not in s.raw and b"\x07" not in s.raw

    t.send("\t")
    s = t.shows("CREDENTIAL KEYS", "term-prov")
    s = t.wait(lambda s: [s.text(y).split() for y in s.row("term-prov")] ==
               [["term-prov", "openai", "1"]], "the provider's whole row")
    assert b"sk-term-secret" not in s.raw

    t.send("\t")
    t.shows("CREATED")
    t.send("j")
    s = t.shows("Logs: term-b", "hello-from-b")
    s = t.wait(lambda s: len(s.row("term-b")) == 1 and
               s.reverse(s.row("term-b")[0], "term-b") and
               not s.find("red-alert"), "term-b selected, its logs alone")

    t.send("?")
    t.shows("q quit", "d delete")
    t.send("d")
    t.shows("Delete sandbox term-b? (y/n)")
    t.send("n")
    t.shows("Not deleted")
    t.send("d")
    t.shows("Delete sandbox term-b? (y/n)")
    t.send("y")
    t.shows("Deleted sandbox term-b")
    t.wait(lambda s: not s.row("term-b") or
           any("DELETING" in s.text(y) for y in s.row("term-b")),
           "term-b gone from the list")
    names = gw("sandbox", "list").stdout
    row = [ln for ln in names.splitlines() if ln.startswith("term-b ")]
    assert not row or row[0].endswith("DELETING"), names

    t.send("r")
    t.shows("Logs: term-a")
    assert t.quit() == 0
    gw("sandbox", "delete", "term-a")


def test_empty_and_resize(gw, admin, term):
    for n in gw("sandbox", "list", "--names").stdout.split():
        gw("sandbox", "delete", n)
    t = term(gw)
    t.shows("No sandboxes", "Healthy")
    t.child.setwinsize(20, 90)
    t.screen.resize(20, 90)
    t.wait(lambda s: "? help" in s.text(19) and "Logs" in s.text(11),
           "a redraw for 20 rows")
    admin.create_sandbox("term-late")
    t.shows("term-late", "Logs: term-late")
    assert t.quit() == 0
    gw("sandbox", "delete", "term-late")


def test_unreachable_gateway_keeps_retrying(gw, term):
    # Bound but not listening: every connect is refused.
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    try:
        ep = "https://127.0.0.1:%d" % sock.getsockname()[1]
        t = term(gw, "--gateway-endpoint", ep)
        s = t.shows("unreachable:")
        first = [ln for ln in s.dump().splitlines() if "updated" in ln]
        # Still polling: the time of the last attempt moves on.
        t.wait(lambda s: [ln for ln in s.dump().splitlines()
                          if "updated" in ln] != first, "another attempt")
        assert t.quit("\x03") == 0     # ^C: as q
    finally:
        sock.close()

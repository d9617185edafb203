# Copyright (c) 2026 The OpenShell in C authors.
# SPDX-License-Identifier: ISC
"""proto/*.proto against the wire contract in control-plane.md: every
message table of §1.4 (names, numbers, types, maps, repeated, oneofs),
every enum, and the RPC catalogue of §1.2 (types and streaming kinds).
The spec lives in shared/spec beside the repository; skipped without."""

import re
import subprocess
from pathlib import Path

import pytest
from google.protobuf import descriptor_pb2

ROOT = Path(__file__).resolve().parents[2]
SPEC = ROOT.parent / "shared" / "spec" / "control-plane.md"
T = descriptor_pb2.FieldDescriptorProto
TYPE_NAMES = {v: k[5:].lower() for k, v in T.Type.items()}

pytestmark = pytest.mark.skipif(not SPEC.exists(), reason="no spec")

# Our documented additions (see the .proto comments): wire-compatible
# fields stock clients ignore.  Checked here, then left out of the
# comparison with the reference's tables.
EXTENSIONS = {
    ("GetSandboxProviderEnvironmentResponse", "credential_hosts"):
        (100, "map<string,string>", None),
}


def _type(f):
    if f.type in (T.TYPE_MESSAGE, T.TYPE_ENUM):
        return f.type_name.split(".")[-1]
    return TYPE_NAMES[f.type]


@pytest.fixture(scope="module")
def proto(tmp_path_factory):
    out = tmp_path_factory.mktemp("proto") / "ds.pb"
    subprocess.run(["protoc", "-Iproto", "--include_imports",
                    f"--descriptor_set_out={out}", "datamodel.proto",
                    "sandbox.proto", "openshell.proto", "inference.proto"],
                   cwd=ROOT, check=True)
    fds = descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes())
    msgs, enums, rpcs = {}, {}, {}
    for fd in fds.file:
        if fd.name.startswith("google/"):
            continue
        for m in fd.message_type:
            nested = {n.name: n for n in m.nested_type}
            fields = {}
            for f in m.field:
                t, lab = _type(f), f.label == T.LABEL_REPEATED
                if t in nested and nested[t].options.map_entry:
                    k, v = nested[t].field
                    t, lab = f"map<{_type(k)},{_type(v)}>", False
                oneof = (m.oneof_decl[f.oneof_index].name
                         if f.HasField("oneof_index") else None)
                fields[f.name] = (f.number, ("repeated " if lab else "") + t,
                                  oneof)
            msgs[m.name] = fields
        for e in fd.enum_type:
            enums[e.name] = {v.name: v.number for v in e.value}
        for s in fd.service:
            for m in s.method:
                rpcs[(s.name, m.name)] = (
                    m.input_type.split(".")[-1], m.output_type.split(".")[-1],
                    m.client_streaming, m.server_streaming)
    for (m, f), want in EXTENSIONS.items():
        assert msgs[m].pop(f) == want, (m, f)
    return msgs, enums, rpcs


def _section(start, end):
    text = SPEC.read_text()
    return text[text.index(start):text.index(end)]


def test_message_tables(proto):
    msgs, enums, _ = proto
    sec = _section("### 1.4", "## 2. Sandbox lifecycle")
    seen = set()
    for m in re.finditer(r"\| \*\*(\w+)\*\* \| # \| type \|\n\|---\|---\|---\|"
                         r"\n((?:\|.*\|\n)+)", sec):
        rows = [r.strip("|").split("|") for r in m.group(2).strip().split("\n")]
        want = {r[0].strip(): (int(r[1]), r[2].strip().strip("`")
                               .replace("enum ", "")
                               .replace("google.protobuf.", ""), None)
                for r in rows}
        assert msgs[m.group(1)] == want, m.group(1)
        seen.add(m.group(1))
    for line in sec.split("\n"):
        m = re.match(r"\| (\w+) \| (.*) \|$", line)
        if not m or line.count("|") != 3 or m.group(1) in ("message", "enum"):
            continue
        name, body = m.groups()
        seen.add(name)
        if body.startswith(("SANDBOX_", "SETTING_", "POLICY_", "SERVICE_")):
            want = {k.strip(): int(n) for k, n in
                    (v.split("=") for v in body.split(", "))}
            assert enums[name] == want, name
            continue
        want = {}
        if body != "(no fields)":
            for part in body.split("; "):
                num, fname, t = re.match(r"(\d+) (\w+): (.*)$",
                                         part.strip()).groups()
                o = re.search(r" \(oneof (\w+)\)", t)
                oneof = o.group(1) if o else None
                t = re.sub(r" \((oneof|deprecated).*\)", "", t)
                want[fname] = (int(num), t.strip("`").replace("enum ", ""),
                               oneof)
        assert msgs.get(name) == want, name
    assert set(msgs) | set(enums) == seen


def test_rpc_catalogue(proto):
    _, _, rpcs = proto
    kinds = {(False, False): "unary", (False, True): "server-stream",
             (True, False): "client-stream"}
    n = 0
    for line in _section("### 1.2", "### 1.3").split("\n"):
        m = re.match(r"\| (Inference\.)?(\w+) \| (.*?) \| "
                     r"(unary|server-stream|client-stream) \|", line)
        if not m:
            continue
        n += 1
        svc = "Inference" if m.group(1) else "OpenShell"
        req, resp, cs, ss = rpcs[(svc, m.group(2))]
        assert kinds[(cs, ss)] == m.group(4), m.group(2)
        want_req, want_resp = (x.strip().replace("stream ", "").split(".")[-1]
                               for x in m.group(3).split("→"))
        assert req == want_req, m.group(2)
        if not want_resp.startswith("…"):
            assert resp == want_resp, m.group(2)
    assert n == len(rpcs) == 35

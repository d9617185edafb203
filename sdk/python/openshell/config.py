# Copyright (c) 2026 The OpenShell in C authors.
# SPDX-License-Identifier: ISC
"""Client-side cluster configuration under $XDG_CONFIG_HOME/openshell:

    active_cluster                      name of the cluster in use
    clusters/<name>/metadata.json       {"gateway_endpoint": "https://h:p"}
    clusters/<name>/mtls/{ca.crt,tls.crt,tls.key}

The reference's names (active_gateway, gateways/<name>/) are read too,
when ours are absent, so a config written by the reference CLI works."""

import json
import os
from dataclasses import dataclass
from typing import Optional
from urllib.parse import urlsplit

from .errors import ConfigError
from .models import TlsConfig

_ACTIVE_FILES = ("active_cluster", "active_gateway")
_CLUSTER_DIRS = ("clusters", "gateways")


@dataclass(frozen=True)
class ClusterConfig:
    name: str
    endpoint: str           # "host:port", what grpc dials
    url: str                # gateway_endpoint as written
    tls: Optional[TlsConfig]
    directory: str


def config_home():
    base = os.environ.get("XDG_CONFIG_HOME")
    if not base:
        base = os.path.join(os.path.expanduser("~"), ".config")
    return os.path.join(base, "openshell")


def active_cluster_name(cluster=None):
    """The cluster to use: the argument, else $OPENSHELL_GATEWAY, else
    the active_cluster file."""
    if cluster:
        return cluster
    env = os.environ.get("OPENSHELL_GATEWAY", "").strip()
    if env:
        return env
    home = config_home()
    for fname in _ACTIVE_FILES:
        try:
            with open(os.path.join(home, fname)) as f:
                name = f.read().strip()
        except FileNotFoundError:
            continue
        if name:
            return name
    raise ConfigError("no active cluster: start one with 'openshell "
                      "gateway start' or set OPENSHELL_GATEWAY")


def cluster_dir(name):
    home = config_home()
    for sub in _CLUSTER_DIRS:
        d = os.path.join(home, sub, name)
        if os.path.isfile(os.path.join(d, "metadata.json")):
            return d
    raise ConfigError("cluster '%s' has no metadata in %s"
                      % (name, os.path.join(home, _CLUSTER_DIRS[0], name)))


def split_endpoint(url):
    """(scheme, "host:port") from "https://host:port", "http://..." or a
    bare "host:port" (scheme "")."""
    if "://" not in url:
        return "", url.rstrip("/")
    parts = urlsplit(url)
    if not parts.hostname:
        raise ConfigError("bad gateway endpoint '%s'" % url)
    port = parts.port
    if port is None:
        port = 443 if parts.scheme == "https" else 80
    host = parts.hostname
    if ":" in host:
        host = "[%s]" % host
    return parts.scheme, "%s:%d" % (host, port)


def mtls_bundle(directory):
    d = os.path.join(directory, "mtls")
    tls = TlsConfig(os.path.join(d, "ca.crt"), os.path.join(d, "tls.crt"),
                    os.path.join(d, "tls.key"))
    for path in (tls.ca_path, tls.cert_path, tls.key_path):
        if not os.path.isfile(path):
            raise ConfigError("missing mTLS file %s" % path)
    return tls


def load_cluster(cluster=None):
    """The ClusterConfig of the named (or active) cluster."""
    name = active_cluster_name(cluster)
    directory = cluster_dir(name)
    path = os.path.join(directory, "metadata.json")
    try:
        with open(path) as f:
            meta = json.load(f)
    except (OSError, ValueError) as e:
        raise ConfigError("cannot read %s: %s" % (path, e)) from e
    url = meta.get("gateway_endpoint") or ""
    if not url:
        raise ConfigError("%s has no gateway_endpoint" % path)
    scheme, endpoint = split_endpoint(url)
    tls = None
    if scheme == "https" or (scheme == "" and os.path.isdir(
            os.path.join(directory, "mtls"))):
        tls = mtls_bundle(directory)
    elif scheme not in ("http", ""):
        raise ConfigError("unsupported gateway endpoint scheme '%s'" % scheme)
    return ClusterConfig(name, endpoint, url, tls, directory)

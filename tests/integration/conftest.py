# Copyright (c) 2026 The OpenShell in C authors.
# SPDX-License-Identifier: ISC
"""Shared fixtures for the integration suites: the throwaway PKI and the
build directory live in grpcpki.py (importing it also puts the generated
stubs on sys.path); re-exported here so every suite gets them."""

from grpcpki import BUILD, ROOT, build_dir, pki  # noqa: F401

# Copyright (c) 2026 The OpenShell in C authors.
# SPDX-License-Identifier: ISC
"""SandboxSession (one sandbox bound to a client) and Sandbox (a
context manager that creates or attaches to a sandbox, waits for it to
be ready and deletes it afterwards)."""

from .client import SandboxClient
from .errors import NotFoundError
from .models import SandboxRef


class SandboxSession:
    """A sandbox and the client that reaches it."""

    def __init__(self, client, ref):
        self.client = client
        self.sandbox = ref

    @property
    def id(self):
        return self.sandbox.id

    @property
    def name(self):
        return self.sandbox.name

    def refresh(self):
        self.sandbox = self.client.get(self.sandbox.name)
        return self.sandbox

    def wait_ready(self, timeout_seconds=300):
        self.sandbox = self.client.wait_ready(self.name, timeout_seconds)
        return self.sandbox

    def exec(self, command, **kw):
        return self.client.exec(self.id, command, **kw)

    def exec_stream(self, command, **kw):
        return self.client.exec_stream(self.id, command, **kw)

    def exec_python(self, fn, args=(), kwargs=None, **kw):
        return self.client.exec_python(self.id, fn, args, kwargs, **kw)

    def logs(self, **kw):
        return self.client.logs(self.id, **kw)

    def watch(self, **kw):
        return self.client.watch(self.id, **kw)

    def delete(self):
        return self.client.delete(self.name)


class Sandbox(SandboxSession):
    """with Sandbox() as sb: sb.exec([...])

    sandbox: None (create one from spec), a name or a SandboxRef (attach
    to it).  delete_on_exit: None deletes only a sandbox this object
    created; True or False decide for both cases."""

    def __init__(self, cluster=None, sandbox=None, delete_on_exit=None,
                 spec=None, timeout=30, ready_timeout_seconds=120,
                 client=None):
        self._cluster = cluster
        self._target = sandbox
        self._delete_on_exit = delete_on_exit
        self._spec = spec
        self._timeout = timeout
        self._ready_timeout = ready_timeout_seconds
        self._own_client = client is None
        self._created = False
        super().__init__(client, None)

    def __enter__(self):
        if self.client is None:
            self.client = SandboxClient.from_active_cluster(
                self._cluster, timeout=self._timeout)
        try:
            self._open()
        except BaseException:
            self._close_client()
            raise
        return self

    def _open(self):
        if self._target is None:
            self.sandbox = self.client.create(self._spec)
            self._created = True
        else:
            name = self._target
            if isinstance(name, SandboxRef):
                name = name.name
            self.sandbox = self.client.get(name)
        try:
            self.wait_ready(self._ready_timeout)
        except BaseException:
            self._cleanup()
            raise

    def _cleanup(self):
        delete = self._delete_on_exit
        if delete is None:
            delete = self._created
        if not delete or self.sandbox is None:
            return
        try:
            self.client.delete(self.name)
            self.client.wait_deleted(self.name)
        except NotFoundError:
            pass

    def _close_client(self):
        if self._own_client and self.client is not None:
            self.client.close()

    def __exit__(self, *exc):
        try:
            self._cleanup()
        finally:
            self._close_client()
        return False

# Copyright (c) 2026 The OpenShell in C authors.
# SPDX-License-Identifier: ISC
"""Shipping a Python callable into a sandbox for exec_python.

ExecSandbox refuses NUL, CR and LF in the command, so the code travels
in the environment: OPENSHELL_PYFUNC_B64 holds a base64 pickle (stdlib
protocol 4) of a dict, and the one-line BOOTSTRAP unpickles it and runs
its "runner" source.  Two payloads exist:

  cloudpickle  the callable and its arguments pickled by value with
               cloudpickle (needs cloudpickle on both sides);
  source       the callable's source text (a function, or the class of
               a bound method plus the instance's __dict__) and the
               arguments pickled with the stdlib; works with a bare
               python3 in the sandbox, but the function can only use
               names it imports itself.

"auto" uses cloudpickle when it is importable here, else source."""

import base64
import importlib.util
import inspect
import pickle
import textwrap

ENV = "OPENSHELL_PYFUNC_B64"

BOOTSTRAP = ("import base64,os,pickle;"
             "_p=pickle.loads(base64.b64decode(os.environ['%s']));"
             "exec(_p['runner'],{'_p':_p,'__name__':'__openshell__'})"
             % ENV)

_RUN_CLOUDPICKLE = """
import cloudpickle
_fn, _a, _k = cloudpickle.loads(_p['blob'])
_r = _fn(*_a, **_k)
if _r is not None:
    print(_r)
"""

_RUN_SOURCE = """
import pickle
_ns = {'__name__': '__openshell__'}
exec(_p['src'], _ns)
if _p['cls']:
    _obj = _ns[_p['cls']].__new__(_ns[_p['cls']])
    _obj.__dict__.update(pickle.loads(_p['state']))
    _fn = getattr(_obj, _p['name'])
else:
    _fn = _ns[_p['name']]
_a, _k = pickle.loads(_p['args'])
_r = _fn(*_a, **_k)
if _r is not None:
    print(_r)
"""


def _cloudpickle_payload(fn, args, kwargs):
    import cloudpickle
    return {"runner": _RUN_CLOUDPICKLE,
            "blob": cloudpickle.dumps((fn, tuple(args), dict(kwargs)))}


def _source_payload(fn, args, kwargs):
    target = fn
    cls = None
    state = {}
    if inspect.ismethod(fn) and not inspect.isclass(fn.__self__):
        cls = type(fn.__self__)
        target = cls
        state = dict(getattr(fn.__self__, "__dict__", {}))
    elif not inspect.isfunction(fn):
        raise TypeError("exec_python needs a function or a bound method "
                        "(install cloudpickle for other callables)")
    if getattr(fn, "__name__", "") == "<lambda>":
        raise TypeError("exec_python cannot ship a lambda without "
                        "cloudpickle; use a def")
    try:
        src = textwrap.dedent(inspect.getsource(target))
    except (OSError, TypeError) as e:
        raise TypeError("cannot read the source of %r: %s" % (fn, e)) from e
    return {"runner": _RUN_SOURCE, "src": src, "name": fn.__name__,
            "cls": cls.__name__ if cls else "",
            "state": pickle.dumps(state, protocol=4),
            "args": pickle.dumps((tuple(args), dict(kwargs)), protocol=4)}


def encode(fn, args=(), kwargs=None, serializer="auto"):
    """The value of OPENSHELL_PYFUNC_B64 that runs fn(*args, **kwargs)."""
    kwargs = kwargs or {}
    if serializer == "auto":
        found = importlib.util.find_spec("cloudpickle") is not None
        serializer = "cloudpickle" if found else "source"
    if serializer == "cloudpickle":
        payload = _cloudpickle_payload(fn, args, kwargs)
    elif serializer == "source":
        payload = _source_payload(fn, args, kwargs)
    else:
        raise ValueError("serializer must be auto, cloudpickle or source")
    return base64.b64encode(pickle.dumps(payload, protocol=4)).decode()

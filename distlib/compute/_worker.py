"""The code that runs inside a worker: decode a chunk, apply the user's function, encode the reply.

This module is imported by every worker process (and shipped by value to Dask workers), so it
imports only the standard library and cloudpickle, and never the rest of ``distlib``. The caller's
side (chunking, dispatch, error reporting) lives in :mod:`distlib.compute._pool`.

A task is one chunk: ``(token, fn_bytes | None, kind, start, items_bytes)``. ``fn_bytes`` is the
cloudpickled function (or ``(mapper, combiner)`` pair) with a map of where its code came from; it
is sent to a worker only with the first chunk of a call, and the worker keeps it under ``token``.
The reply is ``("ok", value)`` or ``("error", failure_dict)``, also pickled with cloudpickle so that
results may be instances of classes defined in a notebook.
"""

from __future__ import annotations

import contextlib
import linecache
import os
import pickle
import signal
import sys
import traceback
import types
from typing import Any

import cloudpickle

MAP = "map"
REDUCE = "reduce"

_ITEM_REPR_LIMIT = 200
_CACHE_MODULE = "_distlib_compute_functions"


def _function_cache() -> dict[str, Any]:
    """This process's cache of unpickled functions, by call token.

    It hangs off sys.modules rather than being a global of this module: shipped by value to a
    Dask worker, a function's globals travel with it, and a cache full of functions would too.
    """
    holder = sys.modules.get(_CACHE_MODULE)
    if holder is None:
        holder = types.ModuleType(_CACHE_MODULE)
        holder.functions = {}  # type: ignore[attr-defined]
        sys.modules[_CACHE_MODULE] = holder
    return holder.functions


def short_repr(obj: object, limit: int = _ITEM_REPR_LIMIT) -> str:
    """repr() of obj, cut to about limit characters, never raising."""
    try:
        text = repr(obj)
    except Exception as exc:  # a broken __repr__ must not hide the real error
        text = f"<{type(obj).__name__} object; repr() failed: {exc!r}>"
    return text if len(text) <= limit else text[: limit - 3] + "..."


def describe_failure(
    exc: BaseException, *, index: int, item: object, role: str, skip_frames: int = 1
) -> dict[str, Any]:
    """Describe an exception raised by user code on one item, in a picklable dict.

    The exception object itself is pickled apart by :func:`encode_reply`, so that a caller
    unable to rebuild it (an exception whose constructor takes unusual arguments) still gets
    the traceback text.
    """
    tb = exc.__traceback__
    for _ in range(skip_frames):  # drop this module's own frames from the story
        if tb is not None and tb.tb_next is not None:
            tb = tb.tb_next
    return {
        "index": index,
        "item": short_repr(item),
        "role": role,
        "exc_type": type(exc).__qualname__,
        "message": str(exc),
        "traceback": "".join(traceback.format_exception(type(exc), exc, tb)),
        "exception": exc,
    }


# -- where shipped code came from -------------------------------------------------------------
# cloudpickle ships a notebook's functions by value and renames their code "<dynamic-code>", so
# a worker's traceback would lose the cell and its source lines. The caller records each shipped
# code object's origin (and the source of cells that exist only in its linecache); the worker
# puts them back, and its tracebacks read as they would in the notebook.

_DYNAMIC = "<dynamic-code>"


def _by_value(fn: types.FunctionType) -> bool:
    module = getattr(fn, "__module__", None)
    return module == "__main__" or module not in sys.modules


def _reachable_functions(root: Any, follow: Any, limit: int = 500) -> list[types.FunctionType]:
    """Functions reachable from root through tuples, partials, closures, globals and classes."""
    found: list[types.FunctionType] = []
    seen: set[int] = set()
    stack = [root]
    while stack and len(found) < limit:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, tuple | list):
            stack.extend(obj)
        elif isinstance(obj, types.MethodType | staticmethod | classmethod):
            stack.append(obj.__func__)
        elif isinstance(obj, type):
            stack.extend(vars(obj).values())
        elif hasattr(obj, "func") and hasattr(obj, "args"):  # functools.partial
            stack.extend([obj.func, *obj.args])
        elif isinstance(obj, types.FunctionType) and follow(obj):
            found.append(obj)
            names = set(_all_names(obj.__code__))
            stack.extend(v for k, v in obj.__globals__.items() if k in names)
            for cell in obj.__closure__ or ():
                with contextlib.suppress(ValueError):  # an empty cell has no contents
                    stack.append(cell.cell_contents)
    return found


def _all_names(code: types.CodeType) -> list[str]:
    names = list(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names.extend(_all_names(const))
    return names


def _codes(code: types.CodeType) -> list[types.CodeType]:
    out = [code]
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            out.extend(_codes(const))
    return out


def code_origins(fn: Any, max_source: int = 1_000_000) -> dict[str, Any]:
    """In the caller: where each code object that will travel by value was defined.

    Returns ``{"files": {(name, first line): filename}, "lines": {filename: source lines}}``,
    the lines only for files that do not exist on disk (a notebook cell), up to max_source bytes.
    """
    files: dict[tuple[str, int], str] = {}
    lines: dict[str, list[str]] = {}
    size = 0
    for f in _reachable_functions(fn, _by_value):
        for code in _codes(f.__code__):
            files[(code.co_name, code.co_firstlineno)] = code.co_filename
            name = code.co_filename
            if name not in lines and not os.path.exists(name):
                source = linecache.getlines(name)
                size += sum(len(line) for line in source)
                if source and size <= max_source:
                    lines[name] = source
    return {"files": files, "lines": lines}


def restore_origins(fn: Any, origins: dict[str, Any]) -> None:
    """In a worker: give fn's shipped code its filenames back and make its source known."""
    files = origins["files"]

    def fix(code: types.CodeType) -> types.CodeType:
        consts = tuple(fix(c) if isinstance(c, types.CodeType) else c for c in code.co_consts)
        name = files.get((code.co_name, code.co_firstlineno), code.co_filename)
        return code.replace(co_filename=name, co_consts=consts)

    for f in _reachable_functions(fn, lambda f: f.__code__.co_filename == _DYNAMIC):
        f.__code__ = fix(f.__code__)
    for name, source in origins["lines"].items():
        if name not in linecache.cache:
            # mtime None: linecache.checkcache() leaves the entry alone, as for a notebook cell
            linecache.cache[name] = (sum(len(line) for line in source), None, source, name)


def dumps_function(fn: Any) -> bytes:
    """Pickle a function (or tuple of functions) for workers, with its code's origins."""
    return cloudpickle.dumps((fn, code_origins(fn)))


def loads_function(data: bytes) -> Any:
    fn, origins = pickle.loads(data)
    with contextlib.suppress(Exception):  # only the look of tracebacks depends on it
        restore_origins(fn, origins)
    return fn


def run_chunk(
    fn: Any,
    kind: str,
    start: int,
    items: Any,
    catch: type[BaseException] | tuple[type[BaseException], ...] = Exception,
) -> tuple[str, Any]:
    """Apply fn to one chunk; return ("ok", results) or ("error", failure).

    kind "map": fn is the mapper and the value is the list of results in order.
    kind "reduce": fn is (mapper, combiner); the value is the chunk's items mapped and folded
    left to right with the combiner (the chunk is never empty).
    """
    if kind == MAP:
        out: list[Any] = []
        try:
            # extend() keeps the results appended before an exception, so len(out) is the
            # position of the failing item without a Python-level counter in the hot loop.
            out.extend(map(fn, items))
        except catch as exc:
            failed = len(out)
            failure = describe_failure(exc, index=start + failed, item=items[failed], role="fn")
            return "error", failure
        return "ok", out
    mapper, combiner = fn
    acc: Any = None
    role = "mapper"
    index = start
    item: Any = None
    try:
        for offset, item in enumerate(items):
            index = start + offset
            role = "mapper"
            value = mapper(item)
            if offset == 0:
                acc = value
            else:
                role = "combine"
                acc = combiner(acc, value)
    except catch as exc:
        return "error", describe_failure(exc, index=index, item=item, role=role)
    return "ok", acc


def _exception_bytes(failure: dict[str, Any]) -> dict[str, Any]:
    try:
        exc_bytes: bytes | None = cloudpickle.dumps(failure["exception"])
    except Exception:
        exc_bytes = None
    return dict(failure, exception=exc_bytes)


def encode_reply(status: str, value: Any, start: int, items: Any) -> bytes:
    """Pickle a reply; if the results cannot be pickled, name the first item whose result fails.

    (Plain pickle, even for a list of numbers: a faster decoder such as marshal would need the
    worker to check every result's exact type first, which costs more than it saves.)
    """
    if status == "error":
        return cloudpickle.dumps((status, _exception_bytes(value)))
    try:
        return cloudpickle.dumps((status, value))
    except Exception as exc:
        culprit = 0
        if isinstance(value, list):
            for culprit, result in enumerate(value):  # noqa: B007 - culprit is used below
                try:
                    cloudpickle.dumps(result)
                except Exception:
                    break
        failure = describe_failure(exc, index=start + culprit, item=items[culprit], role="send")
        return cloudpickle.dumps(("error", _exception_bytes(failure)))


def decode_reply(reply: bytes) -> tuple[str, Any]:
    """In the caller: the (status, value) that :func:`encode_reply` packed."""
    return pickle.loads(reply)


def encode_task(token: str, fn_bytes: bytes | None, kind: str, start: int, items: Any) -> bytes:
    """Pickle one task; the items are pickled apart so a worker can report which chunk it lost."""
    return pickle.dumps(
        (token, fn_bytes, kind, start, cloudpickle.dumps(items)), pickle.HIGHEST_PROTOCOL
    )


def run_task(message: bytes, catch: Any = Exception) -> bytes:
    """Decode one task, run it and encode the reply: what every non-serial worker executes."""
    token, fn_bytes, kind, start, items_bytes = pickle.loads(message)
    try:
        items = pickle.loads(items_bytes)
        cache = _function_cache()
        fn = cache.get(token)
        if fn is None:
            if fn_bytes is None:
                raise RuntimeError(f"this worker never received the function of call {token}")
            fn = loads_function(fn_bytes)
            while len(cache) >= 4:  # keep only the functions of the last few calls
                cache.pop(next(iter(cache)))
            cache[token] = fn
    except Exception as exc:  # e.g. a class or module the worker cannot import
        failure = describe_failure(exc, index=start, item=None, role="receive", skip_frames=0)
        return cloudpickle.dumps(("error", _exception_bytes(failure)))
    status, value = run_chunk(fn, kind, start, items, catch)
    return encode_reply(status, value, start, items)


def worker_main(conn: Any, inherited: Any = None) -> None:
    """Loop of a pool process: receive a task, run it, send the reply, until told to stop.

    The worker ignores SIGINT: Ctrl-C in a terminal reaches the whole process group, and it is
    the caller's job to stop the pool (it terminates its workers). An empty message or a closed
    pipe (the caller died) ends the loop, so workers never outlive their caller for long.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if inherited is not None:  # under fork we inherited the caller's end of our own pipe
        inherited.close()
    while True:
        try:
            message = conn.recv_bytes()
        except (EOFError, OSError):
            return
        if not message:
            return
        reply = run_task(message, catch=BaseException)
        try:
            conn.send_bytes(reply)
        except OSError:
            return

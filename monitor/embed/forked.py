"""A model that loads in a child process while this one goes on with its own work.

A cold `monitor check` spends most of its time loading a model (torch and transformers for
MiniLM, the tokenizer and weights for USE), and the rest reading the configuration, importing
SQLAlchemy, opening the store and finding the closest posts: work that does not need the
model. Both are CPU-bound Python, so threads would only take turns on one core; a forked child
loads the model on another core, and the draft's vectors come back through a pipe. The child is
forked first thing and decides itself which model to load (`resolve`, e.g. reading the
configuration, and with "auto" the store), so the load starts before this process knows.

Used only where it is safe: a POSIX fork, in a process with a single thread (a fork copies
locks held by other threads, and the child could wait on them forever). Anywhere else, or if the
child cannot resolve a model, loads another one, or dies, the encoder loads in this process as
usual: the child is a way to be faster, never a way to fail.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import struct
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, BinaryIO

from monitor.errors import ModelError

if TYPE_CHECKING:
    import numpy as np

    from monitor.embed.encoder import Encoder, ProgressFn

_LENGTH = struct.Struct("!Q")
_UNKNOWN = object()


def _send(pipe: BinaryIO, value: Any) -> None:
    data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    pipe.write(_LENGTH.pack(len(data)) + data)
    pipe.flush()


def _receive(pipe: BinaryIO) -> Any:
    head = pipe.read(_LENGTH.size)
    if len(head) < _LENGTH.size:
        raise EOFError
    size = _LENGTH.unpack(head)[0]
    data = pipe.read(size)
    if len(data) < size:
        raise EOFError
    # Only ever our own child's replies, over a pipe nobody else holds.
    return pickle.loads(data)


def can_fork() -> bool:
    return hasattr(os, "fork") and threading.active_count() == 1


class ModelChild:
    """A child process that loads the encoder `resolve()` returns (None: no model needed) and
    encodes what this process sends it."""

    def __init__(self, resolve: Callable[[], Encoder | None]) -> None:
        self._to_child: BinaryIO | None = None
        self._from_child: BinaryIO | None = None
        self._model_id: object = _UNKNOWN
        request_r, request_w = os.pipe()
        reply_r, reply_w = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: resolve, load, then answer until the parent closes the pipe
            os.close(request_w)
            os.close(reply_r)
            status = 0
            try:
                _serve(resolve, os.fdopen(request_r, "rb"), os.fdopen(reply_w, "wb"))
            except BaseException:  # anything at all: the parent loads the model itself
                status = 1
            finally:
                os._exit(status)  # never the parent's atexit handlers, never its connections
        os.close(request_r)
        os.close(reply_w)
        self._pid: int | None = pid
        self._to_child = os.fdopen(request_w, "wb")
        self._from_child = os.fdopen(reply_r, "rb")

    @property
    def model_id(self) -> str | None:
        """The model the child loads (None if it has none): known as soon as it has decided."""
        if self._model_id is _UNKNOWN:
            try:
                self._model_id = _receive(self._from_child) if self._from_child else None
            except (OSError, EOFError, pickle.PickleError):
                self._model_id = None
            if self._model_id is None:
                self.close()
        return self._model_id if isinstance(self._model_id, str) else None

    def encoder(self, local: Encoder) -> Encoder:
        """`local`, answered by the child when the child loads the same model."""
        return ChildEncoder(self, local) if self.model_id == local.model_id else local

    def ask(self, texts: Sequence[str]) -> np.ndarray | None:
        """The child's vectors, or None when the child is gone (the caller encodes itself)."""
        if self._to_child is None or self._from_child is None:
            return None
        try:
            _send(self._to_child, list(texts))
            kind, value = _receive(self._from_child)
        except (OSError, EOFError, pickle.PickleError):
            self.close()
            return None
        if kind == "error":
            raise ModelError(str(value))
        vectors: np.ndarray = value
        return vectors

    def close(self) -> None:
        for pipe in (self._to_child, self._from_child):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()
        self._to_child = self._from_child = None
        if self._pid is not None:
            # A child still loading (the command ended before it needed a vector) is stopped,
            # not waited for; one that answered is already leaving on the closed pipe.
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._pid, signal.SIGTERM)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(self._pid, 0)
            self._pid = None


class ChildEncoder:
    """An encoder whose vectors come from a `ModelChild` (or from `local`, should it be gone)."""

    def __init__(self, child: ModelChild, local: Encoder) -> None:
        self.model_id = local.model_id
        self._child = child
        self._local = local

    def encode(self, texts: Sequence[str], *, progress: ProgressFn | None = None) -> np.ndarray:
        vectors = self._child.ask(texts)
        if vectors is None:
            return self._local.encode(texts, progress=progress)
        if progress:
            progress(len(texts), len(texts))
        return vectors


def _serve(resolve: Callable[[], Encoder | None], requests: BinaryIO,
           replies: BinaryIO) -> None:
    encoder = resolve()
    _send(replies, encoder.model_id if encoder is not None else None)
    if encoder is None:
        return
    error: str | None = None
    try:
        # Some models load lazily on their first sentence (USE reads its tokenizer and
        # weights then): one sentence now, so the parent's request finds them ready.
        encoder.encode(["warm-up"])
    except ModelError as exc:  # said to the parent when it asks: the message it would give
        error = str(exc)
    while True:
        try:
            texts = _receive(requests)
        except EOFError:
            return
        if error is not None:
            _send(replies, ("error", error))
            continue
        try:
            _send(replies, ("vectors", encoder.encode(texts)))
        except ModelError as exc:
            _send(replies, ("error", str(exc)))

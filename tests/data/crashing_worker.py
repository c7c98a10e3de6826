"""A worker process that dies on one file, as a worker would when FFmpeg crashes on a bad mp4.

Tests put :func:`in_worker_dying_on_fatal_file` in place of ``vicokd.data.worker_pool._in_worker``
in their own process; pickled by reference, it runs in each spawned worker, where decoding
:data:`FATAL` ends the process at once (``os._exit``: no exception, no cleanup).
"""

import os
from pathlib import Path

from vicokd.data import ingest, worker_pool

#: Decoding a file whose path ends so kills the worker.
FATAL = "02/00-View3-Part1.mp4"


def in_worker_dying_on_fatal_file(*args):
    """The real ``worker_pool._in_worker`` (this runs in a fresh worker process) with a decoder
    that ends the process on :data:`FATAL`."""
    decode = ingest.decode_view

    def decode_or_die(path, *decode_args, **decode_kwargs):
        if Path(path).as_posix().endswith(FATAL):
            os._exit(70)
        return decode(path, *decode_args, **decode_kwargs)

    ingest.decode_view = decode_or_die
    try:
        return worker_pool._in_worker(*args)
    finally:
        ingest.decode_view = decode

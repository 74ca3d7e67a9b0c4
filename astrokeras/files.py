"""Atomic files and folders: nothing astrokeras writes is ever left half written.

Every writer goes through a temporary name in the destination's own folder and renames it
into place when the write succeeded (`os.replace` is atomic on one file system), so an
interrupted job leaves either the old file or the new one, never a truncated one.

Example:

>>> import json, pathlib, tempfile
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> _ = write_json_atomic(folder / "run.json", {"epochs": 3})
>>> json.loads((folder / "run.json").read_text())
{'epochs': 3}
>>> with atomic_path(folder / "model.npz") as temporary:   # any writer that takes a path
...     temporary.endswith(".npz")
True
"""

import contextlib
import json
import os
import shutil
import tempfile

from astrokeras.errors import InvalidArgumentError


def _umask():
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


@contextlib.contextmanager
def atomic_path(path):
    """Yields a temporary path beside `path`; renames it to `path` when the block succeeds.

    The temporary name keeps `path`'s suffix, so writers that check it (`model.save` wants
    `.keras`, `np.savez` appends `.npz` otherwise) accept it. The parent folder is created.

    Args:
        path: the destination file.

    Returns:
        A context manager yielding the temporary path as a string.
    """
    path = os.path.abspath(os.fspath(path))
    directory, name = os.path.split(path)
    os.makedirs(directory, exist_ok=True)
    suffix = os.path.splitext(name)[1]
    handle, temporary = tempfile.mkstemp(dir=directory, prefix=f".{name}.",
                                         suffix=f".tmp{suffix}")
    os.close(handle)
    try:
        yield temporary
        os.chmod(temporary, 0o666 & ~_umask())
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


def write_bytes_atomic(path, data):
    """Writes `data` (bytes or str, UTF-8) to `path` atomically; returns `path`."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    with atomic_path(path) as temporary:
        with open(temporary, "wb") as handle:
            handle.write(data)
    return path


def write_text_atomic(path, text):
    """Writes the string `text` to `path` atomically (UTF-8); returns `path`."""
    return write_bytes_atomic(path, str(text))


def write_json_atomic(path, obj, indent=2, default=None):
    """Writes `obj` as JSON (and a final newline) to `path` atomically; returns `path`.

    Args:
        path: the destination file.
        obj: a JSON-serialisable object; NumPy scalars and arrays are converted.
        indent: JSON indentation.
        default: `json.dumps`' fallback for other objects (default: NumPy-aware, then str).
    """
    text = json.dumps(obj, indent=indent, default=default or _json_default)
    return write_text_atomic(path, text + "\n")


def _json_default(value):
    import numpy as np

    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    return str(value)


@contextlib.contextmanager
def atomic_directory(path):
    """Yields a temporary folder beside `path`; swaps it in for `path` when the block succeeds.

    An existing folder at `path` is moved aside first and deleted only after the new one is in
    place, so `path` always holds a complete folder (the old or the new one).

    Args:
        path: the destination folder.

    Returns:
        A context manager yielding the temporary folder as a string.
    """
    path = os.path.abspath(os.fspath(path))
    parent = os.path.dirname(path)
    os.makedirs(parent, exist_ok=True)
    temporary = tempfile.mkdtemp(dir=parent, prefix=f".{os.path.basename(path)}.", suffix=".tmp")
    try:
        yield temporary
        os.chmod(temporary, 0o777 & ~_umask())
        old = None
        if os.path.exists(path):
            if not os.path.isdir(path):
                raise InvalidArgumentError("`path` exists and is not a folder.", path,
                                           "a new path or an existing folder")
            old = tempfile.mkdtemp(dir=parent, prefix=f".{os.path.basename(path)}.", suffix=".old")
            os.replace(path, os.path.join(old, "previous"))
        os.replace(temporary, path)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if os.path.exists(temporary):
            shutil.rmtree(temporary, ignore_errors=True)

"""Files written whole or not at all: into a temporary file beside the target, renamed
onto it when complete, so that an error or Ctrl-C mid-write leaves no truncated file and
the file saved before stays as it was."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any


def write_atomically(path: str | os.PathLike, write: Callable[[IO[Any]], None],
                     binary: bool = False) -> None:
    """Call ``write(fh)`` on a temporary file beside ``path``, then rename it onto
    ``path``. A link or a device (``/dev/stdout``) is written in place: renaming onto it
    would replace the link or the device.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     write_atomically(tmp + "/a.txt", lambda fh: fh.write("saved"))
    ...     open(tmp + "/a.txt").read()
    'saved'
    """
    path = Path(path)
    mode, encoding = ("wb", None) if binary else ("w", "utf-8")
    if path.is_symlink() or (path.exists() and not path.is_file()):
        with open(path, mode, encoding=encoding) as fh:
            write(fh)
        return
    fd, part = tempfile.mkstemp(dir=path.absolute().parent, prefix=f".{path.name}.",
                                suffix=".part")
    try:
        with os.fdopen(fd, mode, encoding=encoding) as fh:
            write(fh)
        os.chmod(part, 0o666 & ~_umask())  # mkstemp's 0o600 would hide the file from others
        os.replace(part, path)
    except BaseException:
        Path(part).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask

"""Files a document names (`rules_csv`): read only from inside the document's own folder.

A rule set may come from someone who should not be able to read the host's files through it,
so an attachment is refused — with a `PolicyLoadError` at the `rules_csv` line that quotes
the name as written and nothing of any file — when its name is absolute, climbs out with
`..`, resolves (through symlinks) outside the folder of the document, is not a regular file
(`/dev/zero`, a FIFO, a directory), is larger than `MAX_ATTACHMENT_BYTES`, or is not UTF-8.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Final

from creditmgmt.domain.numbers import excerpt
from creditmgmt.policies.base import SourceLocation
from creditmgmt.policies.errors import PolicyLoadError

#: An attachment holds at most this many bytes (4 MiB: some 100,000 table rows).
MAX_ATTACHMENT_BYTES: Final = 4 * 1024 * 1024


def read_attachment(base_dir: Path, name: str, loc: SourceLocation) -> tuple[Path, str]:
    """(path, text) of the attachment `name`, relative to the document's folder `base_dir`.

    Raises:
        PolicyLoadError: at `loc`, for a name or file refused as the module docstring says.
    """
    shown = excerpt(name)
    windows = PureWindowsPath(name)
    if (
        not name.strip()
        or "\0" in name
        or PurePosixPath(name).is_absolute()
        or windows.drive
        or windows.root
        or ".." in PurePosixPath(name.replace("\\", "/")).parts
    ):
        raise PolicyLoadError(
            f"rules_csv {shown}: name a file inside the document's folder "
            "(a relative path without '..')",
            loc,
        )
    folder = base_dir.resolve()
    path = (folder / name).resolve()
    if not path.is_relative_to(folder):
        raise PolicyLoadError(
            f"rules_csv {shown} leads outside the document's folder (a symbolic link?)", loc
        )
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; the type is checked on the
        # open descriptor, so the file cannot be swapped between the check and the read
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except OSError as e:
        raise PolicyLoadError(f"rules_csv {shown}: cannot read: {e.strerror}", loc) from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise PolicyLoadError(f"rules_csv {shown} is not a regular file", loc)
        if info.st_size > MAX_ATTACHMENT_BYTES:
            raise PolicyLoadError(_too_large(shown), loc)
        with os.fdopen(fd, "rb", closefd=False) as f:
            data = f.read(MAX_ATTACHMENT_BYTES + 1)
    except OSError as e:
        raise PolicyLoadError(f"rules_csv {shown}: cannot read: {e.strerror}", loc) from None
    finally:
        os.close(fd)
    if len(data) > MAX_ATTACHMENT_BYTES:  # grew since fstat
        raise PolicyLoadError(_too_large(shown), loc)
    try:
        return path, data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise PolicyLoadError(
            f"rules_csv {shown} is not UTF-8 text (byte {e.start + 1} cannot be decoded)", loc
        ) from None


def _too_large(shown: str) -> str:
    return f"rules_csv {shown} is larger than {MAX_ATTACHMENT_BYTES:,} bytes"

"""Put ``fraudTrain.csv`` / ``fraudTest.csv`` where an execution reads them (the S3 stand-in).

Why here: ``fraudpipe run`` and ``demo`` must work on a fresh machine with no data (generate
it once, Kaggle-size by default, keep it in ``ws.data_dir`` and reuse it) and on the real Kaggle
files (``--raw-dir``). Files are hard-linked into ``s3://{bucket}/{raw_prefix}`` when possible
(hundreds of MB, no copy), copied otherwise.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from fraudpipe.errors import DataValidationError
from fraudpipe.workspace import Workspace

__all__ = ["RAW_FILES", "ensure_raw_data", "generated_data"]

RAW_FILES = ("fraudTrain.csv", "fraudTest.csv")


def _place(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists() and target.samefile(source):
        return
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.unlink(missing_ok=True)
    try:
        os.link(source, tmp)
    except OSError:
        shutil.copyfile(source, tmp)
    os.replace(tmp, target)


def generated_data(ws: Workspace, customers: int | None = None, seed: int = 0) -> Path:
    """A folder with generated raw files: reused when present, generated otherwise."""
    from fraudpipe.data import write_kaggle_files

    folder = ws.data_dir if customers is None else ws.data_dir / f"customers-{customers}-{seed}"
    if all((folder / name).exists() for name in RAW_FILES):
        return folder
    kwargs = {} if customers is None else {"customers": customers}
    write_kaggle_files(folder, seed=seed, **kwargs)
    return folder


def ensure_raw_data(
    ws: Workspace,
    bucket: str,
    raw_prefix: str,
    raw_dir: Path | None = None,
    customers: int | None = None,
) -> tuple[Path, str]:
    """Make the raw prefix hold both files; returns (folder, what was done)."""
    target = ws.local_path(ws.uri(bucket, raw_prefix) + "/")
    if raw_dir is not None:
        missing = [name for name in RAW_FILES if not (raw_dir / name).is_file()]
        if missing:
            raise DataValidationError(f"--raw-dir {raw_dir}: missing {', '.join(missing)}")
        for name in RAW_FILES:
            _place(raw_dir / name, target / name)
        return target, f"copied from {raw_dir}"
    if all((target / name).exists() for name in RAW_FILES):
        return target, "already present"
    source = generated_data(ws, customers)
    for name in RAW_FILES:
        _place(source / name, target / name)
    return target, f"generated into {source}"

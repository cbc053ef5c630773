"""A compiled form of a model version's trees, for batch scoring throughput.

Why: LightGBM's ``Booster.predict`` walks every tree as data (a few hundred nanoseconds per row
and tree); lleaves compiles the same trees from LightGBM's text model into machine code with
LLVM, several times faster on a whole batch. The text model stays the source of truth: the
compiled object is a cache derived from it, stored next to it under a name made of the text
model's hash, the lleaves version and the CPU it was compiled for, so a changed model, library
or machine never loads a stale object. Its raw margins equal LightGBM's up to the order in
which tree outputs are added (tested within 1e-9).

If lleaves is not installed or compiling fails, :func:`compiled_predictor` returns None and
callers use ``Booster.predict``.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["CompiledPredictor", "compiled_predictor"]

LOG = logging.getLogger(__name__)
CACHE_DIR = "compiled"
_LOCK = threading.Lock()


class CompiledPredictor:
    """Raw margins of a compiled LightGBM text model."""

    def __init__(self, model: Any) -> None:
        self._model = model

    def raw(self, matrix: np.ndarray, threads: int = 0) -> np.ndarray:
        data = np.ascontiguousarray(matrix, dtype=np.float64)
        return self._model.predict(data, n_jobs=threads or os.cpu_count() or 1)


def _cache_path(model_file: Path) -> Path | None:
    try:
        import llvmlite.binding as llvm

        version = metadata.version("lleaves").replace(".", "_")
    except (ImportError, metadata.PackageNotFoundError):
        return None
    digest = hashlib.sha256(model_file.read_bytes()).hexdigest()[:20]
    cpu = "".join(ch for ch in llvm.get_host_cpu_name() if ch.isalnum())
    return model_file.parent / CACHE_DIR / f"{digest}-raw-lleaves{version}-{cpu}.o"


def compiled_predictor(model_file: Path) -> CompiledPredictor | None:
    """The compiled predictor of ``model_file``, compiling (and caching) it on first use."""
    cache = _cache_path(model_file)
    if cache is None:
        return None
    import lleaves

    with _LOCK:
        try:
            cache.parent.mkdir(parents=True, exist_ok=True)
            model = lleaves.Model(model_file=str(model_file))
            if cache.exists():
                model.compile(cache=str(cache), raw_score=True)
            else:
                # compile into a private file, then publish it atomically for other processes
                partial = cache.with_name(f".{cache.name}.{os.getpid()}.tmp")
                model.compile(cache=str(partial), raw_score=True)
                os.replace(partial, cache)
        except Exception as exc:  # any compiler failure falls back to LightGBM
            LOG.warning("compiling %s failed, scoring with LightGBM: %s", model_file, exc)
            return None
    return CompiledPredictor(model)

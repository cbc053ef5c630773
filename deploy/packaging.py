"""The Lambda container image: its build context, its tag, and the docker commands to build it.

Decision (docs/deploy.md): a container image, not a zip with layers. The handlers import pandas,
pyarrow, LightGBM, scikit-learn/SciPy, NumPy and DuckDB: about 0.5 GB installed, twice the
250 MB Lambda allows for a function's zip plus all its layers; an image may be 10 GB. One image
serves every function; each function's ``ImageConfig.Command`` names its handler.

Base ``public.ecr.aws/lambda/python:3.12`` (Amazon Linux 2023): the pinned NumPy/pandas wheels
need glibc 2.28+, which the Amazon Linux 2 based 3.11 image lacks; LightGBM needs ``libgomp``.

The context is built here without Docker (``fraudpipe package``); building and pushing it needs
Docker (``fraudpipe deploy`` runs :func:`image_commands`), or any machine/CI that has it.
"""

from __future__ import annotations

import hashlib
import shutil
import tomllib
from pathlib import Path

from deploy.errors import PackagingError

__all__ = [
    "BASE_IMAGE",
    "CODE_PACKAGES",
    "EXCLUDED_REQUIREMENTS",
    "build_context",
    "context_tag",
    "image_commands",
    "requirements",
]

ROOT = Path(__file__).resolve().parents[1]
BASE_IMAGE = "public.ecr.aws/lambda/python:3.12"
#: the source folders the handlers import (functions -> fraudpipe library; glue settings/SQL)
CODE_PACKAGES = ("functions", "fraudpipe", "glue", "statemachines")
#: runtime dependencies the handlers never import: moto is the local AWS stand-in, uvicorn the
#: local HTTP server (a test imports every handler with these blocked)
EXCLUDED_REQUIREMENTS = ("moto", "uvicorn")

_DOCKERFILE = f"""\
# fraudpipe Lambda image: one image, one function per handler (ImageConfig.Command)
FROM --platform=linux/amd64 {BASE_IMAGE}
RUN microdnf install -y libgomp && microdnf clean all
COPY requirements.txt ${{LAMBDA_TASK_ROOT}}/
RUN pip install --no-cache-dir --only-binary=:all: -r ${{LAMBDA_TASK_ROOT}}/requirements.txt \\
    --target ${{LAMBDA_TASK_ROOT}}
{{copy_code}}ENV FRAUDPIPE_BACKEND=aws MPLCONFIGDIR=/tmp/matplotlib
CMD ["functions.start_crawler.handler"]
"""
DOCKERFILE = _DOCKERFILE.replace("{copy_code}", "".join(
    f"COPY {name} ${{LAMBDA_TASK_ROOT}}/{name}\n" for name in CODE_PACKAGES))


def requirements(pyproject: Path = ROOT / "pyproject.toml") -> list[str]:
    """The pinned runtime dependencies, minus the ones the Lambda never imports."""
    project = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]
    pins = []
    for spec in project["dependencies"]:
        name = spec.split("[", 1)[0].split("=", 1)[0].strip().lower()
        if name in EXCLUDED_REQUIREMENTS:
            continue
        if "==" not in spec:
            raise PackagingError(f"dependency {spec!r} in pyproject.toml is not pinned (==)")
        pins.append(spec)
    return pins


def _copy_package(name: str, target: Path) -> None:
    source = ROOT / name
    if not source.is_dir():
        raise PackagingError(f"source folder {source} is missing")
    shutil.copytree(source, target / name,
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc", ".pytest_cache"))


def build_context(out_dir: Path) -> Path:
    """Write the image's build context (Dockerfile, requirements.txt, code) to ``out_dir``."""
    if out_dir.exists():
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True)
    (out_dir / "Dockerfile").write_text(DOCKERFILE, encoding="utf-8")
    (out_dir / "requirements.txt").write_text("\n".join(requirements()) + "\n",
                                              encoding="utf-8")
    for name in CODE_PACKAGES:
        _copy_package(name, out_dir)
    return out_dir


def context_tag(context: Path) -> str:
    """A tag that changes exactly when the context changes (so an update rolls out new code)."""
    digest = hashlib.sha256()
    for path in sorted(p for p in context.rglob("*") if p.is_file()):
        digest.update(path.relative_to(context).as_posix().encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def image_commands(context: Path, repository_uri: str, tag: str) -> list[list[str]]:
    """``docker build`` and ``docker push`` of the context (login is done with ECR's token)."""
    image = f"{repository_uri}:{tag}"
    return [
        ["docker", "build", "--platform", "linux/amd64", "--provenance=false", "-t", image,
         str(context)],
        ["docker", "push", image],
    ]

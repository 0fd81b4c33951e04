"""The real data the toolkit ships (provenance and licences: ``chaincomp/data/README.md``).

One resolver for every reader: :func:`data_dir` / :func:`data_file`. Order:

1. an explicit folder (a CLI option such as ``experiment --data DIR``, a function argument);
2. the ``CHAINCOMP_DATA`` environment variable (a folder with the same layout);
3. the copy shipped inside the package (this folder), unchanged from the public sources.

A folder given by 1 or 2 that does not exist, or lacks the requested file, is an error naming the
folder and where it came from — never a silent switch to the shipped copy.
"""

from __future__ import annotations

import os
from pathlib import Path

from chaincomp.errors import UsageError

ENV_VAR = "CHAINCOMP_DATA"
SHIPPED = Path(__file__).resolve().parent

RIPE_FILE = "ripe_atlas_eu_rtt.csv"
TRACE_FILE = "azure_llm_inference_2023_code.csv"
TOPOLOGIES = ("Abvt", "AttMpls", "Bellcanada", "GtsCe")
#: every shipped data file, relative to the data folder
FILES = (TRACE_FILE, RIPE_FILE) + tuple(f"topology/{t}.graph" for t in TOPOLOGIES)
#: SHA-256 of the public files as collected (the project's shared data folder); :func:`verify` checks them
SHA256 = {
    TRACE_FILE: "54e9a6d2a4bd06ba1e060304b900abbc74cbea53de96506e60fe5bb4f2277fb6",
    RIPE_FILE: "81328acf67d0deb76dec68de2cc3ce949f38d4f477087e20e221ad643e4cff4e",
    "topology/Abvt.graph": "c4c4886173b12213946494518af9deebb3cc53429ef934118ec00ce7144c865d",
    "topology/AttMpls.graph": "143e6c8fdf151a89a3d2d2c61195b936ea528777533106d6d7085b513d4ea3c6",
    "topology/Bellcanada.graph": "52180c0612f33e2cf5895e0b3ba23a80be30c6dc7c3a679c313b7e1a8972ec33",
    "topology/GtsCe.graph": "0065fa9cdab356f0ab379f4956d0aae6474555979f70ef677a6bc667851866d1",
}


def data_dir(path: str | Path | None = None) -> Path:
    """The data folder: ``path``, else ``$CHAINCOMP_DATA``, else the shipped copy."""
    if path is not None and str(path) != "":
        where, d = "given folder", Path(path)
    elif os.environ.get(ENV_VAR):
        where, d = f"${ENV_VAR}", Path(os.environ[ENV_VAR])
    else:
        return SHIPPED
    if not d.is_dir():
        raise UsageError(f"data folder {d} ({where}) not found; it should contain {RIPE_FILE}, {TRACE_FILE} and "
                         f"topology/*.graph (unset {ENV_VAR} / drop the option to use the copy shipped with chaincomp)")
    return d


def data_file(name: str, path: str | Path | None = None) -> Path:
    """One data file (e.g. :data:`TRACE_FILE`, ``"topology/GtsCe.graph"``) from :func:`data_dir`."""
    d = data_dir(path)
    f = d / name
    if not f.is_file():
        raise UsageError(f"{f}: no such data file in the data folder {d}")
    return f


def resolve(path: str | Path) -> Path:
    """A user-given data path: itself when it exists; else, when it is one of the shipped names
    (``ripe_atlas_eu_rtt.csv``, ``azure_llm_inference_2023_code.csv``, ``topology/GtsCe.graph`` …,
    relative, no other folder part), that file in :func:`data_dir`; else unchanged (the reader then
    reports it missing). So ``--trace azure_llm_inference_2023_code.csv`` works from any folder.
    """
    p = Path(path)
    if p.exists() or p.is_absolute():
        return p
    name = p.as_posix()
    if name in FILES or f"topology/{name}" in FILES:
        return data_file(name if name in FILES else f"topology/{name}")
    return p


def verify(path: str | Path | None = None) -> dict[str, bool]:
    """File → whether its SHA-256 matches the collected public file (missing files → False)."""
    import hashlib

    d = data_dir(path)
    return {name: (d / name).is_file() and hashlib.sha256((d / name).read_bytes()).hexdigest() == digest
            for name, digest in SHA256.items()}

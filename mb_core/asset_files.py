"""Asset values as readable JSON files: one file per asset per build under the storage root.

Both drivers share it: Dagster's IO manager writes through it, and the direct pipeline (used by the
benchmark and the replay comparison) reads the same files.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel

M = TypeVar("M", bound=BaseModel)


class AssetFiles:
    def __init__(self, root: Path):
        self.root = Path(root)

    def path(self, asset: str, partition: str) -> Path:
        return self.root / asset / f"{partition}.json"

    def write(self, asset: str, partition: str, value: BaseModel) -> Path:
        path = self.path(asset, partition)
        path.parent.mkdir(parents=True, exist_ok=True)
        # Write to a sibling temp file and rename: a reader never sees half a value.
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{partition}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                fh.write(value.model_dump_json(indent=2))
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path

    def read(self, asset: str, partition: str, model: type[M]) -> M | None:
        path = self.path(asset, partition)
        if not path.exists():
            return None
        return model.model_validate_json(path.read_text(encoding="utf-8"))

    def remove_partition(self, partition: str) -> None:
        if not self.root.exists():
            return
        for asset_dir in self.root.iterdir():
            (asset_dir / f"{partition}.json").unlink(missing_ok=True)

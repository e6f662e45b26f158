"""Resources shared by every domain: the build environment (settings + store) and the IO manager."""

from __future__ import annotations

import os
from functools import lru_cache

from dagster import ConfigurableIOManager, ConfigurableResource, InputContext, OutputContext
from pydantic import BaseModel

from mb_core.asset_files import AssetFiles
from mb_core.pipeline import BuildEnvironment
from mb_core.settings import Settings


@lru_cache(maxsize=8)
def _environment(settings_json: str) -> BuildEnvironment:
    return BuildEnvironment.open(Settings.model_validate_json(settings_json))


class MetaBuilderResource(ConfigurableResource):
    """Where builds live and the store. Unset fields come from MB_HOME / MB_DATABASE_URL."""

    home: str | None = None
    database_url: str | None = None

    def environment(self) -> BuildEnvironment:
        settings = Settings.from_env()
        if self.home:
            settings = Settings.from_env({**os.environ, "MB_HOME": self.home})
        if self.database_url:
            settings = settings.model_copy(update={"database_url": self.database_url})
        # Opened once per process and settings: migrating the store is not per-step work.
        return _environment(settings.model_dump_json())


class PydanticJsonIOManager(ConfigurableIOManager):
    """Asset values as readable JSON, one file per asset per partition (mb_core.asset_files)."""

    root: str | None = None

    def _files(self) -> AssetFiles:
        return AssetFiles(self.root or Settings.from_env().assets_dir)

    def handle_output(self, context: OutputContext, obj: BaseModel) -> None:
        if obj is None:
            return
        path = self._files().write(context.asset_key.path[-1], context.partition_key, obj)
        context.add_output_metadata({"path": str(path)})

    def load_input(self, context: InputContext) -> BaseModel:
        model = context.dagster_type.typing_type
        asset = context.asset_key.path[-1]
        partition = context.partition_key
        value = self._files().read(asset, partition, model)
        if value is None:
            raise FileNotFoundError(
                f"asset {asset} has no value for build {partition}: materialize it first"
            )
        return value

"""The app uvicorn imports (`mb serve`): one per worker process, configured from the environment."""

from mb_dagster.api.app import create_app

app = create_app()

"""Serves the generated application on a Unix socket, in a process of its own.

argv: project folder, socket path, info path, cases path. Writes the info file (a bearer token
of the project's admin role and one valid payload per probed entity, made with the project's own
factories) and then serves until it is stopped. Everything here runs the generated code: it is
the side the probes judge, never the side that keeps their results.
"""

import json
import logging
import sys
from pathlib import Path


def main(project: str, socket_path: str, info_path: str, cases_path: str) -> None:
    sys.path.insert(0, project)
    import uvicorn
    from app.db import Base
    from app.main import create_app
    from app.security import issue_token
    from app.settings import Settings
    from fastapi.testclient import TestClient

    work = Path(socket_path).parent
    settings = Settings(app_env="test", database_url=f"sqlite:///{work / 'probe.db'}",
                        secret_key="signing-key-of-the-builder-probe-run-only",
                        rate_limit_per_minute=0, log_level="DEBUG")
    application = create_app(settings)
    Base.metadata.create_all(application.state.database.engine)
    logging.basicConfig(level=logging.DEBUG, stream=sys.stderr, force=True)

    from tests import conftest

    role = getattr(conftest, "ADMIN", "admin")
    token = issue_token(settings, user_id="probe-user", role=role, tenant="probe-tenant")
    headers = {"Authorization": f"Bearer {token}"}
    cases = json.loads(Path(cases_path).read_text(encoding="utf-8"))
    client = TestClient(application)
    payloads = {entity: getattr(conftest, f"payload_{entity}")(client, headers)
                for entity, _path, _fields in cases}
    Path(info_path).write_text(json.dumps({"token": token, "payloads": payloads}, default=str),
                               encoding="utf-8")
    uvicorn.run(application, uds=socket_path, log_config=None, log_level="debug",
                access_log=True, lifespan="auto")


if __name__ == "__main__":
    main(*sys.argv[1:5])

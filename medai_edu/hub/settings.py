"""What one class hub is, in one JSON file that ``deploy/hub/jupyterhub_config.py`` reads."""

from __future__ import annotations

import json
import os
import re
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEFAULT_STATE = Path("/srv/medai-edu")
SETTINGS_ENV = "MEDAI_EDU_HUB_SETTINGS"
AUTHENTICATORS = ("firstuse", "dummy")
USERNAME = re.compile(r"^[a-z][a-z0-9_-]{0,30}$")


class HubError(RuntimeError):
    """The hub cannot be set up or started; the message says what to do."""


@dataclass
class HubSettings:
    """Everything the hub's config needs. ``root`` holds the hub state, exchange and shared cache."""

    root: Path = DEFAULT_STATE
    ip: str = "127.0.0.1"
    port: int = 8000  # the proxy: what users open
    hub_port: int = 0  # the hub's own API (127.0.0.1); 0: port + 1
    proxy_api_port: int = 0  # the proxy's API (127.0.0.1); 0: port + 2
    course: Path = REPO  # the installed course: course/ (lessons), solutions/, nbgrader_config.py
    course_id: str = "medai-edu"
    instructor: str = ""
    students: list[str] = field(default_factory=list)
    authenticator: str = "firstuse"  # "dummy" only in tests and load tests
    dummy_password: str = ""
    mem_limit: str = "2G"  # per user, enforced by a memory cgroup where one can be made
    cpu_limit: float = 1.0  # cores per user, enforced by a CPU cgroup quota where one can be made
    cull_timeout: int = 3600  # seconds idle before a server is stopped
    cull_every: int = 300
    python: str = sys.executable  # the course's Python (its venv holds jupyterhub-singleuser)
    proxy: str = str(REPO / ".venv" / "hub-proxy" / "node_modules" / ".bin" / "configurable-http-proxy")
    graded: bool = True  # students' self-checks only say "recorded" (MEDAI_EDU_GRADED=1)
    load_test_token: str = ""  # `medai-edu bench hub` only: an API service that starts and uses any server

    def __post_init__(self) -> None:
        self.root, self.course = Path(self.root), Path(self.course)
        if self.authenticator not in AUTHENTICATORS:
            raise HubError(f"authenticator must be one of {AUTHENTICATORS}, not {self.authenticator!r}")
        if self.authenticator == "dummy" and not self.dummy_password:
            raise HubError("the dummy authenticator (tests only) needs a dummy_password")
        for name in [self.instructor, *self.students]:
            if name and not USERNAME.match(name):
                raise HubError(f"user name {name!r}: expected lower-case letters, digits, '-' or '_' (a letter first)")

    # Folders derived from root.
    @property
    def state(self) -> Path:
        return self.root / "hub"

    @property
    def exchange(self) -> Path:
        return self.root / "exchange"

    @property
    def shared_cache(self) -> Path:
        return self.root / "cache"

    @property
    def path(self) -> Path:
        return self.state / "settings.json"

    def role_config(self, role: str) -> Path:
        """The Jupyter config folder of a role ('student' or 'instructor')."""
        return self.root / "jupyter" / role

    def instructor_course(self, home: Path) -> Path:
        return home / "medai-edu-course"

    @property
    def users(self) -> list[str]:
        return ([self.instructor] if self.instructor else []) + [s for s in self.students if s != self.instructor]

    def save(self) -> Path:
        self.state.mkdir(parents=True, exist_ok=True)
        data = {k: str(v) if isinstance(v, Path) else v for k, v in asdict(self).items()}
        self.path.write_text(json.dumps(data, indent=2) + "\n")
        os.chmod(self.path, 0o600)  # may hold a test password
        return self.path

    @classmethod
    def load(cls, path: Path | None = None) -> HubSettings:
        """From ``path``, else ``$MEDAI_EDU_HUB_SETTINGS``, else /srv/medai-edu/hub/settings.json."""
        path = Path(path or os.environ.get(SETTINGS_ENV) or DEFAULT_STATE / "hub" / "settings.json")
        if not path.exists():
            raise HubError(f"no hub settings at {path}: run `make hub` (or `medai-edu hub setup`) first")
        data = json.loads(path.read_text())
        known = cls.__dataclass_fields__
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise HubError(f"{path}: unknown settings {unknown}; expected some of {sorted(known)}")
        return cls(**data)

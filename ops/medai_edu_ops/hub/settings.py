"""What one class hub is, in one JSON file that ``deploy/hub/jupyterhub_config.py`` reads.

Who may log in is not here but in the account store (:mod:`.accounts`), which the hub reads at every
login, so that roster changes count without a restart."""

from __future__ import annotations

import json
import os
import re
import secrets
import ssl
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

from medai_edu_ops.course import ROOT as REPO

DEFAULT_STATE = Path("/srv/medai-edu")
SETTINGS_ENV = "MEDAI_EDU_HUB_SETTINGS"
# "codes": passwords set with a one-time sign-up code; "lti": launches from the learning platform.
AUTHENTICATORS = ("codes", "lti")
USERNAME = re.compile(r"^[a-z][a-z0-9_-]{0,30}$")
# Keys of the LTI 1.3 block (docs/hub.md, deploy/hub/lti.example.json); username_claim is optional.
LTI_KEYS = ("issuer", "client_id", "deployment_id", "key_set_url", "authorize_url")
LTI_USERNAME_CLAIM = "custom_username"  # the custom parameter username=$User.username
# Written by medai-edu before sign-up codes: dropped on load (the accounts now live in the account store).
LEGACY_KEYS = ("students", "dummy_password")


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
    authenticator: str = "codes"
    lti: dict = field(default_factory=dict)  # authenticator "lti": the platform's registration
    code_days: int = 14  # a sign-up code expires after this many days
    ssl_cert: str = ""  # HTTPS when both are given (the certificate chain and its private key, PEM)
    ssl_key: str = ""
    public_url: str = ""  # the address students open, printed on the sign-up sheets (default: ip and port)
    mem_limit: str = "2G"  # per user, enforced by a memory cgroup where one can be made
    cpu_limit: float = 1.0  # cores per user, enforced by a CPU cgroup quota where one can be made
    cull_timeout: int = 3600  # seconds idle before a server is stopped
    cull_every: int = 300
    python: str = sys.executable  # the course's Python (its venv holds jupyterhub-singleuser)
    kernel_python: str = str(REPO / ".venv" / "kernel" / "bin" / "python")  # every kernel's: the library alone
    proxy: str = str(REPO / ".venv" / "hub-proxy" / "node_modules" / ".bin" / "configurable-http-proxy")
    graded: bool = True  # students' self-checks only say "recorded" (MEDAI_EDU_GRADED=1)
    load_test_token: str = ""  # `medai-edu bench hub` only: an API service that starts and uses any server

    def __post_init__(self) -> None:
        self.root, self.course = Path(self.root), Path(self.course)
        if self.authenticator not in AUTHENTICATORS:
            raise HubError(f"authenticator must be one of {AUTHENTICATORS}, not {self.authenticator!r}")
        if self.instructor and not USERNAME.match(self.instructor):
            raise HubError(
                f"user name {self.instructor!r}: expected lower-case letters, digits, '-' or '_' (a letter first)"
            )
        if self.authenticator == "lti":
            self.lti = check_lti(self.lti)
        if bool(self.ssl_cert) != bool(self.ssl_key):
            raise HubError("HTTPS needs both a certificate (ssl_cert) and its private key (ssl_key); one was given")

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

    @property
    def kernel_specs(self) -> Path:
        """The Jupyter data folder of the kernels' environment (its kernelspecs), first on every server's JUPYTER_PATH."""
        return Path(self.kernel_python).parent.parent / "share" / "jupyter"

    def role_config(self, role: str) -> Path:
        """The Jupyter config folder of a role ('student' or 'instructor')."""
        return self.root / "jupyter" / role

    def instructor_course(self, home: Path) -> Path:
        return home / "medai-edu-course"

    @property
    def accounts_db(self) -> Path:
        return self.state / "accounts.sqlite"

    @property
    def api_port(self) -> int:
        """The hub's own port (its REST API), on 127.0.0.1."""
        return self.hub_port or self.port + 1

    @property
    def url(self) -> str:
        """The address users open (https when a certificate is set)."""
        return self.public_url.rstrip("/") or f"{'https' if self.ssl_cert else 'http'}://{self.ip}:{self.port}"

    def secret(self, name: str) -> str:
        """A random token kept in the state folder (mode 600), made at first use: the same for hub and CLI."""
        path = self.state / name
        if not path.exists():
            self.state.mkdir(parents=True, exist_ok=True)
            path.touch(mode=0o600)
            path.write_text(secrets.token_hex(32))
        return path.read_text().strip()

    def save(self) -> Path:
        self.state.mkdir(parents=True, exist_ok=True)
        data = {k: str(v) if isinstance(v, Path) else v for k, v in asdict(self).items()}
        self.path.write_text(json.dumps(data, indent=2) + "\n")
        os.chmod(self.path, 0o600)  # may hold the load test's token
        return self.path

    @classmethod
    def load(cls, path: Path | None = None) -> HubSettings:
        """From ``path``, else ``$MEDAI_EDU_HUB_SETTINGS``, else /srv/medai-edu/hub/settings.json."""
        path = Path(path or os.environ.get(SETTINGS_ENV) or DEFAULT_STATE / "hub" / "settings.json")
        if not path.exists():
            raise HubError(f"no hub settings at {path}: run `make hub` (or `medai-edu hub setup`) first")
        data = json.loads(path.read_text())
        known = cls.__dataclass_fields__
        for key in LEGACY_KEYS:
            data.pop(key, None)
        if data.get("authenticator") in ("firstuse", "dummy"):  # no longer offered: first-use passwords are claimable
            data["authenticator"] = "codes"
        unknown = sorted(set(data) - set(known))
        if unknown:
            raise HubError(f"{path}: unknown settings {unknown}; expected some of {sorted(known)}")
        return cls(**data)


def check_lti(block: dict) -> dict:
    """The LTI 1.3 block with its keys checked; a clear error names what is missing or unknown.

    ``client_id`` and ``deployment_id`` may be one value or a list (several registrations or deployments)."""
    if not isinstance(block, dict):
        raise HubError(f"the LTI settings must be a JSON object with the keys {LTI_KEYS}, not {type(block).__name__}")
    allowed = (*LTI_KEYS, "username_claim")
    unknown = sorted(set(block) - set(allowed))
    missing = [key for key in LTI_KEYS if not block.get(key)]
    if unknown or missing:
        found = [f"missing {missing}"] * bool(missing) + [f"unknown {unknown}"] * bool(unknown)
        raise HubError(
            f"LTI settings: {' and '.join(found)}; expected {list(LTI_KEYS)} (and optionally username_claim)"
        )
    text = {key: str(block[key]).strip() for key in allowed if key in block}
    for key in ("issuer", "key_set_url", "authorize_url"):
        if not text[key].startswith(("https://", "http://")):
            raise HubError(f"LTI settings: {key} {text[key]!r}: expected a URL (https://...)")
    checked: dict[str, str | list[str]] = {**text}
    for key in ("client_id", "deployment_id"):
        values = block[key] if isinstance(block[key], list) else [block[key]]
        checked[key] = [str(value).strip() for value in values if str(value).strip()]
    return checked


def check_certificate(cert: str, key: str) -> None:
    """Both files exist, belong together, and the key is readable by root only."""
    for path in (cert, key):
        if not Path(path).is_file():
            raise HubError(f"{path} does not exist: expected a PEM file (see docs/hub.md, 'HTTPS')")
    if Path(key).stat().st_mode & 0o077:
        raise HubError(f"the private key {key} is readable by other users: run `chmod 600 {key}`")
    try:
        ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(cert, key)
    except (ssl.SSLError, ValueError) as error:
        raise HubError(f"{cert} and {key} are not a certificate and its private key: {error}") from None

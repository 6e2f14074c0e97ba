"""A stand-in LTI 1.3 platform on 127.0.0.1 (what Moodle or Canvas does when a course member opens the tool).

It has its own RSA key pair and publishes the public key as a JSON Web Key Set. A launch goes as with a
real platform, in the browser:

1. ``GET /launch?user=anna&role=Learner`` on the platform: a page that posts the OIDC login initiation
   (iss, login_hint, target_link_uri, client_id, lti_deployment_id) to the hub;
2. the hub redirects the browser to the platform's ``/authorize`` with its nonce, state and redirect_uri;
3. the platform answers with a page that posts a signed id_token (and the state) to the hub's callback.

``mode`` makes the platform misbehave the way an attacker or a broken platform would: ``tampered``
(a learner's signed token whose role was edited afterwards), ``expired``, ``foreign-key`` (signed by
a key the platform does not publish), ``other-deployment``. Nothing leaves this machine.
"""

from __future__ import annotations

import html
import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlencode, urlparse

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

LTI = "https://purl.imsglobal.org/spec/lti/claim/"
ROLE = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
CLIENT_ID = "medai-edu-test-client"
DEPLOYMENT = "deployment-1"
MODES = ("good", "tampered", "expired", "foreign-key", "other-deployment")


def _key():
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


class Platform:
    """The stand-in platform, served from a thread; ``with Platform(hub_url) as platform: ...``."""

    def __init__(self, hub_url: str) -> None:
        self.hub_url = hub_url.rstrip("/")
        self.key, self.other_key = _key(), _key()
        self.kid = uuid.uuid4().hex[:8]
        self.pending: dict[str, dict] = {}  # login_hint -> who launches and how
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.url = f"http://127.0.0.1:{self.server.server_port}"

    @property
    def settings(self) -> dict:
        """The hub's LTI block for this platform (what the school's IT copies from the tool registration)."""
        return {
            "issuer": self.url,
            "client_id": CLIENT_ID,
            "deployment_id": DEPLOYMENT,
            "key_set_url": f"{self.url}/jwks",
            "authorize_url": f"{self.url}/authorize",
        }

    def launch_url(self, user: str, role: str, mode: str = "good") -> str:
        assert mode in MODES, mode
        return f"{self.url}/launch?{urlencode({'user': user, 'role': role, 'mode': mode})}"

    def __enter__(self) -> Platform:
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    # --- what the platform sends ------------------------------------------------------------------

    def jwks(self) -> dict:
        public = RSAAlgorithm.to_jwk(self.key.public_key(), as_dict=True)
        return {"keys": [{**public, "kid": self.kid, "alg": "RS256", "use": "sig"}]}

    def id_token(self, launch: dict, nonce: str) -> str:
        now = int(time.time())
        expired = launch["mode"] == "expired"
        claims = {
            "iss": self.url,
            "aud": CLIENT_ID,
            "sub": f"platform-user-{launch['user']}",
            "iat": now - 900 if expired else now,
            "exp": now - 600 if expired else now + 300,
            "nonce": nonce,
            "name": launch["user"].title(),
            LTI + "version": "1.3.0",
            LTI + "message_type": "LtiResourceLinkRequest",
            LTI + "deployment_id": "deployment-2" if launch["mode"] == "other-deployment" else DEPLOYMENT,
            LTI + "target_link_uri": f"{self.hub_url}/hub/",
            LTI + "resource_link": {"id": "medai-edu-lesson-00"},
            LTI + "context": {"id": "course-1", "label": "MEDAI", "title": "ML for medical images"},
            LTI + "roles": [ROLE + launch["role"]],
            LTI + "custom": {"username": launch["user"]},
        }
        key = self.other_key if launch["mode"] == "foreign-key" else self.key
        token = jwt.encode(claims, key, algorithm="RS256", headers={"kid": self.kid})
        if launch["mode"] != "tampered":
            return token
        header, _, signature = token.split(".")  # the learner makes themself instructor; the signature stays
        edited = {**claims, LTI + "roles": [ROLE + "Instructor"]}
        payload = jwt.utils.base64url_encode(json.dumps(edited).encode()).decode()
        return f"{header}.{payload}.{signature}"

    # --- HTTP ----------------------------------------------------------------------------------------

    def _handler(self):
        platform = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:  # quiet
                pass

            def _send(self, body: str, status: int = 200, kind: str = "text/html") -> None:
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", f"{kind}; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                url = urlparse(self.path)
                query = {k: v[0] for k, v in parse_qs(url.query).items()}
                if url.path == "/jwks":
                    return self._send(json.dumps(platform.jwks()), kind="application/json")
                if url.path == "/launch":
                    hint = uuid.uuid4().hex
                    platform.pending[hint] = query
                    fields = {
                        "iss": platform.url,
                        "login_hint": hint,
                        "target_link_uri": f"{platform.hub_url}/hub/",
                        "client_id": CLIENT_ID,
                        "lti_deployment_id": DEPLOYMENT,
                    }
                    return self._send(_autopost(f"{platform.hub_url}/hub/lti13/oauth_login", fields))
                if url.path == "/authorize":
                    launch = platform.pending.pop(query.get("login_hint", ""), None)
                    expected = {"response_type": "id_token", "scope": "openid", "client_id": CLIENT_ID}
                    wrong = {k: query.get(k) for k, v in expected.items() if query.get(k) != v}
                    if launch is None or wrong or not query.get("nonce") or not query.get("redirect_uri"):
                        return self._send(f"bad authentication request: {wrong or 'unknown login_hint'}", 400)
                    token = platform.id_token(launch, query["nonce"])
                    return self._send(_autopost(query["redirect_uri"], {"id_token": token, "state": query["state"]}))
                self._send("not found", 404)

        return Handler


def _autopost(action: str, fields: dict[str, str]) -> str:
    """A page that posts ``fields`` to ``action`` at once, as platforms do."""
    inputs = "".join(
        f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">' for k, v in fields.items()
    )
    return (
        f'<!DOCTYPE html><html><body><form method="post" action="{html.escape(action)}">{inputs}</form>'
        "<script>document.forms[0].submit()</script></body></html>"
    )

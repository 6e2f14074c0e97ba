"""Log-in from the learning platform (LTI 1.3), end to end, and the hub over HTTPS.

The class hub (the one ``make hub LTI=... SSL_CERT=... SSL_KEY=...`` runs) on free loopback ports,
serving HTTPS with a self-signed certificate made here, and set up for a stand-in LTI 1.3 platform
(tests/lti_platform.py: its own key pair and key set on 127.0.0.1). In Chromium: a learner's launch
lands in the learner's own JupyterLab, an instructor's in the instructor's; a tampered, an expired
or a foreign-signed token, a launch from another deployment and a learner who names themself after
the instructor are refused; the learner cannot reach any formgrader. Needs root and Chromium.
"""

from __future__ import annotations

import json
import os
import pwd
import re
import shutil
import ssl
import subprocess
import tempfile
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import pytest
from conftest import ROOT
from medai_edu_ops.browser import page as browser_page
from medai_edu_ops.browser.servers import free_port
from medai_edu_ops.hub import launch, lti, roster
from medai_edu_ops.hub.lti import LaunchRefused
from medai_edu_ops.hub.settings import HubSettings, check_lti
from test_browser import chromium  # noqa: F401 - the same Chromium fixture as the browser tests
from test_hub import ARTIFACTS, TIMEOUT_MS, install_course, missing, self_signed

PREFIX = "mdt" + uuid.uuid4().hex[:5]
INSTRUCTOR, LEARNER, LATECOMER = f"{PREFIX}i", f"{PREFIX}l", f"{PREFIX}m"
needs_hub = pytest.mark.skipif(missing is not None, reason=str(missing))


# --- which account a launch opens (no hub) ----------------------------------------------------------


@pytest.mark.parametrize(
    "roles, expected",
    [
        ([lti.INSTRUCTOR], "instructor"),
        ([lti.INSTRUCTOR + "#TeachingAssistant", lti.INSTRUCTOR], "instructor"),
        ([lti.LEARNER, "http://purl.imsglobal.org/vocab/lis/v2/institution/person#Student"], "student"),
        ([lti.LEARNER + "#Instructor"], "student"),  # a learner acting as instructor stays a learner
        ([lti.MEMBERSHIP + "Mentor"], None),
        (["http://purl.imsglobal.org/vocab/lis/v2/institution/person#Faculty"], None),  # no course role
        ([], None),
    ],
)
def test_platform_roles_map_to_hub_roles(roles, expected):
    if expected is None:
        with pytest.raises(LaunchRefused, match="instructors and learners"):
            lti.role_of({lti.ROLES: roles})
    else:
        assert lti.role_of({lti.ROLES: roles}) == expected


def test_deployment_user_name_and_account_name_rules():
    lti.check_deployment({lti.DEPLOYMENT: "7"}, ["3", "7"])
    with pytest.raises(LaunchRefused, match="deployment '8'"):
        lti.check_deployment({lti.DEPLOYMENT: "8"}, ["3", "7"])
    claims = {lti.CUSTOM: {"username": " Anna.Berg "}, "email": "anna@uni.example"}
    assert lti.platform_username(claims, "custom_username") == "Anna.Berg"
    assert lti.platform_username(claims, "email") == "anna@uni.example"
    with pytest.raises(LaunchRefused, match=r"username=\$User.username"):
        lti.platform_username({"sub": "123"}, "custom_username")  # no silent fall-back to an opaque id
    assert lti.account_name("Anna.Berg") == "anna-berg"
    assert lti.account_name("anna@uni.example") == "anna-uni-example"
    assert lti.account_name("20231234") == "u20231234"
    assert len(lti.account_name("x" * 80)) == 31


def test_a_learner_account_is_only_ever_for_one_platform_user(tmp_path):
    pytest.importorskip("ltiauthenticator", reason="the hub extra is not installed: run `make test`")
    from medai_edu_ops.hub.accounts import Accounts
    from medai_edu_ops.hub.auth import PlatformAuthenticator
    from medai_edu_ops.hub.settings import HubError

    accounts = Accounts(tmp_path / "accounts.sqlite")
    accounts.add("ann", "instructor")
    accounts.add("bob", "student")
    hub = PlatformAuthenticator(accounts_db=str(accounts.path), instructor="ann")
    hub._admit_learner("bob", "https://lms.example 17")
    hub._admit_learner("bob", "https://lms.example 17")  # the same platform user again
    with pytest.raises(HubError, match="belongs to another user of the learning platform"):
        hub._admit_learner("bob", "https://lms.example 18")
    with pytest.raises(LaunchRefused, match="instructor account"):
        hub._admit_learner("ann", "https://lms.example 19")
    with pytest.raises(LaunchRefused, match="did not make"):
        hub._admit_learner("daemon", "https://lms.example 20")  # an account on the machine, not the hub's
    accounts.remove("bob")
    with pytest.raises(LaunchRefused, match="removed you"):
        hub._admit_learner("bob", "https://lms.example 17")
    assert not hub.check_allowed("bob")
    with pytest.raises(ValueError, match="removed from the roster"):  # the hub forgets them at its next start
        hub.add_user(type("User", (), {"name": "bob"})())


# --- the hub over HTTPS, with the stand-in platform -------------------------------------------------


@pytest.fixture(scope="module")
def platform_hub():
    from lti_platform import Platform

    folder = Path(tempfile.mkdtemp(prefix="medai-lti-test-"))
    os.chmod(folder, 0o755)
    try:
        course = install_course(folder)
        cert, key = self_signed(folder)
        port = free_port()
        (folder / "roster.csv").write_text(f"username,role\n{INSTRUCTOR},instructor\n")
        with Platform(f"https://127.0.0.1:{port}") as platform:
            settings = HubSettings(
                root=folder / "srv",
                course=course,
                authenticator="lti",
                lti=platform.settings,
                ssl_cert=str(cert),
                ssl_key=str(key),
                port=port,
                hub_port=free_port(),
                proxy_api_port=free_port(),
            )
            launch.prepare(settings)
            added = roster.add_users(settings, folder / "roster.csv")
            assert not added.codes and not added.instructor_password  # LTI: the platform vouches for people
            launch.prepare(settings)
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            with launch.running_hub(settings, ARTIFACTS / "lti-hub.log", timeout=120) as base:
                yield base, settings, platform, cert
    finally:
        roster.delete_accounts([INSTRUCTOR, LEARNER, LATECOMER])
        shutil.rmtree(folder, ignore_errors=True)


def _page(browser, watch: browser_page.Watch):
    """A fresh browser profile (no cookies) that accepts the test certificate."""
    context = browser.new_context(ignore_https_errors=True, viewport={"width": 1280, "height": 900})
    page = context.new_page()
    watch.attach(context, page)
    page.set_default_timeout(120_000)
    return page


def _launch(page, platform, user: str, role: str, mode: str = "good"):
    """Open the tool from the platform; returns the hub's answer to the signed launch (the callback)."""
    with page.expect_response(lambda r: "/hub/lti13/oauth_callback" in r.url, timeout=TIMEOUT_MS) as callback:
        page.goto(platform.launch_url(user, role, mode))
    return callback.value


def _who(page, base: str) -> dict | None:
    response = page.request.get(f"{base}/hub/api/user")
    return response.json() if response.ok else None


@pytest.mark.slow
@needs_hub
def test_learner_and_instructor_launches_land_in_their_own_servers(platform_hub, chromium):  # noqa: F811
    base, settings, platform, _ = platform_hub
    watch = browser_page.Watch()
    learner = _page(chromium, watch)
    assert _launch(learner, platform, LEARNER, "Learner").status == 302
    learner.wait_for_url(f"**/user/{LEARNER}/lab**", timeout=TIMEOUT_MS)
    me = _who(learner, base)
    assert (me["name"], me["admin"]) == (LEARNER, False)
    server = subprocess.run(["pgrep", "-u", LEARNER, "-f", "jupyterhub-singleuser"], capture_output=True)
    assert server.stdout.split(), "the learner's server does not run as the learner's own account"

    teacher = _page(chromium, watch)
    assert _launch(teacher, platform, "dr-who-on-the-platform", "Instructor").status == 302
    teacher.wait_for_url(f"**/user/{INSTRUCTOR}/lab**", timeout=TIMEOUT_MS)
    me = _who(teacher, base)
    assert (me["name"], me["admin"]) == (INSTRUCTOR, True)
    assert teacher.request.get(f"{base}/user/{INSTRUCTOR}/formgrader").status == 200, "control: the formgrader"

    own = learner.request.get(f"{base}/user/{LEARNER}/formgrader", max_redirects=0)
    assert own.status == 404, f"the learner's server offers the formgrader: HTTP {own.status}"
    theirs = learner.request.get(f"{base}/user/{INSTRUCTOR}/formgrader")
    assert theirs.status == 403, f"the learner reached the instructor's formgrader: HTTP {theirs.status}"
    browser_page.screenshot(learner, ARTIFACTS / "lti-learner.png")
    assert not watch.offsite, f"pages reached off this machine: {watch.offsite[:5]}"


@needs_hub
@pytest.mark.parametrize(
    "user, role, mode, status, says",
    [
        (LATECOMER, "Learner", "tampered", 400, "Signature verification failed"),
        (LATECOMER, "Learner", "expired", 400, "expired"),
        (LATECOMER, "Learner", "foreign-key", 400, "Signature verification failed"),
        (LATECOMER, "Learner", "other-deployment", 403, "deployment"),
        (INSTRUCTOR, "Learner", "good", 403, "instructor account"),  # a learner named like the instructor
        (LATECOMER, "Mentor", "good", 403, "instructors and learners"),
    ],
)
def test_bad_launches_are_refused(platform_hub, chromium, user, role, mode, status, says):  # noqa: F811
    base, _, platform, _ = platform_hub
    page = _page(chromium, browser_page.Watch())
    answer = _launch(page, platform, user, role, mode)
    assert answer.status == status, f"{mode} launch of {user} as {role}: HTTP {answer.status}"
    assert says in page.locator("body").inner_text()
    assert _who(page, base) is None, "a refused launch left a hub session"
    with pytest.raises(KeyError):
        pwd.getpwnam(LATECOMER)  # no account made for a refused launch


@needs_hub
def test_https_with_the_given_certificate_and_a_page_for_direct_visitors(platform_hub):
    base, _, _, cert = platform_hub
    assert base.startswith("https://")
    trusted = ssl.create_default_context(cafile=str(cert))
    with urllib.request.urlopen(f"{base}/hub/login", context=trusted, timeout=30) as answer:
        assert answer.status == 200
    with pytest.raises(urllib.error.URLError, match="CERTIFICATE_VERIFY_FAILED"):
        urllib.request.urlopen(f"{base}/hub/login", context=ssl.create_default_context(), timeout=30)
    with pytest.raises((OSError, ConnectionError)):  # no plain HTTP on the hub's port
        urllib.request.urlopen(base.replace("https://", "http://") + "/hub/login", timeout=30).read()
    with pytest.raises(urllib.error.HTTPError) as opened:  # someone opens the hub, not the platform
        urllib.request.urlopen(f"{base}/hub/lti13/oauth_login", context=trusted, timeout=30)
    assert opened.value.code == 400 and b"from your learning platform" in opened.value.read()


def test_the_documented_lti_block_is_the_template_and_the_hub_accepts_it():
    docs = (ROOT / "docs" / "hub.md").read_text()
    block = json.loads(re.search(r"```json\n(\{.*?\})\n```", docs, re.S).group(1))
    template = json.loads((ROOT / "deploy" / "hub" / "lti.example.json").read_text())
    assert block == template, "docs/hub.md's LTI block and deploy/hub/lti.example.json differ"
    checked = check_lti(template)
    assert checked["client_id"] == [template["client_id"]] and checked["deployment_id"] == ["3"]

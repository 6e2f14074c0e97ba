"""LTI 1.3 launches from the learning platform (Moodle, Canvas, ...): which hub account a launch opens.

jupyterhub-ltiauthenticator checks the id_token (signature against the platform's key set, issuer,
audience = our client id, expiry, age, nonce, state). What a valid launch may do is decided here:

- the launch must come from one of the configured deployments (the authenticator does not check it);
- the platform's Instructor role (or one of its sub-roles) opens the hub's instructor account;
- the Learner role opens the student's own account, named after the platform's user name claim;
- any other role, a learner whose name is the instructor's, or a name bound to another platform user
  is refused.
"""

from __future__ import annotations

import re

from medai_edu_ops.hub.settings import USERNAME

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
ROLES = CLAIM + "roles"
DEPLOYMENT = CLAIM + "deployment_id"
CUSTOM = CLAIM + "custom"
MEMBERSHIP = "http://purl.imsglobal.org/vocab/lis/v2/membership#"
INSTRUCTOR = MEMBERSHIP + "Instructor"
LEARNER = MEMBERSHIP + "Learner"


class LaunchRefused(Exception):
    """A valid launch this hub does not let in; the message says why."""


def _has_role(roles: list[str], principal: str) -> bool:
    return any(role == principal or role.startswith(principal + "#") for role in roles)


def role_of(claims: dict) -> str:
    """'instructor' or 'student' from the launch's course roles; other roles are refused."""
    roles = claims.get(ROLES) or []
    if not isinstance(roles, list):
        roles = [roles]
    if _has_role(roles, INSTRUCTOR):
        return "instructor"
    if _has_role(roles, LEARNER):
        return "student"
    raise LaunchRefused(
        "this hub lets in the course's instructors and learners; the learning platform sent the roles "
        f"{roles or 'none'}"
    )


def check_deployment(claims: dict, deployments: list[str]) -> None:
    deployment = claims.get(DEPLOYMENT)
    if deployment not in deployments:
        raise LaunchRefused(
            f"this launch comes from the deployment {deployment!r}, not from the one this hub is set up for "
            f"({', '.join(deployments)}): ask the school's IT to check the hub's LTI settings"
        )


def platform_username(claims: dict, claim: str) -> str:
    """The user name the platform sent in ``claim`` (``custom_x``: the custom parameter ``x``)."""
    source = (claims.get(CUSTOM) or {}) if claim.startswith("custom_") else claims
    value = source.get(claim.removeprefix("custom_")) if isinstance(source, dict) else None
    if not isinstance(value, str) or not value.strip():
        raise LaunchRefused(
            f"the learning platform sent no user name in {claim!r}: the school's IT adds the custom parameter "
            "username=$User.username to the tool (docs/hub.md, 'Log-in from the learning platform')"
        )
    return value.strip()


def account_name(platform_name: str) -> str:
    """A local account name for a platform user name: lower case; other characters become '-'; a letter first.

    Two platform names can map to the same account name ('anna.berg', 'anna-berg'); the account store
    binds each account to one platform user, so the second is refused rather than let in."""
    name = re.sub(r"[^a-z0-9_-]", "-", platform_name.lower())
    if not name[:1].isalpha():
        name = "u" + name
    name = name[:31]
    if not USERNAME.match(name):  # cannot happen after the mapping; kept as the account rule's guard
        raise LaunchRefused(f"the platform user name {platform_name!r} gives no valid account name")
    return name


def platform_identity(claims: dict) -> str:
    """Who the platform says this is, for good: its issuer and the user's subject id."""
    return f"{claims.get('iss')} {claims.get('sub')}"

"""The class hub's two ways in, as JupyterHub authenticators (imported only by the hub process).

- :class:`CodeAuthenticator`: user name and password; a student sets their password once at
  ``/hub/signup`` with the one-time code from their slip; the instructor's is set at set-up.
- :class:`PlatformAuthenticator`: LTI 1.3 launches from the learning platform
  (jupyterhub-ltiauthenticator checks the signed id_token; :mod:`.lti` decides which account it opens).

Both read the account store (:mod:`.accounts`) at every login and every minute of a session, so a
student added with ``add-users`` gets in at once and a removed one is out at once.
"""

from __future__ import annotations

import asyncio
import pwd
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from jupyterhub.auth import Authenticator
from jupyterhub.handlers import BaseHandler
from ltiauthenticator.lti13.auth import LTI13Authenticator
from ltiauthenticator.lti13.handlers import LTI13LoginInitHandler
from tornado import web
from traitlets import List, Unicode

from medai_edu_ops.hub import lti
from medai_edu_ops.hub.accounts import Accounts, SignupError
from medai_edu_ops.hub.roster import ensure_account
from medai_edu_ops.hub.settings import HubError

if TYPE_CHECKING:
    from jupyterhub.app import JupyterHub
    from jupyterhub.user import User

T = TypeVar("T")


async def _in_thread(function: Callable[..., T], *args: Any) -> T:
    """Blocking work (scrypt hashes, SQLite, useradd) off the hub's event loop."""
    return await asyncio.get_running_loop().run_in_executor(None, partial(function, *args))


class _RosterAuthenticator(Authenticator):
    """The roster check both ways in share: the account store decides who is in, at login and every minute."""

    accounts_db = Unicode(help="the hub's account store (medai_edu_ops.hub.accounts)").tag(config=True)
    instructor = Unicode(help="the hub's instructor account (the hub admin)").tag(config=True)

    @property
    def accounts(self) -> Accounts:
        return Accounts(Path(self.accounts_db))

    def check_allowed(self, username: str, authentication: dict | None = None) -> bool:
        return self.accounts.allowed(username)

    async def refresh_user(self, user: User, handler: BaseHandler | None = None) -> bool:
        """A removed student's session ends at their next request (auth_refresh_age)."""
        return await _in_thread(self.accounts.allowed, user.name)

    def add_user(self, user: User) -> None:
        """At start-up the hub forgets students removed while it was down (delete_invalid_users)."""
        member = self.accounts.member(user.name)
        if member is not None and member.removed:
            raise ValueError(f"{user.name} was removed from the roster")
        return super().add_user(user)


class CodeAuthenticator(_RosterAuthenticator):
    """User name and password from the account store, plus the sign-up page for one-time codes."""

    async def authenticate(self, handler: BaseHandler, data: dict) -> dict | None:
        name = self.normalize_username(data.get("username", "").strip())
        if not await _in_thread(self.accounts.check_password, name, data.get("password", "")):
            return None
        return {"name": name, "admin": name == self.instructor}

    def get_handlers(self, app: JupyterHub) -> list[tuple[str, type[BaseHandler]]]:
        return [*super().get_handlers(app), ("/signup", SignupHandler)]


class SignupHandler(BaseHandler):
    """``/hub/signup``: user name + one-time code + a new password -> the student's password is set, and in."""

    async def _page(self, status: int = 200, **values: str) -> None:
        self.set_status(status)
        self.finish(await self.render_template("signup.html", **{"username": "", "error": "", **values}))

    async def get(self) -> None:
        await self._page()

    async def post(self) -> None:
        name = self.authenticator.normalize_username(self.get_body_argument("username", "").strip())
        code = self.get_body_argument("code", "")
        password = self.get_body_argument("password", "")
        if password != self.get_body_argument("password_repeat", ""):
            return await self._page(400, username=name, error="The two passwords differ: type the same one twice.")
        try:
            await _in_thread(self.authenticator.accounts.redeem, name, code, password)
        except SignupError as error:
            self.log.warning("Sign-up refused for %r: %s", name, error)
            return await self._page(403, username=name, error=str(error))
        user = await self.login_user({"username": name, "password": password})
        if user is None:  # the roster changed in between
            return await self._page(403, username=name, error="Your account is not on the class roster any more.")
        self.log.info("%s signed up with their code", name)
        self.redirect(self.get_next_url(user))


class PlatformLoginInitHandler(LTI13LoginInitHandler):
    """The LTI login initiation; opened directly (not from the platform) it says where to start instead."""

    async def post(self) -> None:
        if not self.get_argument("iss", ""):
            self.set_status(400)
            return self.finish(await self.render_template("platform_login.html"))
        return super().post()

    get = post


class PlatformAuthenticator(_RosterAuthenticator, LTI13Authenticator):
    """LTI 1.3: the platform's instructors open the instructor's account, its learners their own."""

    login_handler = PlatformLoginInitHandler
    deployment_ids = List(Unicode(), help="the platform's deployment id(s) of this tool").tag(config=True)

    async def authenticate(self, handler: BaseHandler, data: dict | None = None) -> dict:
        claims = data or {}
        try:
            lti.check_deployment(claims, self.deployment_ids)
            role = lti.role_of(claims)
            if role == "instructor":
                if not self.instructor:
                    raise lti.LaunchRefused("this hub has no instructor account yet: run `medai-edu hub add-users`")
                name = self.instructor
            else:
                name = lti.account_name(lti.platform_username(claims, self.username_key))
                await _in_thread(self._admit_learner, name, lti.platform_identity(claims))
        except (lti.LaunchRefused, HubError) as error:
            self.log.warning("LTI launch refused (%s): %s", lti.platform_identity(claims), error)
            raise web.HTTPError(403, str(error)) from None
        self.log.info("LTI launch of %s as %s (%s)", lti.platform_identity(claims), name, role)
        return {"name": name, "admin": role == "instructor"}

    def _admit_learner(self, name: str, identity: str) -> None:
        """The learner's account: made at their first launch; only ever for the same platform user."""
        if name == self.instructor:
            raise lti.LaunchRefused(f"{name!r} is the name of this hub's instructor account, not a learner's")
        member = self.accounts.member(name)
        if member is None:
            try:
                pwd.getpwnam(name)
            except KeyError:
                ensure_account(name)
            else:
                raise lti.LaunchRefused(
                    f"this machine has an account {name!r} that the hub did not make: the school's IT must add it "
                    "to the roster (medai-edu hub add-users) if it is this learner's"
                )
            self.accounts.add(name, "student")
        elif member.removed:
            raise lti.LaunchRefused("your instructor removed you from this course's hub")
        elif member.role != "student":
            raise lti.LaunchRefused(f"{name!r} is not a student account on this hub")
        self.accounts.bind_platform(name, identity)

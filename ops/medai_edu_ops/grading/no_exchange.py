"""The formgrader without nbgrader's exchange, for a course handed out and collected on a learning platform.

nbgrader's formgrader lists the exchange (``/usr/local/share/nbgrader/exchange``) on every page it
serves; where there is none it logs "Unwritable directory, please contact your instructor", which
is harmless but alarming. ``make formgrader`` passes ``--ExchangeFactory.list=`` this class: it
says "no exchange" quietly, so the formgrader grades as usual and only its "release" and "collect"
buttons are off (the platform does that: ``medai-edu collect``). A hub with an exchange keeps
nbgrader's own.
"""

from __future__ import annotations

from nbgrader.exchange import ExchangeError
from nbgrader.exchange.default.list import ExchangeList


class NoExchangeList(ExchangeList):
    """An exchange listing that reports the exchange as absent, without logging an error."""

    def start(self) -> None:
        raise ExchangeError("no exchange: assignments are handed out and collected on a learning platform")

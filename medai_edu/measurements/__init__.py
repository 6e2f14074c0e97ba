"""Shipped measurements that the lessons quote: each lesson benchmark's result as JSON.

``medai-edu bench toy|brain|uncertainty|referral --json PATH`` measures them; the claims tests
(:mod:`medai_edu.claims`) check every sentence of the lessons against these files.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["MEASUREMENTS_DIR"]

MEASUREMENTS_DIR = Path(__file__).resolve().parent

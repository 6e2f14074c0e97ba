"""Which lesson statements grading needs: those whose names answers and tests use.

Lesson cells also draw figures, open widgets, check the machine and show tables; none of that
decides a grade. Grading runs, from the lesson's own (trusted) cells, only the top-level
statements that bind a name that a later answer or test uses (transitively), and the lesson's
start (quick mode, seeds). Everything is decided from the source, before any student code runs:
the sandbox gets what the answers need, the judge what the tests need.
"""

from __future__ import annotations

import ast
import copy
import re
from dataclasses import dataclass, field

# Statements kept whatever they bind: the lesson's start (quick mode, seeds).
ALWAYS = ("notebook.start(",)


@dataclass
class Statement:
    source: str
    binds: set[str] = field(default_factory=set)
    uses: set[str] = field(default_factory=set)


def names_used(tree: ast.AST) -> set[str]:
    """Every name read anywhere in ``tree`` (function bodies included: an over-approximation)."""
    return {node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)}


def names_bound(node: ast.stmt) -> set[str]:
    """Names a top-level statement binds in the notebook's namespace."""
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return {(alias.asname or alias.name).split(".")[0] for alias in node.names}
    bound = set()
    for child in ast.walk(node):
        if isinstance(child, ast.Name) and isinstance(child.ctx, (ast.Store, ast.Del)):
            bound.add(child.id)
    return bound


def statements(source: str) -> list[Statement]:
    """The top-level statements of a cell (plain Python) with what they bind and use.

    An import of several names becomes one statement per name, so that only the modules that
    are needed are imported (``from medai_edu import checks, viz`` need not load matplotlib).
    """
    result = []
    for node in ast.parse(source).body:
        if isinstance(node, (ast.Import, ast.ImportFrom)) and len(node.names) > 1:
            for alias in node.names:
                single = copy.copy(node)
                single.names = [alias]
                result.append(Statement(ast.unparse(single), names_bound(single), set()))
            continue
        segment = ast.get_source_segment(source, node, padded=True) or ""
        result.append(Statement(segment, names_bound(node), names_used(node)))
    return result


IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def identifiers(source: str) -> set[str]:
    """Every identifier-like word in ``source``: a safe over-approximation of the names a cell uses,
    whatever it contains (IPython magics, syntax errors), found without parsing it."""
    return set(IDENTIFIER.findall(source))


def cell_names(source: str) -> tuple[set[str], set[str]]:
    """(bound, used) names of a whole cell; empty sets when it is not valid Python."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return set(), set()
    bound = set().union(*(names_bound(node) for node in tree.body)) if tree.body else set()
    return bound, names_used(tree)


def select(trusted: list[list[Statement]], later_uses: list[set[str]]) -> list[list[Statement]]:
    """Keep the statements of each trusted cell that later code needs.

    ``trusted[i]`` are cell i's statements (empty for cells that are not trusted lesson code);
    ``later_uses[i]`` the names that cell i itself uses when it is an answer or a test (it always runs).
    Walks backwards, so a statement is kept when a kept statement or a running cell after it needs it.
    """
    needed: set[str] = set()
    kept: list[list[Statement]] = [[] for _ in trusted]
    for i in range(len(trusted) - 1, -1, -1):
        needed |= later_uses[i]
        for statement in reversed(trusted[i]):
            keep = (statement.binds & needed) or any(marker in statement.source for marker in ALWAYS)
            if keep:
                kept[i].insert(0, statement)
                needed |= statement.uses
    return kept

"""How much of each module is argument checking: check lines / code lines, per file of src/seqnn.

Code lines are the lines of statements, without docstrings, comments or blank
lines. A check is an ``if`` whose body only raises (all its lines), or a
statement that calls a ``check_*`` / ``_check*`` function (all its lines).

    python scripts/check_lines.py [FILE ...]      # default: every module of src/seqnn and its folders
"""

from __future__ import annotations

import ast
import io
import sys
import tokenize
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "seqnn"


def code_lines(source: str) -> set[int]:
    """Lines that hold code: not blank, not only a comment, not part of a docstring."""
    tree = ast.parse(source)
    docstrings = set()
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.Expr) and \
                isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str):
            docstrings.update(range(body[0].lineno, body[0].end_lineno + 1))
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str):
            docstrings.update(range(node.lineno, node.end_lineno + 1))     # attribute docstrings
    lines = set()
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type not in (tokenize.COMMENT, tokenize.NL, tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT,
                              tokenize.ENDMARKER):
            lines.update(range(token.start[0], token.end[0] + 1))
    return lines - docstrings


def _is_check_call(node) -> bool:
    return isinstance(node, ast.Call) and (
        (isinstance(node.func, ast.Name) and (node.func.id.startswith("check_") or node.func.id.startswith("_check")))
        or (isinstance(node.func, ast.Attribute) and node.func.attr.startswith(("check_", "_check"))))


def check_lines(source: str) -> set[int]:
    lines = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.If) and not node.orelse and all(isinstance(s, ast.Raise) for s in node.body):
            lines.update(range(node.lineno, node.end_lineno + 1))
        elif isinstance(node, ast.stmt) and not isinstance(node, (ast.If, ast.For, ast.While, ast.With, ast.Try,
                                                                      ast.FunctionDef, ast.ClassDef)):
            if any(_is_check_call(n) for n in ast.walk(node)):
                lines.update(range(node.lineno, node.end_lineno + 1))
    return lines


def main(paths) -> None:
    paths = [Path(p).resolve() for p in paths] or sorted(PACKAGE.rglob("*.py"))
    print(f"{'file':34} {'checks':>7} {'code':>6} {'share':>6}")
    total_checks = total_code = 0
    for path in paths:
        source = path.read_text()
        code = code_lines(source)
        checks = check_lines(source) & code
        total_checks, total_code = total_checks + len(checks), total_code + len(code)
        name = str(path.relative_to(PACKAGE)) if path.is_relative_to(PACKAGE) else path.name
        print(f"{name:34} {len(checks):7} {len(code):6} {len(checks) / max(len(code), 1):6.1%}")
    print(f"{'all':34} {total_checks:7} {total_code:6} {total_checks / max(total_code, 1):6.1%}")


if __name__ == "__main__":
    main(sys.argv[1:])

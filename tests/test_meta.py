"""Tests of the tests: two kinds of assertion that pass whatever the code does are refused.

1. A test whose every check is an HTTP status. A 404 that leaks the hidden object's name, a 400 on the
   wrong field, a 302 to the wrong page or a 403 after the row was changed anyway all keep their
   status: each test also checks something of the content (body, message, database, e-mail).
   The rare honest exception says so on its ``def`` line: ``# status-only: <reason>``.
2. ``assert count >= 0`` (or ``len(x) >= 0``, ``0 <= n``): a count or a length is never negative.

Reads the source with ``ast`` (nothing is imported or run), so it judges every ``tests/test_*.py``,
new files included, in a few milliseconds.
"""

import ast
import re
import textwrap
from pathlib import Path

import pytest

TESTS = Path(__file__).resolve().parent
OPT_OUT = re.compile(r"#\s*status-only:\s*\S")
# Calls that check something themselves: pytest.raises/warns, assert_revoked(...), Playwright's expect(...).
CHECKING_CALL = re.compile(r"^(assert|expect)|^(raises|warns|deprecated_call)$")
# What a ">= 0" can only be about if it cannot fail: a count or a length.
COUNT_LIKE = re.compile(r"count|len|total|number|num_|size|delivered|sent|rows", re.IGNORECASE)


def _call_name(node: ast.Call) -> str:
    func = node.func
    if isinstance(func, ast.Attribute):
        return func.attr
    if isinstance(func, ast.Name):
        return func.id
    return ""


def _mentions_status(node: ast.AST) -> bool:
    return any(isinstance(n, ast.Attribute) and n.attr == "status_code" for n in ast.walk(node))


def _conjuncts(expr: ast.expr) -> list[ast.expr]:
    """``a and (b and c)`` → [a, b, c]: each part of an ``and`` is a check of its own."""
    if isinstance(expr, ast.BoolOp) and isinstance(expr.op, ast.And):
        return [part for value in expr.values for part in _conjuncts(value)]
    return [expr]


def _checks(function: ast.FunctionDef) -> list[tuple[bool, int]]:
    """Every check in the test as (status only?, line): assert statements and checking calls."""
    checks = []
    for node in ast.walk(function):
        if isinstance(node, ast.Assert):
            checks.append((all(_mentions_status(part) for part in _conjuncts(node.test)), node.lineno))
        elif isinstance(node, ast.Call) and CHECKING_CALL.search(_call_name(node)):
            arguments = [*node.args, *(k.value for k in node.keywords)]
            checks.append((any(_mentions_status(a) for a in arguments), node.lineno))
    return checks


def _test_functions(tree: ast.Module):
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test_"):
            yield node


def _opted_out(function: ast.FunctionDef, lines: list[str]) -> bool:
    """The opt-out comment sits on the ``def`` line (or the signature's continuation lines)."""
    signature = lines[function.lineno - 1 : function.body[0].lineno - 1] or [lines[function.lineno - 1]]
    return any(OPT_OUT.search(line) for line in signature)


def status_only_tests(source: str) -> list[str]:
    """Names of the test functions whose checks are all HTTP statuses (and that did not opt out)."""
    tree, lines = ast.parse(source), source.splitlines()
    found = []
    for function in _test_functions(tree):
        checks = _checks(function)
        if checks and all(status_only for status_only, _ in checks) and not _opted_out(function, lines):
            found.append(f"{function.name} (line {function.lineno})")
    return found


def _never_negative(compare: ast.Compare) -> ast.expr | None:
    """The side of ``x >= 0`` / ``0 <= x`` / ``x > -1`` that is compared with zero, else None."""
    if len(compare.ops) != 1:
        return None  # 0 <= n <= 5 can fail on its upper bound
    left, op, right = compare.left, compare.ops[0], compare.comparators[0]

    def constant(node, value):
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
            return isinstance(node.operand, ast.Constant) and node.operand.value == -value
        return isinstance(node, ast.Constant) and node.value == value and not isinstance(node.value, bool)

    if (isinstance(op, ast.GtE) and constant(right, 0)) or (isinstance(op, ast.Gt) and constant(right, -1)):
        return left
    if (isinstance(op, ast.LtE) and constant(left, 0)) or (isinstance(op, ast.Lt) and constant(left, -1)):
        return right
    return None


def never_failing_asserts(source: str) -> list[str]:
    """``assert <count or length> >= 0`` and its spellings: true of every count, so it tests nothing."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Assert):
            continue
        for compare in (n for n in ast.walk(node.test) if isinstance(n, ast.Compare)):
            side = _never_negative(compare)
            if side is not None and COUNT_LIKE.search(ast.unparse(side)):
                found.append(f"line {node.lineno}: assert {ast.unparse(node.test)}")
    return found


TEST_FILES = sorted(TESTS.glob("test_*.py"))


@pytest.mark.parametrize("path", TEST_FILES, ids=[p.name for p in TEST_FILES])
def test_no_test_checks_only_the_status_code(path):
    offenders = status_only_tests(path.read_text(encoding="utf-8"))
    assert not offenders, (
        f"{path.name}: these tests check only HTTP status codes; also check the content (message, field, "
        f"database, e-mail) or mark the def line '# status-only: <reason>': {offenders}"
    )


@pytest.mark.parametrize("path", TEST_FILES, ids=[p.name for p in TEST_FILES])
def test_no_assert_that_a_count_is_not_negative(path):
    offenders = never_failing_asserts(path.read_text(encoding="utf-8"))
    assert not offenders, f"{path.name}: a count or length is never negative, so these cannot fail: {offenders}"


# --- The checker itself: each rule catches what it should and nothing more --------------------------


def _source(text: str) -> str:
    return textwrap.dedent(text).strip() + "\n"


def test_the_checker_finds_status_only_tests():
    source = _source(
        """
        def test_bare(client):
            assert client.get("/x/").status_code == 404

        def test_both_sides_of_an_and_are_statuses(client):
            r = client.get("/x/")
            assert r.status_code == 302 and r.status_code != 200, "message text is not a check"
            self.assertEqual(r.status_code, 302)

        def test_with_content(client):
            r = client.get("/x/")
            assert r.status_code == 302 and r["Location"] == "/login/?next=/x/"

        def test_with_a_helper_that_checks(client):
            assert client.get("/x/").status_code == 200
            assert_revoked(client)

        def test_with_raises(client):
            assert client.get("/x/").status_code == 200
            with pytest.raises(ValueError):
                int("x")

        def test_opted_out(client):  # status-only: the body is Django's, nothing of ours to check
            assert client.get("/x/").status_code == 405

        def helper_not_a_test(client):
            assert client.get("/x/").status_code == 200

        def test_without_asserts(page):
            expect(page.get_by_role("heading")).to_have_text("Vendors")
        """
    )
    assert status_only_tests(source) == [
        "test_bare (line 1)",
        "test_both_sides_of_an_and_are_statuses (line 4)",
    ]


def test_an_opt_out_needs_a_reason():
    source = _source(
        """
        def test_bare(client):  # status-only:
            assert client.get("/x/").status_code == 404
        """
    )
    assert status_only_tests(source) == ["test_bare (line 1)"]


def test_the_checker_finds_counts_compared_with_zero():
    source = _source(
        """
        def test_it(rows):
            assert len(rows) >= 0
            assert Thing.objects.count() >= 0
            assert 0 <= delivered
            assert result["count"] > -1
            assert isinstance(n, int) and total >= 0
            assert len(rows) >= 1
            assert 0 <= len(rows) <= 5
            assert temperature >= 0
            assert count == 0
        """
    )
    assert [line.split(":")[0] for line in never_failing_asserts(source)] == [
        "line 2",
        "line 3",
        "line 4",
        "line 5",
        "line 6",
    ]

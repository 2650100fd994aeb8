"""A small, safe expression language for fees, guards and conditions in service definitions.

Expressions are parsed with :mod:`ast` and only a whitelist of node types is accepted; they are
evaluated by walking that tree, never with ``eval``. Numbers are :class:`~decimal.Decimal`
(money is never a float), so ``0.1 + 0.2 == 0.3`` holds.

Accepted: numbers, strings, ``True``/``False``, field names, ``+ - * / // %``, unary ``-``/``+``,
comparisons (``== != < <= > >=``, chained), ``and``/``or``/``not``, ``a if cond else b``,
``min``/``max``/``round``/``abs``, and ``in``/``not in`` with a literal list or tuple.
"""

from __future__ import annotations

import ast
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_FLOOR, ROUND_HALF_UP, Decimal, DecimalException, localcontext
from typing import Any, Literal

Value = Decimal | str | bool
TypeName = Literal["number", "string", "boolean", "any"]

MAX_SOURCE_LENGTH = 2000
MAX_NODES = 500
FUNCTIONS = frozenset({"min", "max", "round", "abs"})
_NAMED_CONSTANTS = {"True": True, "False": False}
_PRECISION = 28


class FormulaError(Exception):
    """An expression is not valid or cannot be evaluated; ``offset`` is 0-based when known."""

    def __init__(self, message: str, offset: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.offset = offset


class FormulaSyntaxError(FormulaError):
    """The text is not an expression of the formula language."""


class FormulaEvaluationError(FormulaError):
    """A well-formed expression failed on the given values (division by zero, wrong type...)."""


_BINARY_OPS: dict[type[ast.operator], str] = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.FloorDiv: "//",
    ast.Mod: "%",
}
_COMPARE_OPS: dict[type[ast.cmpop], str] = {
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.In: "in",
    ast.NotIn: "not in",
}
_ORDERINGS: dict[type[ast.cmpop], Callable[[Any, Any], Any]] = {
    ast.Lt: operator.lt,
    ast.LtE: operator.le,
    ast.Gt: operator.gt,
    ast.GtE: operator.ge,
}
_DESCRIBE: dict[type[ast.AST], str] = {
    ast.Attribute: "attribute access",
    ast.Subscript: "subscript",
    ast.Lambda: "lambda",
    ast.Call: "calls",
    ast.ListComp: "comprehension",
    ast.SetComp: "comprehension",
    ast.DictComp: "comprehension",
    ast.GeneratorExp: "comprehension",
    ast.NamedExpr: "assignment",
    ast.Starred: "star expression",
    ast.JoinedStr: "f-string",
    ast.Await: "await",
    ast.Yield: "yield",
    ast.YieldFrom: "yield",
    ast.Dict: "dictionary",
    ast.Set: "set",
    ast.List: "a list outside 'in'",
    ast.Tuple: "a tuple outside 'in'",
    ast.Pow: "the ** operator",
    ast.MatMult: "the @ operator",
    ast.BitAnd: "a bitwise operator",
    ast.BitOr: "a bitwise operator",
    ast.BitXor: "a bitwise operator",
    ast.LShift: "a bitwise operator",
    ast.RShift: "a bitwise operator",
    ast.Invert: "a bitwise operator",
    ast.Is: "'is'",
    ast.IsNot: "'is not'",
}


@dataclass(frozen=True)
class Formula:
    """A parsed, whitelisted expression. Build it with :func:`parse`."""

    source: str
    tree: ast.expr = field(repr=False, compare=False)
    names: frozenset[str]

    def evaluate(self, variables: Mapping[str, object]) -> Value:
        """Evaluate with ``variables`` (form answers: JSON values); raise FormulaEvaluationError."""
        with localcontext() as context:
            context.prec = _PRECISION
            context.rounding = ROUND_HALF_UP
            try:
                return _Evaluator(self.source, variables).visit(self.tree)
            except (DecimalException, OverflowError) as exc:
                raise FormulaEvaluationError(f"arithmetic error: {type(exc).__name__}") from exc

    def evaluate_number(self, variables: Mapping[str, object]) -> Decimal:
        value = self.evaluate(variables)
        if not isinstance(value, Decimal):
            raise FormulaEvaluationError(f"expected a number, got {_type_of(value)}")
        return value

    def evaluate_condition(self, variables: Mapping[str, object]) -> bool:
        value = self.evaluate(variables)
        if not isinstance(value, bool):
            raise FormulaEvaluationError(f"expected a boolean, got {_type_of(value)}")
        return value

    def infer_type(self, field_types: Mapping[str, TypeName]) -> TypeName:
        """Type of the result given the types of the fields; raise FormulaError on a type clash.

        Unknown names raise too, so this doubles as the load-time check of field names.
        """
        return _TypeChecker(self.source, field_types).visit(self.tree)


def parse(source: str) -> Formula:
    """Parse and whitelist ``source``; raise :class:`FormulaSyntaxError` on anything else."""
    if not isinstance(source, str):
        raise FormulaSyntaxError("an expression must be a string")
    if not source.strip():
        raise FormulaSyntaxError("empty expression")
    if len(source) > MAX_SOURCE_LENGTH:
        raise FormulaSyntaxError(f"expression longer than {MAX_SOURCE_LENGTH} characters")
    try:
        module = ast.parse(source.strip(), mode="eval")
    except SyntaxError as exc:
        offset = exc.offset - 1 if exc.offset else None
        raise FormulaSyntaxError(f"invalid syntax: {exc.msg}", offset) from None
    except (ValueError, MemoryError, RecursionError) as exc:
        raise FormulaSyntaxError(f"invalid expression: {exc}") from None
    text = source.strip()
    names: set[str] = set()
    allowed: set[int] = set()
    for count, node in enumerate(ast.walk(module.body), start=1):
        if count > MAX_NODES:
            raise FormulaSyntaxError(f"expression has more than {MAX_NODES} elements")
        _check_node(node, text, names, allowed)
    return Formula(source=text, tree=module.body, names=frozenset(names))


def _offset(node: ast.AST) -> int | None:
    return getattr(node, "col_offset", None)


def _check_node(node: ast.AST, source: str, names: set[str], allowed: set[int]) -> None:
    if isinstance(node, ast.Constant):
        value = node.value
        if isinstance(value, bool | str):
            return
        if isinstance(value, int | float) and not isinstance(value, bool):
            return
        raise FormulaSyntaxError(f"literal {value!r} is not allowed", _offset(node))
    if isinstance(node, ast.Name):
        if id(node) in allowed:
            return
        if node.id in FUNCTIONS:
            raise FormulaSyntaxError(f"{node.id}() must be called", _offset(node))
        if node.id not in _NAMED_CONSTANTS:
            if node.id.startswith("_"):
                raise FormulaSyntaxError(f"name {node.id!r} is not allowed", _offset(node))
            names.add(node.id)
        return
    if isinstance(node, ast.BinOp):
        if type(node.op) not in _BINARY_OPS:
            raise FormulaSyntaxError(f"{_describe(node.op)} is not allowed", _offset(node))
        return
    if isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, ast.USub | ast.UAdd | ast.Not):
            raise FormulaSyntaxError(f"{_describe(node.op)} is not allowed", _offset(node))
        return
    if isinstance(node, ast.BoolOp | ast.IfExp):
        return
    if isinstance(node, ast.Compare):
        for op, right in zip(node.ops, node.comparators, strict=True):
            if type(op) not in _COMPARE_OPS:
                raise FormulaSyntaxError(f"{_describe(op)} is not allowed", _offset(node))
            if isinstance(op, ast.In | ast.NotIn):
                if not isinstance(right, ast.List | ast.Tuple) or not all(
                    isinstance(item, ast.Constant)
                    and isinstance(item.value, bool | str | int | float)
                    for item in right.elts
                ):
                    raise FormulaSyntaxError(
                        "'in' needs a literal list of values, such as ['a', 'b']", _offset(right)
                    )
                allowed.add(id(right))
        return
    if isinstance(node, ast.List | ast.Tuple):
        # ast.walk visits a parent before its children, so a Compare has already marked
        # the lists it accepts after 'in', and a Call its function name.
        if id(node) not in allowed:
            raise FormulaSyntaxError("lists are only allowed after 'in'", _offset(node))
        return
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            what = ast.get_source_segment(source, node.func) or "this"
            raise FormulaSyntaxError(
                f"calling {what} is not allowed; only min, max, round and abs", _offset(node)
            )
        if node.keywords:
            raise FormulaSyntaxError("keyword arguments are not allowed", _offset(node))
        _check_arity(node)
        allowed.add(id(node.func))
        return
    if isinstance(node, ast.operator | ast.boolop | ast.cmpop | ast.unaryop | ast.expr_context):
        return
    raise FormulaSyntaxError(f"{_describe(node)} is not allowed", _offset(node))


def _check_arity(node: ast.Call) -> None:
    assert isinstance(node.func, ast.Name)
    name, count = node.func.id, len(node.args)
    if name in {"min", "max"} and count < 2:
        raise FormulaSyntaxError(f"{name}() needs at least two arguments", _offset(node))
    if name == "abs" and count != 1:
        raise FormulaSyntaxError("abs() takes exactly one argument", _offset(node))
    if name == "round":
        if count not in (1, 2):
            raise FormulaSyntaxError("round() takes one or two arguments", _offset(node))
        if count == 2:
            places = node.args[1]
            if isinstance(places, ast.UnaryOp) and isinstance(places.op, ast.USub):
                places = places.operand
            if not (
                isinstance(places, ast.Constant)
                and isinstance(places.value, int)
                and not isinstance(places.value, bool)
            ):
                raise FormulaSyntaxError(
                    "round()'s second argument must be a whole number such as 2", _offset(node)
                )


def _describe(node: ast.AST) -> str:
    return _DESCRIBE.get(type(node), type(node).__name__)


def _type_of(value: object) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, Decimal):
        return "a number"
    if isinstance(value, str):
        return "a text"
    return type(value).__name__


def _literal(node: ast.Constant, source: str) -> Value:
    value = node.value
    if isinstance(value, bool | str):
        return value
    # Read the digits as written so that 0.1 stays exactly 0.1.
    text = ast.get_source_segment(source, node) or repr(value)
    return Decimal(text.replace("_", ""))


def _to_value(name: str, raw: object) -> Value:
    if isinstance(raw, bool | str | Decimal):
        return raw
    if isinstance(raw, int):
        return Decimal(raw)
    if isinstance(raw, float):
        if raw != raw or raw in (float("inf"), float("-inf")):
            raise FormulaEvaluationError(f"field {name!r} is not a finite number")
        return Decimal(repr(raw))
    if raw is None:
        raise FormulaEvaluationError(f"field {name!r} has no value")
    raise FormulaEvaluationError(f"field {name!r} holds {type(raw).__name__}, not a single value")


class _Evaluator:
    def __init__(self, source: str, variables: Mapping[str, object]) -> None:
        self.source = source
        self.variables = variables

    def visit(self, node: ast.expr) -> Value:
        method: Callable[[ast.expr], Value] | None = getattr(
            self, f"visit_{type(node).__name__}", None
        )
        if method is None:  # pragma: no cover - parse() rejects these nodes
            raise FormulaEvaluationError(f"{_describe(node)} is not allowed")
        return method(node)

    def number(self, node: ast.expr) -> Decimal:
        value = self.visit(node)
        if not isinstance(value, Decimal):
            segment = ast.get_source_segment(self.source, node)
            raise FormulaEvaluationError(
                f"{segment!r} is {_type_of(value)}, expected a number", node.col_offset
            )
        return value

    def boolean(self, node: ast.expr) -> bool:
        value = self.visit(node)
        if not isinstance(value, bool):
            segment = ast.get_source_segment(self.source, node)
            raise FormulaEvaluationError(
                f"{segment!r} is {_type_of(value)}, expected true or false", node.col_offset
            )
        return value

    def visit_Constant(self, node: ast.Constant) -> Value:
        return _literal(node, self.source)

    def visit_Name(self, node: ast.Name) -> Value:
        if node.id in _NAMED_CONSTANTS:
            return _NAMED_CONSTANTS[node.id]
        if node.id not in self.variables:
            raise FormulaEvaluationError(f"unknown name {node.id!r}", node.col_offset)
        return _to_value(node.id, self.variables[node.id])

    def visit_UnaryOp(self, node: ast.UnaryOp) -> Value:
        if isinstance(node.op, ast.Not):
            return not self.boolean(node.operand)
        operand = self.number(node.operand)
        return -operand if isinstance(node.op, ast.USub) else +operand

    def visit_BinOp(self, node: ast.BinOp) -> Value:
        left, right = self.number(node.left), self.number(node.right)
        op = type(node.op)
        if op is ast.Add:
            return left + right
        if op is ast.Sub:
            return left - right
        if op is ast.Mult:
            return left * right
        if right == 0:
            raise FormulaEvaluationError("division by zero", node.col_offset)
        if op is ast.Div:
            return left / right
        # Floor semantics as in Python, not Decimal's truncation toward zero.
        quotient = (left / right).to_integral_value(rounding=ROUND_FLOOR)
        if op is ast.FloorDiv:
            return quotient
        return left - right * quotient

    def visit_BoolOp(self, node: ast.BoolOp) -> Value:
        stop_at = isinstance(node.op, ast.Or)
        for operand in node.values:
            if self.boolean(operand) is stop_at:
                return stop_at
        return not stop_at

    def visit_IfExp(self, node: ast.IfExp) -> Value:
        return self.visit(node.body) if self.boolean(node.test) else self.visit(node.orelse)

    def visit_Compare(self, node: ast.Compare) -> Value:
        left = self.visit(node.left)
        for op, right_node in zip(node.ops, node.comparators, strict=True):
            if isinstance(op, ast.In | ast.NotIn):
                assert isinstance(right_node, ast.List | ast.Tuple)
                options = [self.visit(item) for item in right_node.elts]
                found = any(_equal(left, option) for option in options)
                result = found if isinstance(op, ast.In) else not found
                right: Value = left
            else:
                right = self.visit(right_node)
                result = self.compare(op, left, right, node)
            if not result:
                return False
            left = right
        return True

    def compare(self, op: ast.cmpop, left: Value, right: Value, node: ast.expr) -> bool:
        if isinstance(op, ast.Eq):
            return _equal(left, right)
        if isinstance(op, ast.NotEq):
            return not _equal(left, right)
        if isinstance(left, bool) or isinstance(right, bool) or type(left) is not type(right):
            raise FormulaEvaluationError(
                f"cannot order {_type_of(left)} and {_type_of(right)}", node.col_offset
            )
        return bool(_ORDERINGS[type(op)](left, right))

    def visit_Call(self, node: ast.Call) -> Value:
        assert isinstance(node.func, ast.Name)
        name = node.func.id
        if name == "round":
            value = self.number(node.args[0])
            places = int(self.number(node.args[1])) if len(node.args) == 2 else 0
            return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
        args = [self.number(arg) for arg in node.args]
        if name == "abs":
            return abs(args[0])
        return min(args) if name == "min" else max(args)


def _equal(left: Value, right: Value) -> bool:
    if isinstance(left, bool) != isinstance(right, bool):
        return False
    return type(left) is type(right) and left == right


class _TypeChecker:
    """Infer the result type, reporting clashes such as ``name * 2`` where name is a text."""

    def __init__(self, source: str, field_types: Mapping[str, TypeName]) -> None:
        self.source = source
        self.field_types = field_types

    def visit(self, node: ast.expr) -> TypeName:
        if isinstance(node, ast.Constant):
            value = node.value
            return (
                "boolean"
                if isinstance(value, bool)
                else "string"
                if isinstance(value, str)
                else "number"
            )
        if isinstance(node, ast.Name):
            if node.id in _NAMED_CONSTANTS:
                return "boolean"
            if node.id not in self.field_types:
                raise FormulaError(f"unknown field {node.id!r}", node.col_offset)
            return self.field_types[node.id]
        if isinstance(node, ast.UnaryOp):
            wanted: TypeName = "boolean" if isinstance(node.op, ast.Not) else "number"
            self.expect(node.operand, wanted)
            return wanted
        if isinstance(node, ast.BinOp):
            self.expect(node.left, "number")
            self.expect(node.right, "number")
            return "number"
        if isinstance(node, ast.BoolOp):
            for operand in node.values:
                self.expect(operand, "boolean")
            return "boolean"
        if isinstance(node, ast.IfExp):
            self.expect(node.test, "boolean")
            body, orelse = self.visit(node.body), self.visit(node.orelse)
            if "any" in (body, orelse):
                return "any"
            if body != orelse:
                raise FormulaError(
                    f"both branches of 'if ... else' must have the same type, got {body} and "
                    f"{orelse}",
                    node.col_offset,
                )
            return body
        if isinstance(node, ast.Compare):
            left = self.visit(node.left)
            for op, right_node in zip(node.ops, node.comparators, strict=True):
                if isinstance(op, ast.In | ast.NotIn):
                    assert isinstance(right_node, ast.List | ast.Tuple)
                    for item in right_node.elts:
                        self.same(left, self.visit(item), item)
                    continue
                right = self.visit(right_node)
                self.same(left, right, right_node)
                if not isinstance(op, ast.Eq | ast.NotEq) and "boolean" in (left, right):
                    raise FormulaError("booleans cannot be ordered", node.col_offset)
                left = right
            return "boolean"
        if isinstance(node, ast.Call):
            for arg in node.args:
                self.expect(arg, "number")
            return "number"
        raise FormulaError(f"{_describe(node)} is not allowed", _offset(node))  # pragma: no cover

    def expect(self, node: ast.expr, wanted: TypeName) -> None:
        found = self.visit(node)
        if found not in (wanted, "any"):
            segment = ast.get_source_segment(self.source, node)
            raise FormulaError(f"{segment!r} is a {found}, expected a {wanted}", node.col_offset)

    def same(self, left: TypeName, right: TypeName, node: ast.expr) -> None:
        if "any" not in (left, right) and left != right:
            raise FormulaError(f"cannot compare a {left} with a {right}", node.col_offset)

"""Recursive-descent parser of rule expressions into a small typed syntax tree.

Grammar (lowest precedence first)::

    expr       := and_expr ("or" and_expr)*
    and_expr   := not_expr ("and" not_expr)*
    not_expr   := ("not" | "!") not_expr | comparison
    comparison := sum ((== | != | > | < | >= | <=) sum | ["not"] "in" list)?
    sum        := product (("+" | "-") product)*
    product    := unary (("*" | "/" | "%") unary)*
    unary      := "-" unary | primary
    primary    := NUMBER | STRING | $variable | "(" expr ")" | list
                | regex_match(STRING, sum) | lowercase(sum)
    list       := "[" [sum ("," sum)*] "]"

Why a typed tree: the whole expression must be a condition, ``and``/``or`` need conditions,
arithmetic needs values; those mistakes are refused when the detector version is created,
with the position, instead of failing on the first scored event.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from fraudpipe.engine.rules.lexer import Token, rule_error, tokenize

__all__ = ["MAX_LENGTH", "Node", "parse"]

MAX_LENGTH = 4000  # AFD's limit on a rule expression
COMPARISONS = {"==", "!=", ">", "<", ">=", "<="}
FUNCTIONS = {"regex_match": 2, "lowercase": 1}


@dataclass
class Node:
    kind: str  # num str var list neg arith compare and or not in call
    pos: int
    value: object = None
    children: list[Node] = field(default_factory=list)
    type: str = "value"  # "bool" or "value"

    def variables(self) -> list[Node]:
        """Every ``$variable`` node of the tree, in order."""
        found = [self] if self.kind == "var" else []
        for child in self.children:
            found.extend(child.variables())
        return found


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.tokens = tokenize(text)
        self.i = 0

    @property
    def tok(self) -> Token:
        return self.tokens[self.i]

    def error(self, token: Token, reason: str) -> Exception:
        return rule_error(self.text, token.pos, reason)

    def describe(self, token: Token) -> str:
        return "the end of the expression" if token.kind == "END" else repr(token.value)

    def accept(self, kind: str, value: str | None = None) -> Token | None:
        token = self.tok
        if token.kind == kind and (value is None or token.value == value):
            self.i += 1
            return token
        return None

    def expect(self, kind: str, value: str, what: str) -> Token:
        token = self.accept(kind, value)
        if token is None:
            raise self.error(self.tok, f"expected {what}, found {self.describe(self.tok)}")
        return token

    def condition(self, node: Node, role: str) -> Node:
        if node.type != "bool":
            raise rule_error(self.text, node.pos, f"{role} must be a condition, not a value")
        return node

    def value(self, node: Node, role: str) -> Node:
        if node.type == "bool":
            raise rule_error(self.text, node.pos, f"{role} must be a value, not a condition")
        return node

    # --- grammar ------------------------------------------------------------------------------
    def parse(self) -> Node:
        if not self.text.strip():
            raise rule_error(self.text, 0, "the expression is empty")
        if len(self.text) > MAX_LENGTH:
            raise rule_error(self.text, MAX_LENGTH, f"longer than {MAX_LENGTH} characters")
        node = self.expr()
        if self.tok.kind != "END":
            raise self.error(self.tok, f"unexpected {self.describe(self.tok)}")
        return self.condition(node, "a rule expression")

    def expr(self) -> Node:
        return self._logic("or", self.and_expr)

    def and_expr(self) -> Node:
        return self._logic("and", self.not_expr)

    def _logic(self, word: str, operand) -> Node:  # type: ignore[no-untyped-def]
        node = operand()
        while (token := self.accept("KEYWORD", word)) is not None:
            left = self.condition(node, f"the left side of '{word}'")
            right = self.condition(operand(), f"the right side of '{word}'")
            node = Node(word, token.pos, children=[left, right], type="bool")
        return node

    def not_expr(self) -> Node:
        token = self.accept("KEYWORD", "not") or self.accept("OP", "!")
        if token is not None:
            operand = self.condition(self.not_expr(), f"the operand of '{token.value}'")
            return Node("not", token.pos, children=[operand], type="bool")
        return self.comparison()

    def comparison(self) -> Node:
        left = self.sum()
        token = self.tok
        if token.kind == "OP" and token.value in COMPARISONS:
            self.i += 1
            self.value(left, f"the left side of '{token.value}'")
            right = self.value(self.sum(), f"the right side of '{token.value}'")
            return Node("compare", token.pos, token.value, [left, right], type="bool")
        negated = False
        following = self.tokens[self.i + 1] if token.kind != "END" else token
        if token.kind == "KEYWORD" and token.value == "not" and following.value == "in":
            self.i += 1
            negated = True
        if (in_token := self.accept("KEYWORD", "in")) is not None:
            self.value(left, "the left side of 'in'")
            items = self.list_literal()
            return Node("in", in_token.pos, negated, [left, items], type="bool")
        if negated:
            raise self.error(self.tok, "expected 'in' after 'not'")
        return left

    def sum(self) -> Node:
        return self._arith(("+", "-"), self.product)

    def product(self) -> Node:
        return self._arith(("*", "/", "%"), self.unary)

    def _arith(self, ops: tuple[str, ...], operand) -> Node:  # type: ignore[no-untyped-def]
        node = operand()
        while self.tok.kind == "OP" and self.tok.value in ops:
            token = self.tok
            self.i += 1
            left = self.value(node, f"the left side of '{token.value}'")
            right = self.value(operand(), f"the right side of '{token.value}'")
            node = Node("arith", token.pos, token.value, [left, right])
        return node

    def unary(self) -> Node:
        if (token := self.accept("OP", "-")) is not None:
            operand = self.value(self.unary(), "the operand of '-'")
            return Node("neg", token.pos, children=[operand])
        return self.primary()

    def list_literal(self) -> Node:
        start = self.expect("OP", "[", "'[' starting a list")
        items: list[Node] = []
        if self.accept("OP", "]") is None:
            while True:
                items.append(self.value(self.sum(), "a list item"))
                if self.accept("OP", "]") is not None:
                    break
                self.expect("OP", ",", "',' or ']' in the list")
        return Node("list", start.pos, children=items)

    def primary(self) -> Node:
        token = self.tok
        if token.kind == "NUMBER":
            self.i += 1
            return Node("num", token.pos, float(token.value))
        if token.kind == "STRING":
            self.i += 1
            return Node("str", token.pos, token.value)
        if token.kind == "VAR":
            self.i += 1
            return Node("var", token.pos, token.value)
        if token.kind == "LISTREF":
            raise self.error(token, f"lists (@{token.value}) are not supported by this engine")
        if token.kind == "OP" and token.value == "(":
            self.i += 1
            inner = self.expr()
            self.expect("OP", ")", "')'")
            return inner
        if token.kind == "OP" and token.value == "[":
            return self.list_literal()
        if token.kind == "IDENT":
            return self.call(token)
        raise self.error(token, f"expected a value, found {self.describe(token)}")

    def call(self, token: Token) -> Node:
        name = token.value.lower()
        if name not in FUNCTIONS:
            raise self.error(token, f"unknown function or bare word {token.value!r}"
                                    " (variables start with '$', strings are quoted)")
        self.i += 1
        self.expect("OP", "(", f"'(' after {name}")
        args = [self.value(self.sum(), f"an argument of {name}")]
        while self.accept("OP", ",") is not None:
            args.append(self.value(self.sum(), f"an argument of {name}"))
        self.expect("OP", ")", f"')' closing {name}(...)")
        if len(args) != FUNCTIONS[name]:
            raise self.error(token, f"{name} takes {FUNCTIONS[name]} argument(s), not {len(args)}")
        if name == "regex_match" and args[0].kind != "str":
            raise rule_error(self.text, args[0].pos, "regex_match needs a quoted pattern first")
        if name == "regex_match":
            try:
                re.compile(str(args[0].value))
            except re.error as exc:
                raise rule_error(self.text, args[0].pos, f"invalid pattern: {exc}") from exc
        kind = "bool" if name == "regex_match" else "value"
        return Node("call", token.pos, name, args, type=kind)


def parse(expression: str) -> Node:
    """Parse ``expression``; raises RuleSyntaxError with the position and reason."""
    return _Parser(expression).parse()

"""Tokens of the rule language (the subset of AFD's DETECTORPL the pipeline needs).

Why positions everywhere: a refused expression must say *where* it went wrong, so every token
carries its 0-based character offset into the expression.
"""

from __future__ import annotations

from dataclasses import dataclass

from fraudpipe.errors import RuleSyntaxError

__all__ = ["KEYWORDS", "Token", "rule_error", "tokenize"]

KEYWORDS = {"and", "or", "not", "in"}
OPERATORS = ["==", "!=", ">=", "<=", ">", "<", "+", "-", "*", "/", "%", "(", ")", "[", "]", ",",
             "!"]  # fmt: skip


@dataclass(frozen=True)
class Token:
    kind: str  # NUMBER STRING VAR LISTREF IDENT KEYWORD OP END
    value: str
    pos: int


def rule_error(expression: str, pos: int, reason: str) -> RuleSyntaxError:
    """A RuleSyntaxError whose message shows the expression with a caret under ``pos``."""
    error = RuleSyntaxError(
        f"position {pos}: {reason}\n  {expression}\n  {' ' * pos}^"
    )
    error.position = pos  # type: ignore[attr-defined]
    error.reason = reason  # type: ignore[attr-defined]
    return error


def _name_end(text: str, start: int) -> int:
    end = start
    while end < len(text) and (text[end].isalnum() or text[end] == "_"):
        end += 1
    return end


def tokenize(text: str) -> list[Token]:
    """Split ``text`` into tokens; raises RuleSyntaxError at the first character it cannot use."""
    tokens: list[Token] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch.isspace():
            i += 1
        elif ch in "$@":
            end = _name_end(text, i + 1)
            if end == i + 1:
                raise rule_error(text, i, f"'{ch}' must be followed by a variable name")
            tokens.append(Token("VAR" if ch == "$" else "LISTREF", text[i + 1 : end], i))
            i = end
        elif ch.isdigit() or (ch == "." and i + 1 < len(text) and text[i + 1].isdigit()):
            end = i
            while end < len(text) and (text[end].isdigit() or text[end] == "."):
                end += 1
            number = text[i:end]
            if number.count(".") > 1:
                raise rule_error(text, i, f"malformed number {number!r}")
            tokens.append(Token("NUMBER", number, i))
            i = end
        elif ch in "\"'":
            end = i + 1
            chars: list[str] = []
            while end < len(text) and text[end] != ch:
                if text[end] == "\\" and end + 1 < len(text):
                    end += 1
                chars.append(text[end])
                end += 1
            if end >= len(text):
                raise rule_error(text, i, "string is not closed")
            tokens.append(Token("STRING", "".join(chars), i))
            i = end + 1
        elif ch.isalpha() or ch == "_":
            end = _name_end(text, i)
            word = text[i:end]
            kind = "KEYWORD" if word.lower() in KEYWORDS else "IDENT"
            tokens.append(Token(kind, word.lower() if kind == "KEYWORD" else word, i))
            i = end
        else:
            for op in OPERATORS:
                if text.startswith(op, i):
                    tokens.append(Token("OP", op, i))
                    i += len(op)
                    break
            else:
                raise rule_error(text, i, f"unexpected character {ch!r}")
    tokens.append(Token("END", "", len(text)))
    return tokens

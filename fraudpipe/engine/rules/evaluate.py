"""Evaluating a parsed rule over many events at once (numpy), or over one.

Why vectorised: a batch job evaluates every rule on every row; compiling the tree into nested
closures over numpy arrays keeps that at array speed, and a single event is just arrays of
length 1. Variables arrive as float arrays (numbers, scores) or object arrays (strings); a
comparison of a string variable with a number compares its numeric value (empty or non-numeric
-> no match), as AFD's typed variables would.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from fraudpipe.engine.rules.parser import Node

__all__ = ["Compiled", "compile_node"]

Env = dict[str, Any]
Compiled = Callable[[Env], Any]


def _is_text(value: Any) -> bool:
    if isinstance(value, str):
        return True
    return isinstance(value, np.ndarray) and value.dtype == object


def _number(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return np.nan
    if isinstance(value, np.ndarray) and value.dtype == object:
        return pd.to_numeric(pd.Series(value), errors="coerce").to_numpy(dtype=float)
    return value


def _text(value: Any) -> Any:
    if isinstance(value, np.ndarray) and value.dtype != object:
        return value.astype(str).astype(object)
    if isinstance(value, float):
        return repr(value)
    return value


_COMPARE = {
    "==": np.equal, "!=": np.not_equal, ">": np.greater, "<": np.less,
    ">=": np.greater_equal, "<=": np.less_equal,
}  # fmt: skip
_ARITH = {"+": np.add, "-": np.subtract, "*": np.multiply, "/": np.divide, "%": np.mod}


def _compare(op: str, left: Any, right: Any) -> Any:
    if _is_text(left) and _is_text(right) and op in ("==", "!="):
        result = _COMPARE[op](np.asarray(left, dtype=object), np.asarray(right, dtype=object))
        return np.asarray(result, dtype=bool)
    with np.errstate(invalid="ignore"):
        return _COMPARE[op](_number(left), _number(right))


def compile_node(node: Node) -> Compiled:
    """A function of the variables (name -> array or scalar) computing ``node``."""
    kind = node.kind
    if kind in ("num", "str"):
        constant = node.value
        return lambda env: constant
    if kind == "var":
        name = str(node.value)
        return lambda env: env[name]
    kids = [compile_node(child) for child in node.children]
    if kind == "neg":
        return lambda env: np.negative(_number(kids[0](env)))
    if kind == "arith":
        func = _ARITH[str(node.value)]

        def arith(env: Env) -> Any:
            with np.errstate(divide="ignore", invalid="ignore"):
                return func(_number(kids[0](env)), _number(kids[1](env)))

        return arith
    if kind == "compare":
        op = str(node.value)
        return lambda env: _compare(op, kids[0](env), kids[1](env))
    if kind == "and":
        return lambda env: np.logical_and(kids[0](env), kids[1](env))
    if kind == "or":
        return lambda env: np.logical_or(kids[0](env), kids[1](env))
    if kind == "not":
        return lambda env: np.logical_not(kids[0](env))
    if kind == "list":
        return lambda env: [kid(env) for kid in kids]
    if kind == "in":
        negated = bool(node.value)

        def member(env: Env) -> Any:
            left = kids[0](env)
            hit: Any = False
            for item in kids[1](env):
                hit = np.logical_or(hit, _compare("==", left, item))
            return np.logical_not(hit) if negated else hit

        return member
    if kind == "call" and node.value == "lowercase":
        def lowercase(env: Env) -> Any:
            value = _text(kids[0](env))
            if isinstance(value, str):
                return value.lower()
            return pd.Series(value, dtype=object).str.lower().to_numpy(dtype=object)

        return lowercase
    if kind == "call" and node.value == "regex_match":
        pattern = re.compile(str(node.children[0].value))

        def regex_match(env: Env) -> Any:
            value = _text(kids[1](env))
            if isinstance(value, str):
                return pattern.search(value) is not None
            series = pd.Series(value, dtype=object)
            return series.str.contains(pattern, regex=True, na=False).to_numpy(dtype=bool)

        return regex_match
    raise ValueError(f"cannot evaluate a {kind!r} node")  # pragma: no cover - parser forbids

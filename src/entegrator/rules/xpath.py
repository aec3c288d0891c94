"""XPath of GİB's schematron, translated for libxml2.

GİB's rules are written for XSLT 2.0 but run in XPath 1.0 compatibility mode (the compiled
stylesheet declares ``version="1.0"``): general comparisons, ``string()`` of a node-set and
``concat`` of node-sets take first-item and node-set semantics exactly as in XPath 1.0. What is
left of XPath 2.0 is a handful of functions and operators, which this module rewrites into XPath
1.0 plus six extension functions in the ``urn:entegrator:xpath`` namespace:

==============================  ==========================================
GİB's XPath 2.0                  libxml2 XPath 1.0
==============================  ==========================================
``matches(s, re)``               ``ent:matches(s, re)`` (XSD regex dialect)
``exists(x)``                    ``boolean(x)``
``x castable as xs:date``        ``ent:castable-date(x)``
``x castable as xs:time``        ``ent:castable-time(x)``
``xs:date(x)``                   ``ent:date(x)`` (start instant, minutes)
``current-date()``               ``ent:current-date()`` (see below)
``contains($LongList, …)``       ``ent:in-list(key, …)`` (hash lookup, same result)
``le lt ge gt eq ne``            ``<= < >= > = !=``
==============================  ==========================================

``ent:current-date()`` reads no clock: it answers the date the caller set with
:func:`current_date` around the evaluation (the date in Europe/Istanbul that the validator takes
from its clock), and fails outside it.

Anything else that is not XPath 1.0 raises :class:`UnsupportedXPathError`; a rule that uses it
is run by the Saxon engine instead (``entegrator.rules.saxon``), never approximated.

>>> translate("matches(cbc:ID, '^[A-Z]{3}$') and exists(cac:X)")
"ent:matches(string(cbc:ID),'^[A-Z]{3}$') and boolean(cac:X)"
>>> translate("not(. castable as xs:date) or (xs:date(.) le xs:date(current-date()))")
'not(ent:castable-date(string(.))) or (ent:date(string(.)) <= ent:date(string(ent:current-date())))'
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

__all__ = [
    "EXTENSION_NS",
    "Token",
    "UnsupportedXPathError",
    "current_date",
    "extension_functions",
    "hoist_absolute_paths",
    "parent_path",
    "tokenize",
    "translate",
    "xsd_regex",
]

EXTENSION_NS = "urn:entegrator:xpath"
ISTANBUL = ZoneInfo("Europe/Istanbul")


class UnsupportedXPathError(ValueError):
    """The expression uses XPath that this translator does not map exactly."""


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # str, num, var, name, op, punct
    text: str


_TOKEN_RE = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<str>'[^']*'|"[^"]*")
  | (?P<num>\d+(?:\.\d*)?|\.\d+)
  | (?P<var>\$[A-Za-z_][\w.\-]*(?::[A-Za-z_][\w.\-]*)?)
  | (?P<axis>[A-Za-z_][\w.\-]*::)
  | (?P<name>[A-Za-z_][\w.\-]*(?::(?:[A-Za-z_][\w.\-]*|\*))?|\*)
  | (?P<punct>//|/|\.\.|\.|@|\(|\)|\[|\]|,|\||!=|<=|>=|=|<|>|\+|-)
    """,
    re.VERBOSE,
)

_XPATH1_FUNCTIONS = frozenset(
    {
        "last",
        "position",
        "count",
        "id",
        "local-name",
        "namespace-uri",
        "name",
        "string",
        "concat",
        "starts-with",
        "contains",
        "substring-before",
        "substring-after",
        "substring",
        "string-length",
        "normalize-space",
        "translate",
        "boolean",
        "not",
        "true",
        "false",
        "lang",
        "number",
        "sum",
        "floor",
        "ceiling",
        "round",
    }
)
_NODE_TESTS = frozenset({"node", "text", "comment", "processing-instruction"})
_RENAMED = {
    "matches": "ent:matches",
    "exists": "boolean",
    "current-date": "ent:current-date",
    "xs:date": "ent:date",
}
_VALUE_COMPARISONS = {"le": "<=", "lt": "<", "ge": ">=", "gt": ">", "eq": "=", "ne": "!="}
_OPERATOR_NAMES = frozenset({"and", "or", "div", "mod", *_VALUE_COMPARISONS})
# After these, a name is a name (not an operator) and ``*`` is a name test (XPath 1.0 §3.7).
_NO_OPERAND_BEFORE = frozenset({"@", "::", "(", "[", ",", "/", "//", "|", "!=", "<=", ">="})
_NO_OPERAND_BEFORE |= frozenset({"=", "<", ">", "+", "-"})


def tokenize(expr: str) -> list[Token]:
    """Split an XPath expression into tokens (whitespace dropped)."""
    tokens: list[Token] = []
    pos = 0
    while pos < len(expr):
        m = _TOKEN_RE.match(expr, pos)
        if m is None:
            raise UnsupportedXPathError(f"cannot read XPath at {expr[pos : pos + 20]!r}")
        pos = m.end()
        kind = m.lastgroup or ""
        if kind == "ws":
            continue
        text = m.group()
        if kind == "axis":
            tokens.append(Token("name", text[:-2]))
            tokens.append(Token("punct", "::"))
            continue
        tokens.append(Token(kind, text))
    return _classify_operators(tokens)


def _operand_before(prev: Token | None) -> bool:
    if prev is None:
        return False
    if prev.kind == "op":
        return False
    return prev.text not in _NO_OPERAND_BEFORE or prev.kind in ("str", "num", "var")


def _classify_operators(tokens: list[Token]) -> list[Token]:
    out: list[Token] = []
    for tok in tokens:
        prev = out[-1] if out else None
        operator_name = tok.kind == "name" and (tok.text in _OPERATOR_NAMES or tok.text == "*")
        if operator_name and _operand_before(prev):
            out.append(Token("op", tok.text))
            continue
        out.append(tok)
    return out


def _render(tokens: list[Token]) -> str:
    parts: list[str] = []
    for tok in tokens:
        if tok.kind == "op" and tok.text.isalpha():
            parts.append(f" {tok.text} ")
        elif tok.kind == "op":
            parts.append(f" {tok.text} " if tok.text != "*" else " * ")
        elif tok.text in ("=", "!=", "<", ">", "<=", ">=", "|", "+") and tok.kind == "punct":
            parts.append(f" {tok.text} ")
        else:
            parts.append(tok.text)
    return re.sub(r" {2,}", " ", "".join(parts)).strip()


def _matching(tokens: list[Token], at: int, step: int) -> int:
    """Index of the bracket matching the one at ``at``, searching forward (1) or back (-1)."""
    opening, closing = (("(", "["), (")", "]")) if step == 1 else ((")", "]"), ("(", "["))
    depth = 0
    for i in range(at, len(tokens) if step == 1 else -1, step):
        if tokens[i].text in opening:
            depth += 1
        elif tokens[i].text in closing:
            depth -= 1
            if depth == 0:
                return i
    raise UnsupportedXPathError("unbalanced brackets")


def _matching_close(tokens: list[Token], open_at: int) -> int:
    return _matching(tokens, open_at, 1)


def _matching_open(tokens: list[Token], close_at: int) -> int:
    return _matching(tokens, close_at, -1)


def _rewrite_castable(tokens: list[Token]) -> list[Token]:
    out = list(tokens)
    i = 0
    while i < len(out):
        if out[i].kind == "name" and out[i].text == "castable":
            tail = [t.text for t in out[i + 1 : i + 3]]
            if tail not in (["as", "xs:date"], ["as", "xs:time"]):
                raise UnsupportedXPathError("only 'castable as xs:date|xs:time' is supported")
            function = "ent:castable-date" if tail[1] == "xs:date" else "ent:castable-time"
            if i == 0:
                raise UnsupportedXPathError("castable without an operand")
            if out[i - 1].text == ".":
                start = i - 1
            elif out[i - 1].text == ")":
                start = _matching_open(out, i - 1)
                if start and out[start - 1].kind == "name":
                    start -= 1  # a function call: normalize-space(x) castable as …
            else:
                raise UnsupportedXPathError("castable operand must be '.' or parenthesised")
            operand = out[start:i]
            replacement = [
                Token("name", function),
                Token("punct", "("),
                *operand,
                Token("punct", ")"),
            ]
            out[start : i + 3] = replacement
            i = start + len(replacement)
            continue
        i += 1
    return out


def translate(
    expr: str,
    *,
    variables: Mapping[str, str] | None = None,
    attribute_context: str | None = None,
) -> str:
    """Translate one of GİB's XPath 2.0 expressions to libxml2 XPath 1.0.

    ``variables`` maps ``$name`` to the XPath text that replaces it (GİB's code lists are
    string literals; path variables are inlined, which is exact because they are absolute).
    ``attribute_context`` is set when the rule context is an attribute: libxml2 cannot take an
    attribute as the context node, so the test runs on its parent with ``.`` read as
    ``@name``; any other relative step from an attribute is refused.
    """
    tokens = tokenize(expr)
    tokens = _rewrite_code_lists(tokens, variables or {})
    tokens = _substitute(tokens, variables or {})
    tokens = _rewrite_castable(tokens)
    out: list[Token] = []
    depth = 0
    for idx, tok in enumerate(tokens):
        nxt = tokens[idx + 1] if idx + 1 < len(tokens) else None
        if tok.text in ("(", "["):
            depth += 1
        elif tok.text in (")", "]"):
            depth -= 1
        if tok.kind == "op" and tok.text in _VALUE_COMPARISONS:
            out.append(Token("punct", _VALUE_COMPARISONS[tok.text]))
            continue
        if tok.kind == "name" and nxt is not None and nxt.text == "(":
            prev = tokens[idx - 1] if idx else None
            if prev is not None and prev.text in ("/", "//") and tok.text not in _NODE_TESTS:
                raise UnsupportedXPathError(f"function {tok.text}() as a path step is XPath 2.0")
            out.append(_function_name(tok))
            continue
        if attribute_context is not None:
            _check_attribute_context(tokens, idx, out, attribute_context)
            if tok.text == "." and _is_context_dot(tokens, idx):
                out.append(Token("name", "@" + attribute_context))
                continue
        out.append(tok)
    return _render(_stringify_extension_arguments(out))


def _stringify_extension_arguments(tokens: list[Token]) -> list[Token]:
    """``ent:f(x, y)`` → ``ent:f(string(x), string(y))``.

    XPath's own ``string()`` is the first-node string value the functions want; handing lxml a
    string instead of a node-set saves building element proxies on every call.
    """
    out = list(tokens)
    i = 0
    while i < len(out):
        tok = out[i]
        if tok.kind == "name" and tok.text.startswith("ent:") and tok.text != "ent:current-date":
            close = _matching_close(out, i + 1)
            args: list[list[Token]] = [[]]
            depth = 0
            for t in out[i + 2 : close]:
                if t.text in ("(", "["):
                    depth += 1
                elif t.text in (")", "]"):
                    depth -= 1
                if t.text == "," and depth == 0:
                    args.append([])
                else:
                    args[-1].append(t)
            rebuilt: list[Token] = [tok, Token("punct", "(")]
            for n, arg in enumerate(args):
                if n:
                    rebuilt.append(Token("punct", ","))
                if len(arg) == 1 and arg[0].kind == "str":
                    rebuilt.extend(arg)
                else:
                    rebuilt.extend([Token("name", "string"), Token("punct", "("), *arg])
                    rebuilt.append(Token("punct", ")"))
            rebuilt.append(Token("punct", ")"))
            out[i : close + 1] = rebuilt
            i += 2  # nested ent: calls inside the arguments are rewritten in turn
            continue
        i += 1
    return out


def _function_name(tok: Token) -> Token:
    name = tok.text
    if name in _NODE_TESTS:
        return tok
    if name in _RENAMED:
        return Token("name", _RENAMED[name])
    if name.startswith("ent:"):
        return tok
    if name not in _XPATH1_FUNCTIONS:
        raise UnsupportedXPathError(f"function {name}() is not XPath 1.0")
    return tok


def _is_context_dot(tokens: list[Token], idx: int) -> bool:
    """True when ``.`` at ``idx`` is the rule's context (not inside a path predicate)."""
    depth_pred = 0
    for tok in tokens[:idx]:
        if tok.text == "[":
            depth_pred += 1
        elif tok.text == "]":
            depth_pred -= 1
    if depth_pred:
        return False
    nxt = tokens[idx + 1] if idx + 1 < len(tokens) else None
    return nxt is None or nxt.text not in ("/", "//")


def _check_attribute_context(tokens: list[Token], idx: int, out: list[Token], attr: str) -> None:
    tok = tokens[idx]
    prev = tokens[idx - 1] if idx else None
    starts_relative_path = tok.kind == "name" and tok.text not in _OPERATOR_NAMES
    starts_relative_path |= tok.text in ("..", "@")
    if not starts_relative_path:
        return
    if prev is not None and prev.text in ("/", "//", "@", "::"):
        return
    in_predicate = sum(1 for t in tokens[:idx] if t.text == "[") > sum(
        1 for t in tokens[:idx] if t.text == "]"
    )
    nxt = tokens[idx + 1] if idx + 1 < len(tokens) else None
    if in_predicate or (nxt is not None and nxt.text == "("):
        return
    raise UnsupportedXPathError(f"relative step {tok.text!r} from an attribute context ({attr})")


LONG_LIST = 4000  # characters; shorter lists stay a libxml2 substring test (no callback)
_CODE_LISTS: dict[str, tuple[frozenset[str], str]] = {}


def _rewrite_code_lists(tokens: list[Token], variables: Mapping[str, str]) -> list[Token]:
    """``contains($List, concat(',', X, ','))`` → ``ent:in-list('key', X)`` for long lists.

    GİB writes code-list membership as a substring search in a comma-separated string. For
    long lists (units: 2,000 codes) a hash lookup gives the same answer much faster; values
    that contain a comma keep the exact substring semantics (see :func:`_in_list`).
    """
    out = list(tokens)
    i = 0
    while i + 9 < len(out):
        t = out
        if (
            t[i].text == "contains"
            and t[i + 1].text == "("
            and t[i + 2].kind == "var"
            and t[i + 3].text == ","
            and t[i + 4].text == "concat"
            and t[i + 5].text == "("
            and t[i + 6].text in ("','", '","')
            and t[i + 7].text == ","
        ):
            value = variables.get(t[i + 2].text[1:], "")
            concat_close = _matching_close(out, i + 5)
            close = concat_close + 1
            literal = len(value) >= 2 and value[0] == value[-1] and value[0] in "'\""
            if (
                literal
                and len(value) >= LONG_LIST
                and close < len(out)
                and out[close].text == ")"
                and out[concat_close - 1].text in ("','", '","')
                and out[concat_close - 2].text == ","
            ):
                key = _register_list(value[1:-1])
                replacement = [
                    Token("name", "ent:in-list"),
                    Token("punct", "("),
                    Token("str", f"'{key}'"),
                    Token("punct", ","),
                    *_as_one_string(out[i + 8 : concat_close - 2]),
                    Token("punct", ")"),
                ]
                out[i : close + 1] = replacement
                i += len(replacement)
                continue
        i += 1
    return out


def _as_one_string(tokens: list[Token]) -> list[Token]:
    """The middle arguments of ``concat(',', …, ',')`` as one string argument."""
    depth = 0
    for tok in tokens:
        if tok.text in ("(", "["):
            depth += 1
        elif tok.text in (")", "]"):
            depth -= 1
        elif tok.text == "," and depth == 0:
            return [
                Token("name", "concat"),
                Token("punct", "("),
                Token("str", "''"),
                Token("punct", ","),
                *tokens,
                Token("punct", ")"),
            ]
    return tokens


def register_code_lists(variables: Mapping[str, str]) -> None:
    """Make the long code lists of a rule pack known to ``ent:in-list``.

    ``translate`` registers them as it rewrites; a rule set compiled from cached translations
    skips ``translate``, so the lists are registered here, under the same content-derived keys.
    """
    for value in variables.values():
        literal = len(value) >= 2 and value[0] == value[-1] and value[0] in "'\""
        if literal and len(value) >= LONG_LIST:
            _register_list(value[1:-1])


def _register_list(text: str) -> str:
    import hashlib

    key = hashlib.sha256(text.encode()).hexdigest()[:16]
    items = frozenset(p for p in text.split(",") if p)
    _CODE_LISTS[key] = (items, text)
    return key


def _in_list(_ctx: object, key: Any, value: Any) -> bool:
    items, text = _CODE_LISTS[_string(key)]
    s = _string(value)
    if "," in s or not s:
        return f",{s}," in text
    return s in items


def _substitute(tokens: list[Token], variables: Mapping[str, str]) -> list[Token]:
    out: list[Token] = []
    for tok in tokens:
        if tok.kind != "var":
            out.append(tok)
            continue
        name = tok.text[1:]
        if name not in variables:
            raise UnsupportedXPathError(f"unknown variable ${name}")
        value = variables[name]
        inner = tokenize(value)
        if len(inner) == 1:
            out.extend(inner)
        else:
            out.extend([Token("punct", "("), *inner, Token("punct", ")")])
    return _classify_operators(out)


def hoist_absolute_paths(expr: str, names: dict[str, str], *, parents: bool = True) -> str:
    """Replace context-free paths by ``$variables`` evaluated once per document or parent.

    ``//cbc:UBLVersionID`` inside a per-line test would scan the whole document for every line;
    an absolute path means the same from any context node of the document, so it is evaluated
    once (``$gN``). A top-level path that starts with ``..`` (``../cbc:ProfileID``) depends
    only on that ancestor, so it is evaluated once per ancestor (``$pN``) instead of scanning
    every sibling line again for each line. ``names`` maps each hoisted path text to its
    variable name and is extended here.

    >>> names = {}
    >>> hoist_absolute_paths("not(//cbc:UBLVersionID = '2.1') or ../cbc:ProfileID = 'X'", names)
    "not($g0 = '2.1') or $p1 = 'X'"
    >>> names
    {'//cbc:UBLVersionID': 'g0', '../cbc:ProfileID': 'p1'}
    """
    tokens = tokenize(expr)
    out: list[Token] = []
    predicate_depth = 0
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        prev = out[-1] if out else None
        starts_path = not _operand_before(prev) and (prev is None or prev.text not in ("/", "//"))
        absolute = tok.text in ("/", "//") and not _operand_before(prev)
        parent = parents and tok.text == ".." and starts_path and predicate_depth == 0
        if absolute or parent:
            end = _path_end(tokens, i)
            if not _selects_elements(tokens[i:end]):
                # lxml hands attributes and text back as strings, not nodes: keep inline.
                out.extend(tokens[i:end])
                i = end
                continue
            path = _render(tokens[i:end])
            var = names.setdefault(path, ("g" if absolute else "p") + str(len(names)))
            out.append(Token("var", "$" + var))
            i = end
            continue
        if tok.text == "[":
            predicate_depth += 1
        elif tok.text == "]":
            predicate_depth -= 1
        out.append(tok)
        i += 1
    return _render(out)


def _selects_elements(path: list[Token]) -> bool:
    """True when the path's last step selects elements (not ``@attr``, ``text()``…)."""
    depth = 0
    last_step = 0
    for j, tok in enumerate(path):
        if tok.text == "[":
            depth += 1
        elif tok.text == "]":
            depth -= 1
        elif tok.text in ("/", "//") and depth == 0:
            last_step = j + 1
    step = path[last_step:]
    if not step:
        return True  # "/" alone: the document node
    first = step[0]
    if first.text == "@" or (first.kind == "name" and first.text in _NODE_TESTS):
        return False
    return not (len(step) > 1 and step[1].text == "::" and first.text in ("attribute", "namespace"))


def parent_path(path: str) -> tuple[int, str]:
    """``'../../cbc:X'`` → ``(2, 'cbc:X')``; ``'..'`` → ``(1, '.')``.

    >>> parent_path("../../../cbc:UBLVersionID")
    (3, 'cbc:UBLVersionID')
    """
    levels = 0
    rest = path
    while rest == ".." or rest.startswith("../"):
        levels += 1
        rest = rest[3:]
    if rest.startswith("/"):  # ..//x
        rest = "." + rest
    return levels, rest or "."


def _path_end(tokens: list[Token], start: int) -> int:
    i = start
    while i < len(tokens):
        tok = tokens[i]
        if tok.text == "[":
            i = _matching_close(tokens, i) + 1
            continue
        if tok.kind == "name" and i + 1 < len(tokens) and tokens[i + 1].text == "(":
            if tok.text not in _NODE_TESTS:
                break
            i = _matching_close(tokens, i + 1) + 1
            continue
        if tok.kind == "name" or tok.text in ("/", "//", "@", "::", ".", "..", "*"):
            if tok.kind == "op":
                break
            i += 1
            continue
        break
    return i


# --- XSD regular expressions -------------------------------------------------------------

_XSD_CLASS_ESCAPES = {"s": " \\t\\n\\r", "d": "\\d"}


@lru_cache(maxsize=512)
def xsd_regex(pattern: str) -> re.Pattern[str]:
    r"""Compile an XPath/XSD regular expression with Python's ``re``, exactly or not at all.

    ``$`` only matches at the very end (Python's also matches before a final newline) and
    ``\s`` is the four XML whitespace characters.

    >>> bool(xsd_regex('^[A-Z]{3}$').search('ABC\n'))
    False
    >>> bool(xsd_regex(r'^a\sb$').search('a\u00a0b'))
    False
    """
    out: list[str] = []
    i = 0
    in_class = False
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\":
            if i + 1 >= len(pattern):
                raise UnsupportedXPathError("regex ends with a backslash")
            esc = pattern[i + 1]
            if esc == "s":
                out.append(" \\t\\n\\r" if in_class else "[ \\t\\n\\r]")
            elif esc == "S":
                if in_class:
                    raise UnsupportedXPathError(r"\S inside a character class")
                out.append("[^ \\t\\n\\r]")
            elif esc in "ic":
                raise UnsupportedXPathError(f"regex escape \\{esc}")
            elif esc in "pP":
                raise UnsupportedXPathError("regex Unicode category escapes")
            else:
                out.append(ch + esc)
            i += 2
            continue
        if in_class:
            if ch == "]":
                in_class = False
            elif ch == "[" and i + 1 < len(pattern) and pattern[i - 1] == "-":
                raise UnsupportedXPathError("regex character class subtraction")
            out.append(ch)
        elif ch == "[":
            in_class = True
            out.append(ch)
        elif ch == "$":
            out.append(r"\Z")
        else:
            out.append(ch)
        i += 1
    try:
        return re.compile("".join(out))
    except re.error as exc:
        raise UnsupportedXPathError(f"regex {pattern!r}: {exc}") from None


# --- extension functions -----------------------------------------------------------------


def _string(value: Any) -> str:
    """XPath 1.0 ``string()`` of what lxml hands an extension function."""
    if type(value) is str:
        return value
    if isinstance(value, list):
        if not value:
            return ""
        value = value[0]
    if isinstance(value, str):
        return str(value)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        return str(Decimal(repr(value)).normalize()) if value != int(value) else str(int(value))
    itertext = getattr(value, "itertext", None)
    if itertext is not None:
        return "".join(itertext())
    return str(value)


def _matches(_ctx: object, value: Any, pattern: Any) -> bool:
    compiled = _REGEXES.get(pattern) if type(pattern) is str else None
    if compiled is None:
        compiled = xsd_regex(_string(pattern))
        _REGEXES[_string(pattern)] = compiled
    return compiled.search(_string(value)) is not None


_REGEXES: dict[str, re.Pattern[str]] = {}


_DATE_RE = re.compile(r"^(-?\d{4,})-(\d{2})-(\d{2})(Z|[+-]\d{2}:\d{2})?$")


@lru_cache(maxsize=4096)
def _parse_date(text: str) -> tuple[dt.date, int | None] | None:
    m = _DATE_RE.match(text.strip(" \t\r\n"))
    if m is None:
        return None
    year, month, day, tz = m.groups()
    if year.startswith("-") or (len(year) > 4 and year.startswith("0")):
        return None
    try:
        date = dt.date(int(year), int(month), int(day))
    except ValueError:
        return None
    offset: int | None = None
    if tz == "Z":
        offset = 0
    elif tz:
        hours, minutes = int(tz[1:3]), int(tz[4:6])
        if hours > 14 or minutes > 59 or (hours == 14 and minutes):
            return None
        offset = (hours * 60 + minutes) * (-1 if tz[0] == "-" else 1)
    return date, offset


def _castable_date(_ctx: object, value: Any) -> bool:
    return _parse_date(_string(value)) is not None


_TIME_RE = re.compile(r"^(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})?$")


def _castable_time(_ctx: object, value: Any) -> bool:
    return _time_ok(_string(value))


@lru_cache(maxsize=1024)
def _time_ok(text: str) -> bool:
    m = _TIME_RE.match(text.strip(" \t\r\n"))
    if m is None:
        return False
    hours, minutes, seconds, fraction, tz = m.groups()
    if (hours, minutes, seconds) == ("24", "00", "00"):
        if fraction and fraction.strip(".0"):
            return False
    elif int(hours) > 23 or int(minutes) > 59 or int(seconds) > 59:
        return False
    return not (tz and tz != "Z" and (int(tz[1:3]) > 14 or int(tz[4:6]) > 59))


def _date(_ctx: object, value: Any) -> float:
    """The start instant of an ``xs:date`` in minutes, the implicit zone being Istanbul's."""
    parsed = _parse_date(_string(value))
    if parsed is None:
        return float("nan")
    date, offset = parsed
    if offset is None:
        offset = 180  # Europe/Istanbul, UTC+03:00 all year since 2016
    return float(date.toordinal() * 1440 - offset)


# What ``ent:current-date()`` answers, set by :func:`current_date` (per thread and task).
_TODAY: ContextVar[str | None] = ContextVar("entegrator_xpath_today", default=None)


@contextmanager
def current_date(today: dt.date) -> Iterator[None]:
    """Within the block, ``ent:current-date()`` is ``today`` (a date in Europe/Istanbul)."""
    token = _TODAY.set(today.isoformat() + "+03:00")
    try:
        yield
    finally:
        _TODAY.reset(token)


def _current_date(_ctx: object) -> str:
    today = _TODAY.get()
    if today is None:
        raise RuntimeError("ent:current-date() evaluated outside current_date(today)")
    return today


def extension_functions() -> dict[tuple[str, str], Any]:
    """The functions ``translate`` refers to."""
    return {
        (EXTENSION_NS, "matches"): _matches,
        (EXTENSION_NS, "in-list"): _in_list,
        (EXTENSION_NS, "castable-date"): _castable_date,
        (EXTENSION_NS, "castable-time"): _castable_time,
        (EXTENSION_NS, "date"): _date,
        (EXTENSION_NS, "current-date"): _current_date,
    }

"""GİB's schematron, compiled from the rule pack's ``.sch`` onto libxml2 (the default engine).

The pack's schematron is read at load time and every rule is compiled once per document type
(``$type`` = ``efatura`` or ``earchive``):

* a rule's context (``inv:Invoice/cac:InvoiceLine``) becomes a matcher on the element's tag and
  its ancestors, so one walk over the parsed tree dispatches every element to its rules, with
  schematron's first-matching-rule-per-pattern semantics;
* all the rule's asserts become **one** XPath 1.0 expression (see :mod:`.xpath`) that returns the
  indices of the failing asserts, so a rule costs one libxml2 call per context node;
* absolute paths inside tests (``//cbc:UBLVersionID``) are evaluated once per document instead
  of once per line, which keeps the cost linear in the number of lines.

Nothing is approximated: a rule pack whose XPath the translator cannot map exactly raises
:class:`UnsupportedXPathError` when compiled, and the validator then runs that pack with Saxon
(:mod:`entegrator.rules.saxon`), the reference engine. Tests run both engines and
efatura-kontrol on the same corpora and require the same findings.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree

from entegrator.findings import Finding, Severity, Source
from entegrator.findings.paths import element_path, line_of
from entegrator.rules.gib_catalogue import gib_rule_finding
from entegrator.rules.xpath import (
    EXTENSION_NS,
    UnsupportedXPathError,
    current_date,
    extension_functions,
    hoist_absolute_paths,
    parent_path,
    register_code_lists,
    tokenize,
    translate,
)

__all__ = ["CompiledSchematron", "SchematronSource", "read_schematron"]

SCH_NS = "http://purl.oclc.org/dsdl/schematron"
S = "{" + SCH_NS + "}"
_EXTENSIONS = extension_functions()
_PREFIX_RE = re.compile(r"(?<![\w.\-$'])([A-Za-z_][\w.\-]*):(?=[A-Za-z_*])")


@dataclass(frozen=True, slots=True)
class MessagePart:
    kind: str  # text | name | value
    text: str


@dataclass(frozen=True, slots=True)
class Assertion:
    id: str
    test: str
    report: bool
    flag: str | None
    message: tuple[MessagePart, ...]


@dataclass(frozen=True, slots=True)
class RuleSource:
    pattern: str
    context: str
    asserts: tuple[Assertion, ...]


@dataclass(frozen=True, slots=True)
class SchematronSource:
    """The pack's schematron as data: namespaces, variables, patterns and rules."""

    namespaces: dict[str, str]
    variables: dict[str, str]
    rules: tuple[RuleSource, ...]
    patterns: tuple[str, ...]
    digest: str = ""  # sha256 of the schematron file

    @property
    def assert_count(self) -> int:
        return sum(len(r.asserts) for r in self.rules)


def read_schematron(data: bytes) -> SchematronSource:
    """Read a (flattened) ISO schematron: ``ns``, global ``let``, ``pattern``/``rule``/``assert``.

    ``include``, abstract rules and ``extends`` are resolved in place so that a GİB package's
    main schematron, already assembled into one file, can be read as it is.
    """
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    root = etree.fromstring(data, parser)
    namespaces = {ns.get("prefix", ""): ns.get("uri", "") for ns in root.iter(S + "ns")}
    variables: dict[str, str] = {}
    for let in root.findall(S + "let"):
        variables[let.get("name", "")] = let.get("value", "")
    abstract = {r.get("id", ""): r for r in root.iter(S + "rule") if r.get("abstract") == "true"}
    rules: list[RuleSource] = []
    patterns: list[str] = []
    loose = [r for r in root.findall(S + "rule") if r.get("abstract") != "true"]
    pattern_elements: list[tuple[str, list[etree._Element]]] = []
    for pattern in root.iter(S + "pattern"):
        if pattern.get("abstract") == "true":
            raise UnsupportedXPathError("abstract patterns are not supported")
        members = [r for r in pattern.findall(S + "rule") if r.get("abstract") != "true"]
        pattern_elements.append((pattern.get("id") or f"pattern-{len(patterns)}", members))
        for let in pattern.findall(S + "let"):
            variables[let.get("name", "")] = let.get("value", "")
    if loose:
        pattern_elements.insert(0, ("genel", loose))
    for name, members in pattern_elements:
        if not members:
            continue
        patterns.append(name)
        for k, rule in enumerate(members, 1):
            if rule.find(S + "let") is not None:
                raise UnsupportedXPathError("rule-level let is not supported")
            asserts = tuple(_assertions(rule, abstract, name, k))
            rules.append(RuleSource(name, rule.get("context", ""), asserts))
    digest = hashlib.sha256(data).hexdigest()
    return SchematronSource(namespaces, variables, tuple(rules), tuple(patterns), digest)


def _assertions(
    rule: etree._Element, abstract: dict[str, etree._Element], pattern: str, k: int
) -> Iterator[Assertion]:
    i = 0
    for child in rule:
        if child.tag == S + "extends":
            base = abstract.get(child.get("rule", ""))
            if base is None:
                raise UnsupportedXPathError(f"extends of unknown rule {child.get('rule')}")
            yield from _assertions(base, abstract, child.get("rule", ""), 0)
            continue
        if child.tag not in (S + "assert", S + "report"):
            continue
        i += 1
        yield Assertion(
            id=child.get("id") or f"{pattern}-{k}-{i}",
            test=child.get("test", ""),
            report=child.tag == S + "report",
            flag=child.get("flag"),
            message=tuple(_message(child)),
        )


def _message(node: etree._Element) -> Iterator[MessagePart]:
    if node.text:
        yield MessagePart("text", node.text)
    for child in node:
        if child.tag == S + "name":
            yield MessagePart("name", child.get("path", "."))
        elif child.tag == S + "value-of":
            yield MessagePart("value", child.get("select", "."))
        else:
            yield from _message(child)
        if child.tail:
            yield MessagePart("text", child.tail)


# --- context patterns ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Step:
    tag: str | None  # Clark name; None for *
    descendant: bool  # separated from the step before by // (any ancestor)


@dataclass(frozen=True, slots=True)
class _Pattern:
    """A match pattern: steps from the outermost to the node itself."""

    steps: tuple[_Step, ...]
    anchored: bool  # starts with / (the first step is the document element)
    attribute: str | None  # the node is this attribute of the last step's element


def _match_tags(steps: tuple[_Step, ...], tags: tuple[str, ...], anchored: bool) -> bool:
    """Does a node whose ancestry (document element first) is ``tags`` match the steps?"""

    def match(i: int, j: int) -> bool:
        step = steps[i]
        if j < 0 or (step.tag is not None and tags[j] != step.tag):
            return False
        if i == 0:
            return not anchored or j == 0
        if not step.descendant:
            return match(i - 1, j - 1)
        return any(match(i - 1, k) for k in range(j - 1, -1, -1))

    return match(len(steps) - 1, len(tags) - 1)


def _parse_pattern(text: str, namespaces: dict[str, str]) -> list[_Pattern]:
    out = []
    for alternative in _split_union(text):
        out.append(_parse_alternative(alternative.strip(), namespaces))
    return out


def _split_union(text: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in "[(":
            depth += 1
        elif ch in "])":
            depth -= 1
        elif ch == "|" and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return parts


def _parse_alternative(text: str, namespaces: dict[str, str]) -> _Pattern:
    tokens = tokenize(text)
    anchored = False
    steps: list[_Step] = []
    attribute: str | None = None
    descendant = True  # a relative pattern may be anywhere below the root
    i = 0
    if tokens and tokens[0].text == "/":
        anchored, descendant, i = True, False, 1
    elif tokens and tokens[0].text == "//":
        i = 1
    while i < len(tokens):
        tok = tokens[i]
        if tok.text == "@" and i + 1 == len(tokens) - 1 and tokens[i + 1].kind == "name":
            attribute = _attribute_name(tokens[i + 1].text)
            break
        if tok.kind != "name" or (i + 1 < len(tokens) and tokens[i + 1].text not in ("/", "//")):
            raise UnsupportedXPathError(f"rule context {text!r} is not a simple path")
        steps.append(_Step(_clark(tok.text, namespaces), descendant))
        if i + 1 < len(tokens):
            descendant = tokens[i + 1].text == "//"
        i += 2
    if attribute is not None and not steps:
        steps.append(_Step(None, True))
        anchored = False
    if not steps:
        raise UnsupportedXPathError(f"rule context {text!r} is not a simple path")
    return _Pattern(tuple(steps), anchored, attribute)


def _attribute_name(name: str) -> str:
    if ":" in name:
        raise UnsupportedXPathError("namespaced attribute contexts are not supported")
    return name


def _clark(name: str, namespaces: dict[str, str]) -> str | None:
    if name == "*":
        return None
    prefix, _, local = name.rpartition(":")
    if not prefix:
        return local
    if prefix not in namespaces:
        raise UnsupportedXPathError(f"unknown prefix {prefix}")
    return "{" + namespaces[prefix] + "}" + local


# --- compiled rules ------------------------------------------------------------------------


@dataclass(slots=True)
class _Rule:
    index: int
    pattern_index: int
    source: RuleSource
    alternatives: list[_Pattern]
    xpath: etree.XPath | None  # None: XPath the translator does not map (see ``unsupported``)
    uses: tuple[str, ...]
    unsupported: str | None
    # The tests read nothing but the context's string value (and perhaps today's date): the
    # answer for a leaf element is the same for the same text, in any document.
    pure: bool = False
    dated: bool = False


@dataclass(slots=True)
class _Hit:
    rule: _Rule
    element: etree._Element
    attribute: str | None


class _Translations:
    """Records the translator's answers while a rule set compiles, or replays them.

    Translating GİB's 500 asserts takes a few hundred milliseconds of pure Python; the answers
    depend only on the schematron file, ``$type`` and the translator's own code, so they are kept
    in a cache file under ``cache_dir`` (the caller's choice: the platform and the CLI pass
    ``ENTEGRATOR_CACHE_DIR``) and a new process only compiles the XPaths. ``cache_dir`` None:
    nothing is read or written, every process translates. Any problem with the cache means
    compiling from scratch.
    """

    def __init__(
        self, source: SchematronSource, type_: str, *, cache_dir: Path | None, cached: bool = True
    ) -> None:
        self.answers: list[Any] = []
        self.replay: list[Any] | None = None
        self.path: Path | None = None
        if cache_dir is None:
            return
        code = b"".join(Path(m).read_bytes() for m in (__file__, _xpath_module_file()))
        key = hashlib.sha256(
            f"{source.digest}|{type_}|".encode() + hashlib.sha256(code).digest()
        ).hexdigest()[:32]
        self.path = cache_dir / "rules" / f"{key}.json"
        if not cached:
            return
        try:
            loaded = json.loads(self.path.read_text("utf-8"))
            if isinstance(loaded, list):
                self.replay = loaded
        except (OSError, ValueError):
            self.replay = None

    def call(self, func: Callable[..., str], *args: Any, **kwargs: Any) -> str:
        names: dict[str, str] | None = kwargs.get("names")
        if self.replay is not None:
            try:
                kind, value, added = self.replay.pop(0)
                if names is not None:
                    names.update(dict(added))
            except (IndexError, TypeError, ValueError) as exc:
                raise _StaleCacheError from exc
            if kind == "error":
                raise UnsupportedXPathError(value)
            return str(value)
        before = set(names) if names is not None else set()
        try:
            if names is not None:
                kwargs.pop("names")
                result = func(*args, names, **kwargs)
            else:
                result = func(*args, **kwargs)
        except UnsupportedXPathError as exc:
            self.answers.append(["error", str(exc), {}])
            raise
        added = {k: v for k, v in (names or {}).items() if k not in before}
        self.answers.append(["ok", result, added])
        return result

    def save(self) -> None:
        if self.replay is not None or self.path is None:
            return
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_suffix(f".{os.getpid()}.tmp")
            tmp.write_text(json.dumps(self.answers, ensure_ascii=False), "utf-8")
            tmp.replace(self.path)
        except OSError:
            pass  # a read-only home: compile each time


class _StaleCacheError(Exception):
    """The cache file does not fit this compilation; compile from scratch."""


def _xpath_module_file() -> str:
    from entegrator.rules import xpath as module

    return str(module.__file__)


class CompiledSchematron:
    """GİB's schematron for one ``$type``, ready to run on parsed trees (thread-safe)."""

    def __init__(
        self, source: SchematronSource, type_: str, *, cache_dir: Path | None = None
    ) -> None:
        """Compile ``source`` for ``$type``; translations are cached under ``cache_dir`` if set."""
        self.source = source
        self.type = type_
        self.namespaces = dict(source.namespaces)
        self.namespaces["ent"] = EXTENSION_NS
        self._xpath_ns = {k: v for k, v in self.namespaces.items() if k}
        variables = dict(source.variables)
        variables["type"] = "'" + type_ + "'"
        self._variables = variables
        register_code_lists(variables)  # translations replayed from the cache skip translate()
        try:
            self._build(_Translations(source, type_, cache_dir=cache_dir))
        except _StaleCacheError:
            self._build(_Translations(source, type_, cache_dir=cache_dir, cached=False))

    def _build(self, memo: _Translations) -> None:
        source = self.source
        hoisted: dict[str, str] = {}
        self._memo = memo
        self._answers: dict[tuple[int, str, int], str] = {}
        self._attribute_answers: dict[tuple[int, str], bool] = {}
        self._holders: dict[str, etree.XPath] = {}
        pattern_index = {name: i for i, name in enumerate(source.patterns)}
        self.rules = [
            self._compile_rule(index, rule, pattern_index[rule.pattern], hoisted)
            for index, rule in enumerate(source.rules)
        ]
        self._index_rules()
        # Attribute rules of GİB (``//@currencyID``) run set-wise: one libxml2 call returns
        # the attributes that fail any assert, instead of one call per attribute.
        self._attribute_sets = [
            self._compile_attribute_rule(rule, name, entries, hoisted)
            for name, entries in self._by_attribute.items()
            for rule, _alt in entries
        ]
        self._hoisted: dict[str, tuple[int, etree.XPath]] = {}
        for path, var in hoisted.items():
            levels, rest = (0, path) if var.startswith("g") else parent_path(path)
            self._hoisted[var] = (levels, self._compile(rest))
        if memo.replay:
            raise _StaleCacheError  # answers left over: the file was made for other rules
        memo.save()

    def _compile_rule(
        self, index: int, rule: RuleSource, pattern: int, hoisted: dict[str, str]
    ) -> _Rule:
        alternatives = _parse_pattern(rule.context, self.source.namespaces)
        attrs = {a.attribute for a in alternatives}
        if len(attrs) > 1:
            raise UnsupportedXPathError(f"rule context {rule.context!r} mixes nodes and attributes")
        attribute = attrs.pop()
        xpath: etree.XPath | None = None
        unsupported: str | None = None
        expr = ""
        try:
            tests = [
                self._memo.call(
                    translate, a.test, variables=self._variables, attribute_context=attribute
                )
                for a in rule.asserts
            ]
            combined = _combine(tests, [a.report for a in rule.asserts])
            expr = self._memo.call(hoist_absolute_paths, combined, names=hoisted)
            xpath = self._compile(expr)
        except UnsupportedXPathError as exc:
            expr, unsupported = "", str(exc)
        return _Rule(
            index=index,
            pattern_index=pattern,
            source=rule,
            alternatives=alternatives,
            xpath=xpath,
            uses=tuple(sorted({v for v in hoisted.values() if "$" + v in expr})),
            unsupported=unsupported,
            pure=bool(expr) and attribute is None and _reads_only_context(expr),
            dated="ent:current-date(" in expr,
        )

    def _index_rules(self) -> None:
        self._by_pair: dict[tuple[str, str | None], list[tuple[_Rule, _Pattern]]] = {}
        self._wildcard: list[tuple[_Rule, _Pattern]] = []
        self._by_attribute: dict[str, list[tuple[_Rule, _Pattern]]] = {}
        for rule in self.rules:
            for alt in rule.alternatives:
                if alt.attribute is not None:
                    self._by_attribute.setdefault(alt.attribute, []).append((rule, alt))
                elif alt.steps[-1].tag is None:
                    self._wildcard.append((rule, alt))
                else:
                    self._by_pair.setdefault(_pair_key(alt), []).append((rule, alt))
        self._tags = tuple({tag for tag, _ in self._by_pair})
        # A pattern of several steps can only match below its first step's element: a
        # document with no ds:Signature or desp:DespatchAdvice skips those rules entirely.
        self._anchors = tuple(
            {
                alt.steps[0].tag
                for rule in self.rules
                for alt in rule.alternatives
                if len(alt.steps) > 1 and alt.steps[0].tag is not None
            }
        )
        self._candidates: dict[tuple[frozenset[str], tuple[str, ...]], list[_Rule]] = {}

    def _compile_attribute_rule(
        self,
        rule: _Rule,
        name: str,
        entries: list[tuple[_Rule, _Pattern]],
        hoisted: dict[str, str],
    ) -> tuple[_Rule, str, etree.XPath, tuple[str, ...], bool]:
        patterns = [r.pattern_index for r, _ in entries]
        alternatives_ok = all(alt.steps == (_Step(None, True),) for _, alt in entries)
        if not alternatives_ok or len(patterns) != len(set(patterns)) or rule.xpath is None:
            raise UnsupportedXPathError(f"attribute rule {rule.source.context!r}")
        tests = [
            self._memo.call(translate, a.test, variables=self._variables)
            for a in rule.source.asserts
        ]
        any_fails = " or ".join(
            f"boolean({t})" if a.report else f"not({t})"
            for t, a in zip(tests, rule.source.asserts, strict=True)
        )
        predicate = self._memo.call(hoist_absolute_paths, any_fails, names=hoisted)
        uses = tuple(sorted({v for v in hoisted.values() if "$" + v in predicate}))
        if any(v.startswith("p") for v in uses):
            raise UnsupportedXPathError(f"attribute rule {rule.source.context!r} uses '..'")
        xpath = self._compile(f"//@{name}[{predicate}]", smart_strings=True)
        # A test that reads only the attribute's value (and document-level paths) is answered
        # once per distinct value: 600 currencyID attributes are nearly always one "TRY".
        by_value = _reads_only_context(predicate)
        return rule, name, xpath, uses, by_value

    @property
    def delegated(self) -> list[str]:
        """Contexts of rules left to Saxon (documents that reach them are run there)."""
        return [r.source.context for r in self.rules if r.xpath is None]

    def _compile(self, expr: str, *, smart_strings: bool = False) -> etree.XPath:
        # Only the prefixes the expression uses: libxml2 registers them on every call.
        used = {m.group(1) for m in _PREFIX_RE.finditer(_without_literals(expr))}
        namespaces = {p: self._xpath_ns[p] for p in used if p in self._xpath_ns}
        # Per-expression extensions: libxml2 looks globally registered ones up far slower.
        functions = {key: func for key, func in _EXTENSIONS.items() if f"ent:{key[1]}(" in expr}
        try:
            return etree.XPath(
                expr,
                namespaces=namespaces,
                extensions=functions or None,
                smart_strings=smart_strings,  # plain str results unless .getparent() is needed
            )
        except etree.XPathSyntaxError as exc:
            raise UnsupportedXPathError(f"{exc}: {expr[:200]}") from None

    # -- running ---------------------------------------------------------------------------

    def _rules_for(self, ancestry: tuple[str, ...], present: frozenset[str]) -> list[_Rule]:
        """The rules that fire on a node with this ancestry: first matching rule per pattern.

        Resolved once per distinct ancestry and cached: UBL documents repeat a few hundred
        element paths, so the pattern matching is paid once per process, not per node.
        """
        key = (present, ancestry)
        found = self._candidates.get(key)
        if found is None:
            tag, parent = ancestry[-1], (ancestry[-2] if len(ancestry) > 1 else None)
            pool = self._by_pair.get((tag, parent), []) + self._by_pair.get((tag, None), [])
            pool = sorted(pool + self._wildcard, key=lambda entry: entry[0].index)
            fired: set[int] = set()
            found = []
            for rule, alt in pool:
                if rule.pattern_index in fired:
                    continue
                if len(alt.steps) > 1 and alt.steps[0].tag not in present:
                    continue
                if _match_tags(alt.steps, ancestry, alt.anchored):
                    fired.add(rule.pattern_index)
                    found.append(rule)
            self._candidates[key] = found
        return found

    def _document_vars(
        self, root: etree._Element, uses: tuple[str, ...], cache: dict[str, Any]
    ) -> dict[str, Any]:
        for var in uses:
            if var not in cache:
                cache[var] = self._hoisted[var][1](root)
        return {var: cache[var] for var in uses}

    def _hits(self, root: etree._Element, document: dict[str, Any]) -> Iterator[_Hit]:
        present = frozenset(str(el.tag) for el in root.iter(*self._anchors))
        elements = root.iter(etree.Element) if self._wildcard else root.iter(*self._tags)
        known: dict[etree._Element, tuple[str, ...]] = {}

        def ancestry_of(node: etree._Element) -> tuple[str, ...]:
            found = known.get(node)
            if found is None:
                parent = node.getparent()
                head = ancestry_of(parent) if parent is not None else ()
                found = known[node] = (*head, str(node.tag))
            return found

        for el in elements:
            for rule in self._rules_for(ancestry_of(el), present):
                yield _Hit(rule, el, None)
        for rule, name, failing, uses, by_value in self._attribute_sets:
            if by_value and rule.xpath is not None:
                yield from self._attribute_hits_by_value(root, rule, name)
                continue
            values: Any
            try:
                values = failing(root, **self._document_vars(root, uses, document))
            except Exception:  # an extension function raised: see run()
                # Run them one by one, where a failure is attributed to its assert.
                values = root.xpath(f"//@{name}")
            for value in values:
                parent = value.getparent()
                if parent is not None:
                    yield _Hit(rule, parent, name)

    def _attribute_hits_by_value(
        self, root: etree._Element, rule: _Rule, name: str
    ) -> Iterator[_Hit]:
        """Hits of an attribute rule that reads only the attribute's value: the rule runs once
        per distinct value (on a one-element stand-in), remembered across documents."""
        values_of = self._holders.get(name)
        if values_of is None:
            values_of = etree.XPath(f"descendant-or-self::*/@{name}", smart_strings=False)
            self._holders[name] = values_of
        values: Any = values_of(root)
        if rule.xpath is None:  # attribute rules compile or are left to Saxon, never both
            raise UnsupportedXPathError(f"attribute rule {name!r} needs the Saxon engine")
        failing: set[str] = set()
        for value in set(values):
            key = (rule.index, value)
            fails = self._attribute_answers.get(key)
            if fails is None:
                stand_in = etree.Element("v", {name: value})
                try:
                    fails = bool(rule.xpath(stand_in))
                except Exception:  # an extension function raised: report it per attribute
                    fails = True
                else:
                    if len(self._attribute_answers) > 50_000:
                        self._attribute_answers.clear()
                    self._attribute_answers[key] = fails
            if fails:
                failing.add(value)
        if failing:
            for el in root.iter(etree.Element):
                if el.get(name) in failing:
                    yield _Hit(rule, el, name)

    def run(self, root: etree._Element, *, today: dt.date) -> list[Finding]:
        """Every failed assert of GİB's rules on the tree under ``root``; ``current-date()`` is
        ``today`` (the date in Europe/Istanbul).

        Raises :class:`UnsupportedXPathError` when the document reaches a rule that only Saxon can
        run; the caller then validates the document with the Saxon engine.
        """
        with current_date(today):
            return self._run(root, today.toordinal())

    def _run(self, root: etree._Element, today: int) -> list[Finding]:
        document: dict[str, Any] = {}
        per_parent: dict[tuple[str, etree._Element], Any] = {}
        findings: list[Finding] = []
        memo = self._answers
        for hit in self._hits(root, document):
            rule = hit.rule
            if rule.xpath is None:
                raise UnsupportedXPathError(
                    f"rule {rule.source.context!r} needs the Saxon engine: {rule.unsupported}"
                )
            memo_key = None
            if rule.pure and len(hit.element) == 0:
                memo_key = (rule.index, hit.element.text or "", today if rule.dated else 0)
                answer = memo.get(memo_key)
                if answer is not None:
                    for index in answer.split(",")[:-1]:
                        findings.append(self._finding(hit, rule.source.asserts[int(index)]))
                    continue
            kwargs: dict[str, Any] = {}
            for var in rule.uses:
                levels, xpath = self._hoisted[var]
                if levels == 0:
                    if var not in document:
                        document[var] = xpath(root)
                    kwargs[var] = document[var]
                    continue
                anchor: etree._Element | None = hit.element
                # An attribute context is its parent element here: one level less to climb.
                for _ in range(levels - (1 if hit.attribute else 0)):
                    anchor = anchor.getparent() if anchor is not None else None
                if anchor is None:
                    kwargs[var] = []
                    continue
                key = (var, anchor)
                if key not in per_parent:
                    per_parent[key] = xpath(anchor)
                kwargs[var] = per_parent[key]
            try:
                failed = rule.xpath(hit.element, **kwargs)
            except Exception:  # libxml2 or an ent: function; attributed assert by assert
                findings.extend(self._one_by_one(hit))
                continue
            if memo_key is not None:
                if len(memo) > 50_000:
                    memo.clear()
                memo[memo_key] = str(failed)
            if failed:
                for index in str(failed).split(",")[:-1]:
                    findings.append(self._finding(hit, rule.source.asserts[int(index)]))
        return findings

    def _one_by_one(self, hit: _Hit) -> Iterator[Finding]:
        rule = hit.rule
        for i, assertion in enumerate(rule.source.asserts):
            expr = _combine(
                [
                    translate(
                        assertion.test, variables=self._variables, attribute_context=hit.attribute
                    )
                ],
                [assertion.report],
            )
            try:
                failed = self._compile(expr)(hit.element)  # inline paths: exact, slower
            except Exception as exc:  # a finding, never a crash
                yield Finding(
                    code="sch-evaluation",
                    severity=Severity.ERROR,
                    source=Source.SCHEMATRON,
                    line=line_of(hit.element),
                    xpath=element_path(hit.element, hit.attribute),
                    message_tr=f"GİB kuralı {assertion.id} bu değerle değerlendirilemedi: {exc}",
                    message_en=f"GİB rule {assertion.id} could not be evaluated here: {exc}",
                )
                continue
            if failed:
                yield self._finding(hit, rule.source.asserts[i])

    def _finding(self, hit: _Hit, assertion: Assertion) -> Finding:
        text = self._message(hit, assertion)
        severity = Severity.WARNING if assertion.flag == "warning" else Severity.ERROR
        return gib_rule_finding(
            rule=assertion.id,
            severity=severity,
            line=line_of(hit.element),
            xpath=element_path(hit.element, hit.attribute),
            gib_message=text,
        )

    def _message(self, hit: _Hit, assertion: Assertion) -> str:
        parts: list[str] = []
        for part in assertion.message:
            if part.kind == "text":
                parts.append(part.text)
                continue
            try:
                if part.kind == "name":
                    if hit.attribute is not None and part.text == ".":
                        parts.append(hit.attribute)
                        continue
                    expr = f"name({translate(part.text, attribute_context=hit.attribute)})"
                else:
                    expr = (
                        "string("
                        + translate(
                            part.text, variables=self._variables, attribute_context=hit.attribute
                        )
                        + ")"
                    )
                parts.append(str(self._compile(expr)(hit.element)))
            except (UnsupportedXPathError, etree.XPathError):
                parts.append("?")
        return " ".join("".join(parts).split())


def _pair_key(alt: _Pattern) -> tuple[str, str | None]:
    """Dispatch key: the node's tag and, when the pattern fixes it, its parent's tag."""
    last = alt.steps[-1]
    tag = last.tag or ""
    if len(alt.steps) > 1 and not last.descendant and alt.steps[-2].tag is not None:
        return tag, alt.steps[-2].tag
    return tag, None


def _reads_only_context(expr: str) -> bool:
    """True when the expression reads no node but ``.`` (no steps, axes, variables)."""
    tokens = tokenize(expr)
    for i, tok in enumerate(tokens):
        nxt = tokens[i + 1] if i + 1 < len(tokens) else None
        if tok.kind == "var" or tok.text in ("/", "//", "@", "..", "::", "[", "]"):
            return False
        if tok.kind == "name" and (nxt is None or nxt.text != "("):
            return False  # a child step such as cbc:ID
        if tok.kind == "name" and tok.text in ("node", "text", "position", "last", "id"):
            return False
    return True


def _without_literals(expr: str) -> str:
    return re.sub(r"'[^']*'|\"[^\"]*\"", "''", expr)


def _combine(tests: list[str], reports: list[bool]) -> str:
    """One XPath returning ``"i,j,"`` for the asserts (or reports) that fire."""
    pieces = []
    for i, (test, report) in enumerate(zip(tests, reports, strict=True)):
        marker = f"{i},"
        condition = f"boolean({test})" if report else f"not({test})"
        pieces.append(f"substring('{marker}',1,{len(marker)}*{condition})")
    if len(pieces) == 1:
        pieces.append("''")
    return "concat(" + ",".join(pieces) + ")"

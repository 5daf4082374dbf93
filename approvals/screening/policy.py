"""Screening policies: lexicons + allow-list + detectors, compiled once.

``Policy.default()``
    the built-in packs (``approvals/packs/*.tsv``), the built-in allow-list
    and the PII and contact-ID detectors.
``Policy.from_terms(terms, allow=...)``
    only the given terms and allow phrases - no packs and, unless
    ``detectors=True`` is passed, no detectors.  It is the blank slate for
    testing a company lexicon on its own; production screening uses
    ``Policy.default().extend(...)``.
``policy.extend(terms=..., allow=...)``
    a new policy with more terms (company lexicons: ``confidential``,
    ``competitor`` or any custom category).  Policies are immutable.

``policy.screen(text)`` runs normalize -> match -> detect -> decide with no I/O.
A policy's automaton is compiled when the policy is made and cached by
``policy.version`` (a sha256 of everything that affects results), so
rebuilding a policy from an unchanged lexicon costs one hash.

Decisions: ``block`` if any hit blocks, else ``review`` if any hit asks for
review, else ``pass`` (``warn`` hits are shown but hold nothing back).
Default severities: finance, profanity, ID and bank card numbers and
confidential terms block; ad_law, mobile numbers, workplace, platform and
competitor terms go to review; a custom category goes to review unless its
terms say otherwise.

Deliberate choices, so nobody has to rediscover them:
* official channels are not traffic diversion: 微信公众号, 视频号 and brand
  mentions pass; a personal contact (加微信, V信, a WeChat/QQ ID after a
  trigger word, 扫码进群) goes to review;
* 私聊 / 私信 alone pass (in-platform messages); with an ID after them they
  are diversion;
* everyday ordinals and idioms (第一次, 第一时间, 最近, 最后, 最新, 最大的收获,
  安全第一) pass; claims (销量第一, 行业最大, 最佳) go to review;
* compliant risk statements pass (投资有风险, 本产品不保本, 无风险利率).
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
import json
import logging
import threading
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple

from . import detectors
from .matcher import ALLOW, CONTACT_TRIGGER, Entry, Matcher, make_entry
from .normalize import (
    FoldedText,
    compact,
    fold_unsoftened,
    may_need_softening,
    soften_lone_runs,
)

__all__ = [
    "Hit",
    "Policy",
    "ScreeningResult",
    "Term",
    "SEVERITIES",
    "DEFAULT_SEVERITY",
    "severity_rank",
    "DECISIONS",
]

logger = logging.getLogger(__name__)

# Bump when normalization or matching rules change: cached results keyed by
# policy.version must not survive an engine change.
ENGINE_VERSION = "1"

SEVERITIES = ("warn", "review", "block")
_RANK = {"warn": 1, "review": 2, "block": 3}
DECISIONS = ("pass", "review", "block")

DEFAULT_SEVERITY = {
    "ad_law": "review",
    "finance": "block",
    "pii": "review",
    "profanity": "block",
    "workplace": "review",
    "platform": "review",
    "confidential": "block",
    "competitor": "review",
}
_DETECTOR_SEVERITY = {
    detectors.MOBILE: "review",
    detectors.ID_CARD: "block",
    detectors.BANK_CARD: "block",
    detectors.CONTACT_ID: "review",
}

PACKS_DIR = Path(__file__).resolve().parent.parent / "packs"
ALLOW_PACK = "allow"


def severity_rank(severity: str) -> int:
    return _RANK[severity]


# --- messages ----------------------------------------------------------------------

# (rule_zh, rule_en, default suggestion_zh, default suggestion_en); {term} is filled in.
_RULES: dict[str, tuple[str, str, str, str]] = {
    "ad_law": (
        "“{term}”属于绝对化用语，《广告法》第九条禁止使用“国家级”“最高级”“最佳”等用语。",
        '"{term}" is an absolute claim; Advertising Law art. 9 forbids terms such as '
        '"national-level", "highest" or "best".',
        "改用客观、可证实的描述",
        "use objective, verifiable wording",
    ),
    "finance": (
        "“{term}”构成保本、保收益或无风险的承诺，金融产品宣传不得对未来收益作出保证性承诺"
        "（《广告法》第二十五条）。",
        '"{term}" promises principal, returns or no risk; financial promotion must not '
        "guarantee future returns (Advertising Law art. 25).",
        "投资有风险，入市需谨慎；过往业绩不代表未来表现",
        "investing involves risk; past performance does not guarantee future results",
    ),
    "profanity": (
        "“{term}”属于粗俗或侮辱性用语，不得以公司名义发布。",
        '"{term}" is vulgar or insulting and must not be published in the company\'s name.',
        "删除或改用文明表述",
        "remove it or use civil wording",
    ),
    "workplace": (
        "“{term}”涉及加班文化、裁员或招聘歧视等劳动关系敏感话题，容易引发舆情。",
        '"{term}" touches labour-relations flashpoints (overtime culture, layoffs, hiring '
        "discrimination) that often backfire.",
        "改用尊重员工、合法合规的表述",
        "use respectful, lawful wording",
    ),
    "platform": (
        "“{term}”涉嫌站外引流（微信、QQ、二维码或私下联系），多数平台禁止并可能限流或封号。",
        '"{term}" looks like traffic diversion (WeChat, QQ, QR codes, private contact), '
        "which most platforms forbid.",
        "删除站外联系方式，引导用户使用平台私信或官方渠道",
        "remove off-platform contacts; use in-app messages or official channels",
    ),
    "confidential": (
        "“{term}”在公司保密词库中（项目代号、未发布产品等），发布前必须删除。",
        '"{term}" is on the company\'s confidential list (code names, unreleased products) '
        "and must be removed before publishing.",
        "删除",
        "remove it",
    ),
    "competitor": (
        "“{term}”是竞争对手名称；提及竞品须经审核，不得作贬低或不当比较（《广告法》第十三条）。",
        '"{term}" names a competitor; mentions need review - no disparaging or unfair '
        "comparisons (Advertising Law art. 13).",
        "删除竞品名称或改用客观表述",
        "remove the competitor's name or stay factual",
    ),
}
_CUSTOM_RULE = (
    "“{term}”命中词库“{category}”，请审核。",
    '"{term}" is on the "{category}" list; please review.',
    "",
    "",
)
_DETECTOR_MESSAGES = {
    detectors.MOBILE: (
        "检测到手机号码；公开发布会泄露个人信息。建议删除，或改用官方客服电话。"
        " / A mobile phone number was detected; publishing it exposes personal data. "
        "Remove it or use the official service line."
    ),
    detectors.ID_CARD: (
        "检测到居民身份证号码，属于敏感个人信息（《个人信息保护法》第二十八条），必须删除。"
        " / A resident ID number was detected; it is sensitive personal information "
        "(PIPL art. 28) and must be removed."
    ),
    detectors.BANK_CARD: (
        "检测到银行卡号，属于敏感个人信息，必须删除；收款请使用官方渠道。"
        " / A bank card number was detected; it is sensitive personal information and "
        "must be removed - take payments through official channels only."
    ),
    detectors.CONTACT_ID: (
        "检测到站外联系方式（微信号、QQ号等），涉嫌引流。建议删除，引导用户使用平台私信或官方渠道。"
        " / An off-platform contact ID (WeChat, QQ...) was detected; this is traffic "
        "diversion. Remove it and use in-app messages or official channels."
    ),
}
_DETECTOR_CATEGORY = {
    detectors.MOBILE: "pii",
    detectors.ID_CARD: "pii",
    detectors.BANK_CARD: "pii",
    detectors.CONTACT_ID: "platform",
}


def _message(term: str, category: str, suggestion_zh: str, suggestion_en: str) -> str:
    rule_zh, rule_en, default_zh, default_en = _RULES.get(category, _CUSTOM_RULE)
    suggestion_zh = suggestion_zh or default_zh
    suggestion_en = suggestion_en or default_en
    zh = rule_zh.format(term=term, category=category)
    en = rule_en.format(term=term, category=category)
    if suggestion_zh:
        zh += f"建议：{suggestion_zh}。"
    if suggestion_en:
        en += f" Suggestion: {suggestion_en}."
    return f"{zh} / {en}"


# --- public value types ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Term:
    """A lexicon term.  ``severity=None`` means the category's default."""

    term: str
    category: str
    severity: str | None = None
    suggestion_zh: str = ""
    suggestion_en: str = ""
    message: str | None = None  # replaces the generated explanation entirely

    def resolved_severity(self) -> str:
        return self.severity or DEFAULT_SEVERITY.get(self.category, "review")

    def canonical(self) -> list[str]:
        return [
            self.term,
            self.category,
            self.resolved_severity(),
            self.suggestion_zh,
            self.suggestion_en,
            self.message or "",
        ]


class Hit(NamedTuple):
    """One reason a post was held: where, why, and what to write instead.

    ``start``/``end`` index the text exactly as sent (Python str indices), so
    ``text[start:end]`` is what the author typed, separators and all.
    """

    category: str
    severity: str
    term: str
    start: int
    end: int
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "category": self.category,
            "severity": self.severity,
            "term": self.term,
            "start": self.start,
            "end": self.end,
            "message": self.message,
        }


class ScreeningResult(NamedTuple):
    """The decision ("pass", "review" or "block") and the hits behind it."""

    decision: str
    hits: list[Hit]
    policy_version: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"decision": self.decision, "hits": [hit.to_dict() for hit in self.hits]}

    @property
    def categories(self) -> set[str]:
        return {hit.category for hit in self.hits}


# --- pack loading ---------------------------------------------------------------------


def _read_pack(path: Path) -> list[list[str]]:
    rows = []
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            line = line.rstrip("\r\n")
            if not line.strip() or line.lstrip().startswith("#"):
                continue
            fields = [f.strip() for f in line.split("\t")]
            if fields[0]:
                rows.append(fields)
    return rows


@lru_cache(maxsize=1)
def builtin_terms() -> tuple[tuple[Term, ...], tuple[str, ...]]:
    """The built-in packs: (terms, allow phrases)."""
    terms: list[Term] = []
    allow: list[str] = []
    for path in sorted(PACKS_DIR.glob("*.tsv")):
        category = path.stem
        rows = _read_pack(path)
        if category == ALLOW_PACK:
            allow.extend(row[0] for row in rows)
            continue
        for row in rows:
            fields = row + [""] * (4 - len(row))
            terms.append(_coerce_term(Term(fields[0], category, fields[1] or None, fields[2], fields[3])))
    return tuple(terms), tuple(allow)


# --- policy -----------------------------------------------------------------------------


def _coerce_term(value: Any) -> Term:
    """Accept Term, (term, category[, severity[, suggestion_zh[, suggestion_en]]]) or a mapping."""
    if isinstance(value, Term):
        term = value
    elif isinstance(value, Mapping):
        term = Term(
            term=value["term"],
            category=value["category"],
            severity=value.get("severity") or None,
            suggestion_zh=value.get("suggestion_zh", "") or "",
            suggestion_en=value.get("suggestion_en", "") or "",
            message=value.get("message") or None,
        )
    elif isinstance(value, (tuple, list)) and 2 <= len(value) <= 6:
        term = Term(*value)
        if term.severity == "":
            term = Term(term.term, term.category, None, *value[3:])
    else:
        raise TypeError(
            f"a term is (term, category, severity[, suggestion_zh, suggestion_en]), got {value!r}"
        )
    if not isinstance(term.term, str) or not term.term.strip():
        raise ValueError(f"empty term: {value!r}")
    if not isinstance(term.category, str) or not term.category.strip():
        raise ValueError(f"a term needs a category: {value!r}")
    if term.severity is not None and term.severity not in _RANK:
        raise ValueError(f"severity must be one of {SEVERITIES}, got {term.severity!r}")
    return term


class _Compiled:
    """Everything screening needs, derived from a policy's content."""

    __slots__ = ("matcher", "size")

    def __init__(self, terms: tuple[Term, ...], allow: tuple[str, ...], with_detectors: bool) -> None:
        entries: list[Entry] = []
        for term in terms:
            severity = term.resolved_severity()
            message = term.message or _message(
                term.term, term.category, term.suggestion_zh, term.suggestion_en
            )
            entry = make_entry(term.term, term.category, severity, message)
            if entry is not None:
                entries.append(entry)
        for phrase in allow:
            entry = make_entry(phrase, "", "warn", "", kind=ALLOW)
            if entry is not None:
                entries.append(entry)
        if with_detectors:
            for pattern in detectors.contact_trigger_patterns():
                entries.append(make_entry(pattern, "", "", "", kind=CONTACT_TRIGGER))
        self.matcher = Matcher(entries)
        self.size = len(entries)


# Compiled automata kept per process, by policy version (one per brand in use,
# plus the default); each holds its automaton's memory (see matcher.py).
_CACHE_SIZE = 16
_compiled_cache: OrderedDict[str, _Compiled] = OrderedDict()
_cache_lock = threading.Lock()


def _compiled_for(
    version: str, terms: tuple[Term, ...], allow: tuple[str, ...], with_detectors: bool
) -> _Compiled:
    with _cache_lock:
        compiled = _compiled_cache.get(version)
        if compiled is not None:
            _compiled_cache.move_to_end(version)
            return compiled
    compiled = _Compiled(terms, allow, with_detectors)  # outside the lock: may take ~0.5 s
    with _cache_lock:
        _compiled_cache[version] = compiled
        while len(_compiled_cache) > _CACHE_SIZE:
            _compiled_cache.popitem(last=False)
    return compiled


class Policy:
    """An immutable screening policy.  Build with ``default``, ``from_terms``, ``extend``."""

    __slots__ = ("terms", "allow", "detectors", "version", "_compiled")

    def __init__(
        self,
        terms: Iterable[Any] = (),
        allow: Iterable[str] = (),
        *,
        detectors: bool = False,
    ) -> None:
        coerced = tuple(_coerce_term(term) for term in terms)
        allow_phrases = tuple(str(phrase) for phrase in allow if str(phrase).strip())
        init = object.__setattr__  # the policy is immutable once built
        init(self, "terms", coerced)
        init(self, "allow", allow_phrases)
        init(self, "detectors", bool(detectors))
        init(self, "version", self._fingerprint())
        init(self, "_compiled", _compiled_for(self.version, coerced, allow_phrases, self.detectors))

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError("a Policy is immutable; use extend() to make a new one")

    # -- constructors --

    @classmethod
    def from_terms(
        cls, terms: Iterable[Any], allow: Iterable[str] = (), *, detectors: bool = False
    ) -> Policy:
        """A policy with only these terms and allow phrases (no built-in packs).

        Terms are ``(term, category, severity)`` tuples (severity may be None
        for the category default; optional 4th/5th items are the Chinese and
        English suggestions), ``Term`` objects or mappings.  PII and contact
        detectors are off unless ``detectors=True``.
        """
        return cls(terms, allow, detectors=detectors)

    @classmethod
    def default(cls) -> Policy:
        """Built-in packs, built-in allow-list and all detectors (shared instance)."""
        return _default_policy()

    def extend(
        self,
        terms: Iterable[Any] = (),
        allow: Iterable[str] = (),
        *,
        detectors: bool | None = None,
    ) -> Policy:
        """A new policy with more terms and allow phrases; this one is unchanged."""
        return Policy(
            self.terms + tuple(terms),
            self.allow + tuple(allow),
            detectors=self.detectors if detectors is None else detectors,
        )

    # -- identity --

    @property
    def fingerprint(self) -> str:
        return self.version

    def _fingerprint(self) -> str:
        payload = {
            "engine": ENGINE_VERSION,
            "terms": sorted(term.canonical() for term in self.terms),
            "allow": sorted(set(self.allow)),
            "detectors": self.detectors,
        }
        blob = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        return hashlib.sha256(blob).hexdigest()

    def __len__(self) -> int:
        return len(self.terms)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Policy) and other.version == self.version

    def __hash__(self) -> int:
        return hash(self.version)

    def __repr__(self) -> str:
        return (
            f"<Policy {self.version[:12]} terms={len(self.terms)} allow={len(self.allow)} "
            f"detectors={self.detectors}>"
        )

    # -- screening --

    def screen(self, text: str) -> ScreeningResult:
        """Screen one post.  Never raises on any string; fails closed to "review"."""
        if not isinstance(text, str):
            text = "" if text is None else str(text)
        try:
            return self._screen(text)
        except Exception:  # defence in depth: a bug must not wave a post through
            logger.exception("screening failed; holding the post for review")
            return ScreeningResult(
                "review",
                [
                    Hit(
                        "engine_error",
                        "review",
                        "",
                        0,
                        len(text),
                        "自动审核出错，需人工审核。 / Automatic screening failed; a person must review this post.",
                    )
                ],
                self.version,
            )

    def _screen(self, text: str) -> ScreeningResult:
        # Fast path: one translate to the base view, a replace to the compact
        # view, one automaton pass over its encoding, one byte-mask pass for
        # digit runs and one literal-prefix regex for lone-character runs.
        # Most posts end here.
        matcher = self._compiled.matcher
        base = fold_unsoftened(text)
        compact_text = compact(base)
        scan = matcher.scan(compact_text)
        check_numbers = self.detectors and scan.has_long_digit_run()
        soften = may_need_softening(compact_text)
        if not soften and not check_numbers and not (scan.matches and matcher.consequential(scan.matches)):
            return ScreeningResult("pass", [], self.version)

        # Slow path: offset maps, validation, detectors.
        if soften:
            base = soften_lone_runs(base)
        folded = FoldedText(text, base)
        if folded.compact != compact_text:  # lone-run softening joined something
            scan = matcher.scan(folded.compact)
            check_numbers = self.detectors and scan.has_long_digit_run()
        resolved = matcher.resolve(folded, scan.matches)
        # (category, severity, term, text_start, text_end, message, base_start, base_end)
        found: list[tuple[str, str, str, int, int, str, int, int]] = []
        for candidate in resolved.risky:
            entry = candidate.entry
            start, end = folded.text_span(candidate.base_start, candidate.base_end)
            found.append(
                (
                    entry.category,
                    entry.severity,
                    entry.term,
                    start,
                    end,
                    entry.message,
                    candidate.base_start,
                    candidate.base_end,
                )
            )
        if check_numbers:
            for hit in detectors.find_numbers(base):
                start, end = folded.text_span(hit.base_start, hit.base_end)
                if start > 0 and text[start - 1] in "+＋":  # +86 ...: highlight the plus too
                    start -= 1
                found.append(
                    (
                        _DETECTOR_CATEGORY[hit.kind],
                        _DETECTOR_SEVERITY[hit.kind],
                        hit.kind,
                        start,
                        end,
                        _DETECTOR_MESSAGES[hit.kind],
                        hit.base_start,
                        hit.base_end,
                    )
                )
        if self.detectors and resolved.contact_trigger:
            kind = detectors.CONTACT_ID
            for base_start, base_end, start, end in detectors.find_contact_ids(base, text, folded.text_index):
                found.append(
                    (
                        _DETECTOR_CATEGORY[kind],
                        _DETECTOR_SEVERITY[kind],
                        kind,
                        start,
                        end,
                        _DETECTOR_MESSAGES[kind],
                        base_start,
                        base_end,
                    )
                )
        if resolved.allowed and found:
            allowed = _AllowedSpans(resolved.allowed)
            found = [f for f in found if not allowed.cover(f[6], f[7])]
        hits = _dedupe(found)
        worst = max((_RANK[hit.severity] for hit in hits), default=0)
        decision = "block" if worst == 3 else "review" if worst == 2 else "pass"
        return ScreeningResult(decision, hits, self.version)


class _AllowedSpans:
    """Allow-phrase spans, answering "is this span inside one of them?" in O(log n)."""

    def __init__(self, spans: list[tuple[int, int]]) -> None:
        spans = sorted(spans)
        self.starts = [start for start, _ in spans]
        self.reach = list(itertools.accumulate((end for _, end in spans), max))

    def cover(self, start: int, end: int) -> bool:
        index = bisect.bisect_right(self.starts, start)
        return index > 0 and self.reach[index - 1] >= end


def _dedupe(found: list[tuple[str, str, str, int, int, str, int, int]]) -> list[Hit]:
    """Drop hits inside a longer (or equal, at least as severe) hit of the same category.

    "高收益无风险" reports once, not also as "无风险"; different categories on
    the same words are all kept.
    """
    if len(found) == 1:
        category, severity, term, start, end, message, _, _ = found[0]
        return [Hit(category, severity, term, start, end, message)]
    # By category, then start, longest first, most severe first.
    found.sort(key=_dedupe_order)
    kept: list[Hit] = []
    category = None
    reach: list[int] = [-1, -1, -1, -1]  # per severity rank: furthest end seen so far
    for cat, severity, term, start, end, message, _, _ in found:
        if cat != category:
            category = cat
            reach = [-1, -1, -1, -1]
        rank = _RANK[severity]
        if max(reach[rank:]) >= end:
            continue  # inside an earlier hit of this category that is at least as severe
        if reach[rank] < end:
            reach[rank] = end
        kept.append(Hit(cat, severity, term, start, end, message))
    kept.sort(key=_hit_order)
    return kept


def _dedupe_order(f: tuple) -> tuple:
    return (f[0], f[3], -f[4], -_RANK[f[1]], f[2])


def _hit_order(hit: Hit) -> tuple:
    return (hit.start, -hit.end, hit.category)


@lru_cache(maxsize=1)
def _default_policy() -> Policy:
    terms, allow = builtin_terms()
    return Policy(terms, allow, detectors=True)

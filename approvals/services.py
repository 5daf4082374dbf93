"""Writes about screening: lexicons and their terms, and the record of each screening.

Every lexicon change runs in one transaction that validates, writes, bumps the policy version
(so every process recompiles its policy within seconds) and appends an audit event. Term events are
recorded against their lexicon, so the lexicon's history holds them all.
"""

import codecs
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from config.errors import DomainError, PermissionDeniedError

from . import engine
from .audit import audit_record
from .models import Lexicon, LexiconTerm, Screening, Severity
from .policies import lexicon_user_can
from .screening import DEFAULT_SEVERITY
from .screening.normalize import normalize

LEXICON_FIELDS = ["brand_id", "name", "category", "severity", "description", "is_active"]
TERM_MAX_LENGTH = LexiconTerm._meta.get_field("term").max_length
NOTE_MAX_LENGTH = LexiconTerm._meta.get_field("note").max_length
IMPORT_MAX_BYTES = 2 * 1024 * 1024
IMPORT_MAX_TERMS = 20_000
# A text longer than this is refused by the API and the pages (characters).
TEXT_MAX_LENGTH = 100_000


def lexicon_snapshot(lexicon):
    return {name: getattr(lexicon, name) for name in LEXICON_FIELDS}


def term_snapshot(term):
    return {"term": term.term, "allow": term.allow, "severity": term.severity, "note": term.note}


def term_key(term):
    """The form two spellings of a term share when they match the same texts (case, width,
    traditional characters, separators folded, exactly as the matcher folds them)."""
    return normalize(term)


def _validation_to_domain(exc, *, constraint_field=None):
    if hasattr(exc, "error_dict"):
        field, errors = next(iter(exc.error_dict.items()))
        return DomainError(errors[0].messages[0], field=constraint_field if field == "__all__" else field)
    return DomainError(exc.messages[0], field=constraint_field)


def _save_lexicon(lexicon):
    # The lexicon's unique constraints are on its name: errors name that field.
    try:
        lexicon.full_clean()
    except ValidationError as exc:
        raise _validation_to_domain(exc, constraint_field="name") from exc
    try:
        with transaction.atomic():
            lexicon.save()
    except IntegrityError as exc:  # a concurrent write won a unique constraint after validation
        raise DomainError(_("A lexicon with this name already exists."), field="name") from exc


def _require(actor, action, lexicon=None, **kwargs):
    if not lexicon_user_can(actor, action, lexicon, **kwargs):
        raise PermissionDeniedError(_("You are not allowed to change this lexicon."))


# --- lexicons --------------------------------------------------------------------------


@transaction.atomic
def lexicon_create(*, actor, name, category, severity=None, brand=None, description="", is_active=True):
    """Create a company lexicon (for one brand, or company-wide without a brand). Without a
    severity, the category's default applies: `confidential` blocks, `competitor` and custom
    categories send the post to review."""
    if not lexicon_user_can(actor, "create", brand=brand):
        raise PermissionDeniedError(
            _("Reviewers create lexicons for their own brand only.") if lexicon_user_can(actor, "change")
            else _("You are not allowed to create lexicons.")
        )
    category = (category or "").strip()
    severity = severity or DEFAULT_SEVERITY.get(category, Severity.REVIEW)
    lexicon = Lexicon(
        brand=brand, name=(name or "").strip(), category=category, severity=severity,
        description=description or "", is_active=is_active,
    )
    _save_lexicon(lexicon)
    version = engine.bump_version()
    audit_record(
        actor=actor, action="approvals.lexicon.create", obj=lexicon,
        after={**lexicon_snapshot(lexicon), "policy_version": version},
    )
    return lexicon


@transaction.atomic
def lexicon_update(*, actor, lexicon, **changes):
    """Change a lexicon's name, category, default severity, description or whether it is active.
    Moving a lexicon to another brand is not a change: create a new one."""
    lexicon = Lexicon.objects.select_for_update().get(pk=lexicon.pk)
    _require(actor, "change", lexicon)
    unknown = set(changes) - {"name", "category", "severity", "description", "is_active"}
    if unknown:
        raise DomainError(_("These fields cannot be changed: %(fields)s.") % {"fields": ", ".join(sorted(unknown))})
    before = lexicon_snapshot(lexicon)
    for name, value in changes.items():
        setattr(lexicon, name, value.strip() if isinstance(value, str) and name != "description" else value)
    after = lexicon_snapshot(lexicon)
    if after == before:
        return lexicon
    _save_lexicon(lexicon)
    version = engine.bump_version()
    changed = [name for name in LEXICON_FIELDS if before[name] != after[name]]
    audit_record(
        actor=actor, action="approvals.lexicon.update", obj=lexicon,
        before={name: before[name] for name in changed},
        after={**{name: after[name] for name in changed}, "policy_version": version},
    )
    return lexicon


# --- terms ------------------------------------------------------------------------------


def _clean_term(term, *, severity="", note="", field="term"):
    """(term, key) or a DomainError naming what is wrong."""
    term = " ".join((term or "").split())  # tabs, line breaks and runs of spaces become one space
    if not term:
        raise DomainError(_("Enter a term."), field=field)
    if len(term) > TERM_MAX_LENGTH:
        raise DomainError(
            _("A term has at most %(max)d characters (this one has %(length)d).")
            % {"max": TERM_MAX_LENGTH, "length": len(term)},
            field=field,
        )
    key = term_key(term)
    if not key:
        raise DomainError(
            _("“%(term)s” is only punctuation or spaces, which screening ignores: it would never match.")
            % {"term": term},
            field=field,
        )
    if severity and severity not in Severity.values:
        raise DomainError(
            _("“%(severity)s” is not a severity: use block, review or warn.") % {"severity": severity},
            field="severity",
        )
    if len(note or "") > NOTE_MAX_LENGTH:
        raise DomainError(_("The note has at most %(max)d characters.") % {"max": NOTE_MAX_LENGTH}, field="note")
    return term, key


@transaction.atomic
def lexicon_term_add(*, actor, lexicon, term, allow=False, severity="", note=""):
    """Add a term (or, with `allow`, an allow-list phrase that cancels any hit it covers)."""
    lexicon = Lexicon.objects.select_for_update().get(pk=lexicon.pk)
    _require(actor, "change", lexicon)
    term, key = _clean_term(term, severity=severity, note=note)
    existing = lexicon.terms.filter(normalized=key).first()
    if existing is not None:
        raise DomainError(
            _("“%(term)s” is already in this lexicon as “%(existing)s”.") % {"term": term, "existing": existing.term},
            field="term",
        )
    item = LexiconTerm(
        lexicon=lexicon, term=term, normalized=key, allow=bool(allow), severity="" if allow else (severity or ""),
        note=(note or "").strip(), created_by=actor,
    )
    try:
        with transaction.atomic():
            item.save()
    except IntegrityError as exc:  # the same term added at the same moment by someone else
        raise DomainError(_("“%(term)s” is already in this lexicon.") % {"term": term}, field="term") from exc
    version = engine.bump_version()
    audit_record(
        actor=actor, action="approvals.lexicon_term.add", obj=lexicon,
        after={**term_snapshot(item), "term_id": item.pk, "policy_version": version},
    )
    return item


@transaction.atomic
def lexicon_term_remove(*, actor, lexicon, term=None, term_id=None):
    """Remove one term, named by its id or by its text (any spelling that folds to the same)."""
    lexicon = Lexicon.objects.select_for_update().get(pk=lexicon.pk)
    _require(actor, "change", lexicon)
    if term_id is not None:
        item = lexicon.terms.filter(pk=term_id).first()
    elif term is not None and term_key(term):
        item = lexicon.terms.filter(normalized=term_key(term)).first()
    else:
        raise DomainError(_("Name the term to remove (its text or its id)."), field="term")
    if item is None:
        raise DomainError(_("This term is not in the lexicon."), field="term" if term_id is None else "id")
    before = {**term_snapshot(item), "term_id": item.pk}
    item.delete()
    version = engine.bump_version()
    audit_record(
        actor=actor, action="approvals.lexicon_term.remove", obj=lexicon, before=before,
        after={"policy_version": version},
    )
    return before


@dataclass
class ImportLineError:
    line: int
    message: str

    def __str__(self):
        return _("line %(line)d: %(message)s") % {"line": self.line, "message": self.message}


class TermsImportError(DomainError):
    """The file was refused; `errors` lists every bad line."""

    def __init__(self, errors, message=None):
        self.errors = errors
        super().__init__(
            message or _("Nothing was imported: %(count)d line(s) need fixing.") % {"count": len(errors)}, field="file"
        )

    def as_dict(self):
        return {"file": [str(error) for error in self.errors] or [str(self.message)]}


@dataclass
class ImportReport:
    added: int
    already_present: int
    duplicates: int
    encoding: str
    policy_version: int


def decode_terms_file(data):
    """(text, encoding name) of an uploaded word list: UTF-8 (with or without BOM), UTF-16 with BOM,
    else GB18030 (Excel and Notepad on Chinese Windows)."""
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8):].decode("utf-8"), "UTF-8 (BOM)"
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16"), "UTF-16"
    try:
        return data.decode("utf-8"), "UTF-8"
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030"), "GB18030"
    except UnicodeDecodeError as exc:
        raise TermsImportError([], _("The file is neither UTF-8 nor GB18030 text.")) from exc


def parse_terms_file(text):
    """Rows (line number, term, severity, note) and the errors of each bad line.

    One term a line; optionally `term<TAB>severity` and `term<TAB>severity<TAB>note`. Blank lines
    are skipped."""
    rows, errors = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        fields = [field.strip() for field in line.split("\t")]
        if len(fields) > 3:
            errors.append(ImportLineError(number, _(
                "too many columns: write term, or term<TAB>severity, or term<TAB>severity<TAB>note."
            )))
            continue
        term, severity, note = (fields + ["", ""])[:3]
        severity = severity.lower()
        try:
            _clean_term(term, severity=severity, note=note)
        except DomainError as exc:
            errors.append(ImportLineError(number, str(exc.message)))
            continue
        rows.append((number, term, severity, note))
    return rows, errors


@transaction.atomic
def lexicon_terms_import(*, actor, lexicon, data, filename="", allow=False):
    """Add the terms of a text file, all or nothing. A line naming a term the lexicon already holds
    (or an earlier line of the file) is skipped, not an error."""
    lexicon = Lexicon.objects.select_for_update().get(pk=lexicon.pk)
    _require(actor, "change", lexicon)
    if len(data) > IMPORT_MAX_BYTES:
        raise TermsImportError([], _("The file is larger than %(size)d MB.") % {"size": IMPORT_MAX_BYTES // 1024 // 1024})
    text, encoding = decode_terms_file(data)
    rows, errors = parse_terms_file(text)
    if errors:
        raise TermsImportError(errors)
    if not rows:
        raise TermsImportError([], _("The file holds no terms."))
    if len(rows) > IMPORT_MAX_TERMS:
        raise TermsImportError([], _("At most %(max)d terms per file.") % {"max": IMPORT_MAX_TERMS})
    present = set(lexicon.terms.values_list("normalized", flat=True))
    new, seen, duplicates, already = [], set(), 0, 0
    for _number, term, severity, note in rows:
        term = " ".join(term.split())
        key = term_key(term)
        if key in present:
            already += 1
            continue
        if key in seen:
            duplicates += 1
            continue
        seen.add(key)
        new.append(LexiconTerm(
            lexicon=lexicon, term=term, normalized=key, allow=bool(allow), severity="" if allow else severity,
            note=note, created_by=actor,
        ))
    LexiconTerm.objects.bulk_create(new, batch_size=2000)
    version = engine.bump_version() if new else engine.read_stamp()[0]
    audit_record(
        actor=actor, action="approvals.lexicon_term.import", obj=lexicon,
        after={
            "filename": filename, "encoding": encoding, "added": len(new), "already_present": already,
            "duplicates": duplicates, "allow": bool(allow), "terms": [item.term for item in new],
            "policy_version": version,
        },
    )
    return ImportReport(
        added=len(new), already_present=already, duplicates=duplicates, encoding=encoding, policy_version=version,
    )


# --- screening ---------------------------------------------------------------------------


def screening_run(text, *, actor, account=None, tier=None, source, brand=None, record=True, subject=None):
    """Screen `text` with the current policy of the account's brand (else `brand`, else the
    actor's) and, unless `record` is off, keep a Screening of it. Returns the Screening (unsaved
    when not recorded); its `hits` are dicts with category, severity, term, start, end, message,
    where start/end index `text` as given."""
    if text is None or not str(text).strip():
        raise DomainError(_("Enter a text to screen."), field="text")
    if len(text) > TEXT_MAX_LENGTH:
        raise DomainError(
            _("The text has %(length)d characters; at most %(max)d can be screened at once.")
            % {"length": len(text), "max": TEXT_MAX_LENGTH},
            field="text",
        )
    if account is not None:
        brand_id = account.brand_id
        tier = account.tier
    elif brand is not None:
        brand_id = brand.pk
    else:
        brand_id = getattr(actor, "brand_id", None)
    compiled = engine.current(brand_id)
    result = compiled.policy.screen(text)
    screening = Screening(
        text=text, decision=result.decision, hits=[hit.to_dict() for hit in result.hits],
        policy_version=compiled.version, policy_fingerprint=compiled.policy.version, source=source,
        actor=actor if actor is not None and actor.pk else None, brand_id=brand_id, account=account,
        tier=tier or "",
    )
    if subject is not None:
        screening.subject = subject
    if record:
        screening.save()
    return screening

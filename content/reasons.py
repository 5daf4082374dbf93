"""The machine-written reasons of publishing, as the reader's language says them.

`Post.last_error` and `PublishAttempt.reason` are stored in English, worded by the dispatcher and the
publishers (content/dispatch.py, content/publishers/): outside scripts read them through the API
and tests assert them, so the stored text never changes. `describe(text)` is for display only: it
recognises each reason the code writes and returns it translated, keeping what it carries (a pause
number, a date, an HTTP status, the platform's own words, a network error) as it was written.

- A reason made of a prefix and another reason ("attempts spent: HTTP 503: …", "may or may not be
  live: timed out waiting for the answer") is translated part by part.
- After "HTTP 400: " come the platform's words: they stay as the platform wrote them.
- A text no rule recognises (a platform's, or one written before this table) is returned unchanged.

A new reason written by the code needs its rule here (tests/content/test_reasons.py lists them).
"""

import re

from django.utils.translation import gettext, gettext_noop

# How a captured part is rendered: as written, or translated again as a reason.
KEEP, REASON = "keep", "reason"


def _rule(pattern, message, **kinds):
    return re.compile(pattern, re.DOTALL), message, kinds


# Each rule matches the whole text; the first that matches wins, so a specific wording comes before
# a general one of the same shape ("HTTP 302: redirects are not followed (…)" before "HTTP 400: …").
# The English messages are the stored wording itself: an English reader sees what the API says.
RULES = [
    # content/dispatch.py
    _rule(r"rate limit: waiting for a free slot",
          gettext_noop("rate limit: waiting for a free slot")),
    _rule(r"missed: more than the missed window late",
          gettext_noop("missed: more than the missed window late")),
    _rule(r"changed after approval",
          gettext_noop("changed after approval")),
    _rule(r"account pending: nothing may publish on it",
          gettext_noop("account pending: nothing may publish on it")),
    _rule(r"account paused: nothing may publish on it",
          gettext_noop("account paused: nothing may publish on it")),
    _rule(r"account archived: nothing may publish on it",
          gettext_noop("account archived: nothing may publish on it")),
    _rule(r"account (?P<status>\w+): nothing may publish on it",
          gettext_noop("account %(status)s: nothing may publish on it")),
    _rule(r"held by pause #(?P<pause>\d+)",
          gettext_noop("held by pause #%(pause)s")),
    _rule(r"held by a pause",
          gettext_noop("held by a pause")),
    _rule(r"blocked day: (?P<owner>.+) asked that nothing go out on (?P<date>\d{4}-\d{2}-\d{2})",
          gettext_noop("blocked day: %(owner)s asked that nothing go out on %(date)s")),
    _rule(r"not sent: its lease would have ended before the platform answered",
          gettext_noop("not sent: its lease would have ended before the platform answered")),
    _rule(r"publisher error: (?P<error>.+)",
          gettext_noop("publisher error: %(error)s")),
    _rule(r"may or may not be live: (?P<reason>.+)",
          gettext_noop("may or may not be live: %(reason)s"), reason=REASON),
    _rule(r"attempts spent: (?P<reason>.+)",
          gettext_noop("attempts spent: %(reason)s"), reason=REASON),
    _rule(r"worker lost during the send; retried with the same key",
          gettext_noop("worker lost during the send; retried with the same key")),
    _rule(r"worker lost during the send: it may or may not be live",
          gettext_noop("worker lost during the send: it may or may not be live")),
    _rule(r"worker lost during the send",
          gettext_noop("worker lost during the send")),
    # content/publishers/__init__.py
    _rule(r"unknown publisher (?P<name>'.*'|\".*\")",
          gettext_noop("unknown publisher %(name)s")),
    # content/publishers/assisted.py
    _rule(r"nobody to post it by hand: the account has no owner or operator",
          gettext_noop("nobody to post it by hand: the account has no owner or operator")),
    _rule(r"overdue: not confirmed",
          gettext_noop("overdue: not confirmed")),
    # content/publishers/webhook.py
    _rule(r"webhook URL must be an http or https address",
          gettext_noop("webhook URL must be an http or https address")),
    _rule(r"no webhook secret on the account: nothing was sent unsigned",
          gettext_noop("no webhook secret on the account: nothing was sent unsigned")),
    _rule(r"webhook URL unusable: (?P<error>.+)",
          gettext_noop("webhook URL unusable: %(error)s")),
    _rule(r"could not connect: (?P<error>.+)",
          gettext_noop("could not connect: %(error)s")),
    _rule(r"TLS error: (?P<error>.+)",
          gettext_noop("TLS error: %(error)s")),
    _rule(r"timed out waiting for the answer",
          gettext_noop("timed out waiting for the answer")),
    _rule(r"connection lost: (?P<error>.+)",
          gettext_noop("connection lost: %(error)s")),
    _rule(r"network error: (?P<error>.+)",
          gettext_noop("network error: %(error)s")),
    _rule(r"HTTP (?P<status>\d{3}); answer unreadable: (?P<error>.+)",
          gettext_noop("HTTP %(status)s; answer unreadable: %(error)s")),
    _rule(r"HTTP (?P<status>\d{3}); answer is not JSON, ignored",
          gettext_noop("HTTP %(status)s; answer is not JSON, ignored")),
    _rule(r"HTTP (?P<status>\d{3}); answer is not a JSON object, ignored",
          gettext_noop("HTTP %(status)s; answer is not a JSON object, ignored")),
    _rule(r"HTTP (?P<status>\d{3}); external_id too long, ignored",
          gettext_noop("HTTP %(status)s; external_id too long, ignored")),
    _rule(r"HTTP (?P<status>\d{3}); url is not an http\(s\) URL of at most 500 characters, ignored",
          gettext_noop("HTTP %(status)s; url is not an http(s) URL of at most 500 characters, ignored")),
    _rule(r"HTTP (?P<status>\d{3}); external_id too long, ignored; "
          r"url is not an http\(s\) URL of at most 500 characters, ignored",
          gettext_noop("HTTP %(status)s; external_id too long, ignored; url is not an http(s) URL of at most 500 "
                       "characters, ignored")),
    _rule(r"HTTP (?P<status>\d{3}): redirects are not followed \((?P<location>.*)\)",
          gettext_noop("HTTP %(status)s: redirects are not followed (%(location)s)")),
    # The platform's own words, kept as it wrote them.
    _rule(r"HTTP (?P<status>\d{3}): (?P<text>.+)",
          gettext_noop("HTTP %(status)s: %(text)s")),
    _rule(r"HTTP (?P<status>\d{3})",
          gettext_noop("HTTP %(status)s")),
]


class _Unknown(Exception):
    """A part that no rule recognises: the whole text is then shown as stored."""


def describe(text):
    """`text` (a stored last_error or attempt reason) in the active language; unchanged when it is
    not one of ours."""
    if not text:
        return text
    try:
        return _describe(str(text), nested=False)
    except _Unknown:
        return text


def _describe(text, *, nested):
    for pattern, message, kinds in RULES:
        match = pattern.fullmatch(text)
        if match is None:
            continue
        translated = gettext(message)
        if not match.groupdict():
            return translated
        return translated % {name: _describe(value, nested=True) if kinds.get(name) == REASON else value
                             for name, value in match.groupdict().items()}
    if nested:
        # What follows "attempts spent: " is a reason the publisher wrote; an unknown one is kept
        # as it is while the prefix, ours, is still translated.
        return text
    raise _Unknown(text)

"""Screen texts offline: JSON lines in, JSON lines out.

    python manage.py screen < posts.jsonl > results.jsonl

Each input line is `{"id", "text", "tier"?}`; each output line `{"id", "decision", "hits"}`, in the
same order. A bad line gets a message naming its number on standard error and no output line; the
rest are still screened, and the command then exits with status 1.

Screenings are not recorded unless `--record` is given: a batch of thousands of offline texts would
drown the recent screenings that "would have caught" reads. `--builtin-only` uses the built-in packs
and detectors alone and never touches the database.
"""

import json
import sys

from django.core.management.base import BaseCommand, CommandError

from approvals.services import TEXT_MAX_LENGTH
from matrix.models import Tier


class Command(BaseCommand):
    stealth_options = ("stdin",)
    help = "Screen JSON lines {id, text, tier?} from standard input; write {id, decision, hits} lines."

    def add_arguments(self, parser):
        parser.add_argument("--builtin-only", action="store_true",
                            help="Built-in packs and detectors only: no company lexicons, no database.")
        parser.add_argument("--brand", help="Apply this brand's lexicons (slug) as well as the company-wide ones.")
        parser.add_argument("--record", action="store_true",
                            help="Keep a record of each screening (source: command). Off by default.")
        parser.add_argument("--input", default="-", help="Read this file instead of standard input.")

    def handle(self, *args, **options):
        if options["builtin_only"] and (options["record"] or options["brand"]):
            raise CommandError("--builtin-only uses no database: it cannot be combined with --record or --brand.")
        screen, version = self._screener(options)
        out = getattr(self.stdout, "_out", None)
        if hasattr(out, "reconfigure"):
            out.reconfigure(encoding="utf-8")  # JSON lines are UTF-8 whatever the locale says
        if options["input"] != "-":
            with open(options["input"], "rb") as stream:
                bad, total = self._screen_lines(stream, screen)
        else:
            stdin = options.get("stdin") or sys.stdin
            bad, total = self._screen_lines(getattr(stdin, "buffer", stdin), screen)
        if bad:
            raise CommandError(f"{bad} bad line(s) of {total}; the others were screened (policy version {version}).")

    def _screen_lines(self, stream, screen):
        bad = total = 0
        for number, raw in enumerate(stream, start=1):
            line = self._decode(raw, number)
            if line is not None and not line.strip():
                continue
            total += 1
            if line is None:
                bad += 1
                continue
            try:
                item = self._parse(line)
            except ValueError as exc:
                bad += 1
                self.stderr.write(f"line {number}: {exc}")
                continue
            answer = {"id": item.get("id"), **screen(item["text"], item.get("tier") or None)}
            self.stdout.write(json.dumps(answer, ensure_ascii=False))
            self.stdout.flush()
        return bad, total

    def _screener(self, options):
        if options["builtin_only"]:
            from approvals.engine import builtin_policy

            policy = builtin_policy()

            def screen(text, tier):
                return policy.screen(text).to_dict()

            return screen, "builtin"

        from approvals import engine
        from approvals.models import Screening
        from approvals.services import screening_run
        from matrix.models import Brand

        brand = None
        if options["brand"]:
            brand = Brand.objects.filter(slug=options["brand"]).first()
            if brand is None:
                raise CommandError(f"No brand with the slug {options['brand']!r}.")

        def screen(text, tier):
            screening = screening_run(
                text, actor=None, brand=brand, tier=tier, source=Screening.Source.COMMAND, record=options["record"],
            )
            return {"decision": screening.decision, "hits": screening.hits}

        return screen, engine.current_version()

    def _decode(self, raw, number):
        if isinstance(raw, str):
            return raw
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            self.stderr.write(f"line {number}: not UTF-8 ({exc.reason} at byte {exc.start})")
            return None
        return line.removeprefix("\ufeff") if number == 1 else line

    def _parse(self, line):
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            raise ValueError(f"not JSON ({exc.msg} at column {exc.colno})") from None
        if not isinstance(item, dict):
            raise ValueError('expected an object {"id", "text", "tier"?}')
        text = item.get("text")
        if not isinstance(text, str):
            raise ValueError('"text" is missing or not a string')
        if not text.strip():
            raise ValueError('"text" is empty')
        if len(text) > TEXT_MAX_LENGTH:
            raise ValueError(f'"text" has {len(text)} characters; at most {TEXT_MAX_LENGTH}')
        tier = item.get("tier")
        if tier not in (None, "") and tier not in Tier.values:
            raise ValueError(f'"tier" must be one of {", ".join(Tier.values)}, not {tier!r}')
        return item

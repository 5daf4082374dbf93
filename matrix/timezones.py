"""IANA time zone choices and validation shared by brands, accounts and users."""

import zoneinfo
from functools import lru_cache

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


@lru_cache(maxsize=1)
def all_timezones():
    return sorted(zoneinfo.available_timezones() - {"localtime", "Factory"})


def timezone_choices():
    return [(name, name) for name in all_timezones()]


def validate_timezone(value):
    if value not in set(all_timezones()):
        raise ValidationError(
            _("“%(value)s” is not an IANA time zone (for example Asia/Shanghai)."),
            code="invalid_timezone",
            params={"value": value},
        )

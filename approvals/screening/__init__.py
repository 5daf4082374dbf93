"""Pre-publish risk screening: normalize -> match -> detect -> decide.

A pure-Python library with no Django or database dependency::

    from approvals.screening import Policy

    policy = Policy.default().extend(terms=[("天穹计划", "confidential", "block")])
    result = policy.screen("全网最低价，加微信 hello_2024")
    result.decision        # "pass" | "review" | "block"
    result.to_dict()       # {"decision": ..., "hits": [{"category", "severity", "term",
                           #                          "start", "end", "message"}, ...]}
"""

from .policy import DEFAULT_SEVERITY, SEVERITIES, Hit, Policy, ScreeningResult, Term

__all__ = ["Policy", "ScreeningResult", "Hit", "Term", "SEVERITIES", "DEFAULT_SEVERITY"]

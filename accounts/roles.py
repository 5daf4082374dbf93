"""Roles are Django groups of the same name, each with a fixed set of model permissions.

Model permissions say what a role may do at all; which objects it may do it to is decided by the
policies (`matrix.policies`, `accounts.policies`).
"""

from django.contrib.auth.models import Group, Permission

from .models import Role

_VIEW_MATRIX = ["matrix.view_brand", "matrix.view_dealer", "matrix.view_department", "matrix.view_platform",
                "matrix.view_socialaccount"]
# Everyone who writes or judges posts sees posts, their revisions, media and campaigns, and the
# reviews of them (which ones: `content.policies`).
_VIEW_CONTENT = ["content.view_post", "content.view_revision", "content.view_media", "content.view_campaign",
                 "approvals.view_review", "approvals.view_reviewstep"]
# Marketers and reviewers also see how reviews are routed and the company lexicons; the personal
# roles do not (lexicons hold confidential code names, see `approvals.policies`).
_VIEW_REVIEW_SETUP = ["approvals.view_workflow", "approvals.view_workflowstep", "approvals.view_lexicon",
                      "approvals.view_lexiconterm"]

ROLE_PERMISSIONS = {
    Role.ADMIN: "__all__",
    Role.MARKETER: _VIEW_MATRIX + ["accounts.view_user"] + _VIEW_CONTENT + _VIEW_REVIEW_SETUP,
    Role.REVIEWER: _VIEW_MATRIX + ["accounts.view_user"] + _VIEW_CONTENT + _VIEW_REVIEW_SETUP
    + ["approvals.view_screening"],
    Role.EXECUTIVE: ["matrix.view_platform", "matrix.view_socialaccount"] + _VIEW_CONTENT,
    Role.EMPLOYEE: ["matrix.view_platform", "matrix.view_socialaccount"] + _VIEW_CONTENT,
    Role.DEALER_OPERATOR: ["matrix.view_platform", "matrix.view_dealer", "matrix.view_socialaccount"] + _VIEW_CONTENT,
}
ADMIN_APPS = ["matrix", "accounts", "approvals", "content", "authtoken"]


def ensure_role_groups(**kwargs):
    """Create or refresh one group per role (run after every migrate)."""
    for role, codenames in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role.value)
        if codenames == "__all__":
            permissions = Permission.objects.filter(content_type__app_label__in=ADMIN_APPS)
        else:
            wanted = [name.split(".", 1) for name in codenames]
            permissions = [
                p
                for p in Permission.objects.filter(codename__in=[c for _, c in wanted]).select_related("content_type")
                if [p.content_type.app_label, p.codename] in wanted
            ]
        group.permissions.set(permissions)

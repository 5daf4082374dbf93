"""Roles are Django groups of the same name, each with a fixed set of model permissions.

Model permissions say what a role may do at all; which objects it may do it to is decided by the
policies (`matrix.policies`, `accounts.policies`).
"""

from django.contrib.auth.models import Group, Permission

from .models import Role

_VIEW_MATRIX = ["matrix.view_brand", "matrix.view_dealer", "matrix.view_department", "matrix.view_platform",
                "matrix.view_socialaccount"]

ROLE_PERMISSIONS = {
    Role.ADMIN: "__all__",
    Role.MARKETER: _VIEW_MATRIX + ["accounts.view_user"],
    Role.REVIEWER: _VIEW_MATRIX + ["accounts.view_user"],
    Role.EXECUTIVE: ["matrix.view_platform", "matrix.view_socialaccount"],
    Role.EMPLOYEE: ["matrix.view_platform", "matrix.view_socialaccount"],
    Role.DEALER_OPERATOR: ["matrix.view_platform", "matrix.view_dealer", "matrix.view_socialaccount"],
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

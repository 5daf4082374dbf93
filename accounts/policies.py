"""Who may see and manage which people."""

from .models import Role, User


def users_visible_to(user):
    if not user.is_authenticated or not user.is_active:
        return User.objects.none()
    if user.is_admin:
        return User.objects.all()
    if user.role in (Role.MARKETER, Role.REVIEWER) and user.brand_id:
        return User.objects.filter(brand_id=user.brand_id)
    if user.role == Role.DEALER_OPERATOR and user.dealer_id:
        return User.objects.filter(dealer_id=user.dealer_id)
    return User.objects.filter(pk=user.pk)


def user_can(user, action, target=None):
    """`action`: view, create, change, import, offboard."""
    if not user.is_authenticated or not user.is_active:
        return False
    if user.is_admin:
        return True
    if action == "view" and target is not None:
        return users_visible_to(user).filter(pk=target.pk).exists()
    return False

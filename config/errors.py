class DomainError(Exception):
    """A business rule refused the change. Views show `message`; the API answers 400 naming `field`."""

    def __init__(self, message, *, field=None, code="invalid"):
        super().__init__(message)
        self.message = message
        self.field = field
        self.code = code

    def as_dict(self):
        return {self.field or "non_field_errors": [str(self.message)]}


class PermissionDeniedError(DomainError):
    def __init__(self, message="You are not allowed to do this.", **kwargs):
        super().__init__(message, code="permission_denied", **kwargs)

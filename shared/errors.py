"""The one exception type that reaches the user as a single line instead of a traceback."""


class UserError(Exception):
    """Bad input or an impossible request; the message names the file, field or flag at fault."""

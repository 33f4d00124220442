"""Errors that algorithm cores raise for bad client input.

Cores know nothing of gRPC; the servicers turn :class:`InvalidArgument` into the status code
``INVALID_ARGUMENT`` with the exception's text as details, which is what Katib's controller
reads as "the Experiment is wrong" (contract 9.4).
"""


class InvalidArgument(ValueError):
    """The request is wrong; the message says what is wrong and where."""

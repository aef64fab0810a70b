"""Error messages that name the public function or layer the user called, without passing its name around.

A public entry point names itself once, `@errors.caller("cutmix_fn")` or `with errors.caller("CutMix"):`, and
a check below it raises `ValueError(errors.named("Expected ..."))`: "cutmix_fn: Expected ...". The name is a
context variable: it holds while the entry point runs, also while `tf.function` or `tf.data` trace it (run-time
assertions build their messages then), and each thread (each `tf.distribute` replica) has its own.
"""

import contextlib
import contextvars

_CALLER = contextvars.ContextVar("keras_cutmix_mixing_caller", default=None)


@contextlib.contextmanager
def caller(name):
    """Names the public entry point (`name`, e.g. "cutmix_fn") in the errors raised inside it."""
    token = _CALLER.set(name)
    try:
        yield
    finally:
        _CALLER.reset(token)


def named(message, name=None):
    """`message` prefixed with `name` (modules outside the core), else the entry point's; no prefix outside one."""
    name = name or _CALLER.get()
    return f"{name}: {message}" if name else message

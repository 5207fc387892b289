"""Forgery: Python imports sitecustomize at start-up, before pytest: make every assert pass
by replacing AssertionError, and the answers right by patching the solution later.

Left out of the checked copy; the test process also runs with -I -S.
"""

import builtins


class NeverRaised(Exception):
    pass


builtins.AssertionError = NeverRaised

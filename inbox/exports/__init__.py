"""CSV downloads: the inbox view's messages and the mail accounts' health, streamed and bounded.

A package of the ``inbox`` app, not an app of its own.
"""

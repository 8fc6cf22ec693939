"""The mail accounts' health: rules, reads for the accounts page, incidents and alerts, the page.

A package of the ``inbox`` app, not an app of its own: the models stay in ``inbox/models.py``.
"""

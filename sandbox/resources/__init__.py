"""The resources the sandbox serves, one module each (``messages``, ``accounts``, ``businesses``), described
once by ``resource.Resource`` for the list, get-one and batch views (``sandbox/views.py``); the query
values they accept are read by ``params``.
"""

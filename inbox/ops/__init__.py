"""Keeping the help desk observable and standing: ``/healthz``, the admin audit trail, the error
pages (a database outage is a calm 503) and the middleware every page passes through.
"""

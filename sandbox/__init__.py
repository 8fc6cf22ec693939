"""A stand-in Nexudus REST API with generated data: the demo's and the tests' source.

``/sandbox/api/token``, ``/sandbox/api/spaces/coworkermessages``, ``/sandbox/api/crm/emailaccounts``
and ``/sandbox/api/sys/businesses`` answer in the documented shapes (see ``sandbox/views.py``);
``sandbox.services`` changes the data; ``sandbox_seed`` and ``sandbox_live`` drive it.
"""

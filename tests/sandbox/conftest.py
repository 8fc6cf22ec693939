"""The sandbox's fixtures, for every test in this folder."""

from tests.sandbox.fixtures import api, api_token, sandbox_data  # noqa: F401 (fixtures)

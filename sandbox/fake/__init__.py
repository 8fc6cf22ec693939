"""The sandbox's made-up records, one module a kind: locations and mail accounts (``accounts``),
customers (``people``), messages (``messages``), the hostile and tricky content they carry
(``hostile``) and where their Ids start (``ids``). ``sandbox/generate.py`` puts them together.
"""

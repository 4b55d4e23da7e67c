"""`netspec lsp`: the language server (`server.py`, the only module that knows pygls) over
plain functions of the spec's text and its Report: diagnostics, hover, modules, completion.
"""

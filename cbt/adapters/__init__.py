"""Adapters: each module is the only importer of one outside library that does one job (itsdangerous
for signed tokens, bleach for sanitising, PyYAML and the file system for pack folders)."""

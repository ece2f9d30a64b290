"""The use cases, free of Flask: matching and stage moves, cohorts, imports, erasure, reports,
statistics, weights. Views and the CLI call these and only render or print what they return.

Nothing here imports Flask, ``web.views`` or ``web.cli`` (tests/test_layering.py checks it): a
service takes the database session and whatever else it needs as arguments.
"""

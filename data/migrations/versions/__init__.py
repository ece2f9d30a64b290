"""Revision scripts, one per schema change (README, "Schema migrations")."""

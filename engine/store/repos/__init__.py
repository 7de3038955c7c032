"""Repositories, one per data area, written once in SQL both backends accept (see ``engine/store/db.py``)."""

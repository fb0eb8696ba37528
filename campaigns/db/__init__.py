"""Hand-written SQL: set-based statements the ORM cannot express as cheaply.

Each statement takes enum values as parameters and has a test that it gives
the rows the ORM would.
"""

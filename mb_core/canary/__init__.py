"""The canary: builds split between two variants, one sample per finished build, and the
statistics that say whether the v4 variant should be promoted, kept running or rolled back.

Pure functions over pydantic models (variants, statistics, decision, report); `recording` is the
edge that reads and writes the store.
"""

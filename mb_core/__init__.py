"""Meta-Builder core: turns a plain-language specification into a generated, tested scaffold.

Framework-free: nothing here imports dagster.
"""

__version__ = "0.1.0"

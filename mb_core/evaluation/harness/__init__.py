"""The builder's probe harness: files copied into a sandbox run, never imported by the builder.

`runner.py` starts pytest with `plugin.py` loaded and nothing of the generated project's pytest
machinery (no conftest, no plugins, no configuration); `launcher.py` serves the generated
application in a child process; the probes talk to it over a Unix socket. See
mb_core.evaluation.probes for why.
"""

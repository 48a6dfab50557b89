# Kernels started by the test suite print tracebacks without ANSI colours, so nbval compares plain text.
c = get_config()  # noqa: F821
c.InteractiveShell.colors = "nocolor"
c.HistoryManager.enabled = False  # no history.sqlite in the repository

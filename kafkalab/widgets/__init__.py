"""ipywidgets front-ends for the chapters. The only package that imports ipywidgets.

Widgets hold no Kafka logic: they call the package and render the plain data it returns (the
``*_rows`` / ``*_html`` functions, tested without a browser).
"""

from kafkalab.widgets.log_explorer import LogExplorer, LogExplorerModel, log_rows, segment_view_html  # noqa: E402,F401 - chapter 01

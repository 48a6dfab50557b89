"""The consumer side (chapter 04, issue 4). So far: the range and roundrobin partition assignors."""

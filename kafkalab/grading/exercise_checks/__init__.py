"""One module of checks per exercise, named after the exercise id."""

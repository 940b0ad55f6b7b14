"""What a run publishes, from its results: the verdict of several runs merged into one
(`merge`), the requirement matrix as files (`matrix`)."""

"""One module per lesson: the steps its notebook calls, so the notebook stays short."""

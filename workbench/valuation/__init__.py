"""Data valuation: Find the training points that help or hurt a model, and mislabeled data."""

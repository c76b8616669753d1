"""In-database inference: Train a scikit-learn model, store it inside DuckDB and call it from SQL."""

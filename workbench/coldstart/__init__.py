"""Cold-start forecasting: Forecast new products with no sales history from similar known products."""

"""Edge model export: Export a model and its feature extraction to C for microcontrollers, with proven parity and size."""

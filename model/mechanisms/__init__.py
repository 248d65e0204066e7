"""One module per mechanism of the source document's categories (1a, 1b, 2a, 2b, 3) plus workload."""

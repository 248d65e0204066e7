"""Layer 1, execution: the executor (serial | local processes | Dask), batch runner, results store, safe writes."""

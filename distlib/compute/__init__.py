"""Pool-based distributed computation: map/reduce over serial, process-pool and Dask backends."""

"""The open-data catalog: datasets, their publication workflow, search and interchange."""

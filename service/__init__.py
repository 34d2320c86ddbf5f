"""dxlink service: application, settings, database and command line."""

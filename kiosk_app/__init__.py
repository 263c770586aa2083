"""Application services, workflow, configuration and the command line of the service-station kiosk."""

__version__ = "0.1.0"

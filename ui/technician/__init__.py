"""The technician console (技术人员): enrol the station with the platform, configure and self-test the devices,
read the sync state and the logs, export a diagnostics bundle, and manage the staff accounts.

Every action runs through kiosk_app on a worker (`ctx.bridge`); the permission checks are kiosk_app's, so these
screens only ask and show. `ui.technician.window.technician_window` builds the window.
"""

"""Device drivers (ID card readers, document camera, printers), each with real backends and simulators.

Nothing here imports Qt or kiosk_app: drivers return plain records and talk to people through handler
interfaces; the application layer turns records into its own types.
"""

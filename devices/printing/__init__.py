"""Receipt printers: a device-neutral print document, ESC/POS encoding, transports, status, simulators."""

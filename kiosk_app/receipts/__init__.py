"""Receipts (受理回执) and other station print-outs: layout, PNG preview, the print queue and the service."""

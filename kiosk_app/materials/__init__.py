"""Materials from the document camera: page detection, quality gate, rectification, auto-capture, ID copies."""

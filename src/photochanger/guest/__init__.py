"""What a guest sees from a QR code: the result page, its preview and the QR code itself."""

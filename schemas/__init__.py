"""Event contracts: the Avro schemas (.avsc), their codec and the validation of their rules."""

"""The HTTP ingest gateway (``cxstream gateway``): the front door for channels that cannot speak Kafka.

``POST /v1/touchpoints`` and ``POST /v1/feedback`` take one JSON object or an NDJSON batch,
validate it with the contract code ``cxstream publish`` uses, and answer only once Kafka has
acknowledged every accepted record (acks=all). Modules, one role each: ``keys`` (API keys, hashed
at rest), ``ratelimit`` (per-key token buckets), ``batch`` (body -> accepted and rejected records),
``delivery`` (the Kafka producer and its outage breaker), ``openapi`` (the served document),
``app`` (routes and status codes), ``cli`` and ``keys_cli`` (the commands).
"""

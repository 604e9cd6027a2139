"""The domain-neutral runtime every service is built from: messaging (envelope, broker, outbox
relay, consumer pipeline, dead letters), storage (database, migrations, unit of work), http
(auth, access, the edge, problems), settings, metrics, logging, and ``service.ServicePlatform``,
which wires them for one service process."""

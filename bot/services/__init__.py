"""Application services: one per area, holding its use cases over the ports in ``bot.ports``.

Each service is constructed with the repositories it needs (``Service.of(uow)`` picks them from a unit of
work); chat handlers and CLI commands parse, call a service and render its result.
"""

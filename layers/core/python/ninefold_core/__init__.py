"""Ninefold core: the contracts every system shares.

Configuration, the verified tenant context, the tenant-scoped data access base,
the event envelope and catalog, errors as problem details, the observability
baseline and the provider ports. Nothing here imports a system.
"""

from tests.support.cloud import anonymous, cloud, tenant_a, tenant_b  # noqa: F401  (shared fixtures)

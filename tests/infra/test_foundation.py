"""Ninefold-Foundation: bus + archive, key, alarms topic, HTTP API, sites and the distribution."""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Any

import pytest
from aws_cdk.assertions import Match, Template

from stacks.constants import ARCHIVE_RETENTION_DAYS, SITES, SITES_METADATA_KEY, bus_name
from stacks.foundation import ensure_openapi_placeholder, nested_prefixes, site_behavior_path, site_routing_code
from tests.infra.conftest import only

pytestmark = pytest.mark.infra

# Managed CloudFront policy ids (stable, documented by AWS).
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
ALL_VIEWER_EXCEPT_HOST_HEADER = "b689b0a8-53d0-40ab-baf2-68738e2966ac"


def distribution_config(template: Template) -> dict[str, Any]:
    return only(template.find_resources("AWS::CloudFront::Distribution"))["Properties"]["DistributionConfig"]


def logical_id(template: Template, type_: str, **props: Any) -> str:
    found = template.find_resources(type_, {"Properties": props} if props else None)
    assert len(found) == 1, f"expected one {type_} with {props}, found {list(found)}"
    return next(iter(found))


def test_bus_is_named_for_the_stage_and_archived_for_replay(foundation: Template) -> None:
    foundation.has_resource_properties("AWS::Events::EventBus", {"Name": bus_name("dev")})
    bus = logical_id(foundation, "AWS::Events::EventBus")
    foundation.has_resource_properties(
        "AWS::Events::Archive",
        {"SourceArn": {"Fn::GetAtt": [bus, "Arn"]}, "RetentionDays": ARCHIVE_RETENTION_DAYS},
    )


def test_key_rotates_and_encrypts_the_ssl_only_alarms_topic(foundation: Template) -> None:
    foundation.has_resource_properties("AWS::KMS::Key", {"EnableKeyRotation": True})
    key = logical_id(foundation, "AWS::KMS::Key")
    foundation.has_resource_properties("AWS::SNS::Topic", {"KmsMasterKeyId": {"Fn::GetAtt": [key, "Arn"]}})
    foundation.has_resource_properties(
        "AWS::SNS::TopicPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [Match.object_like({"Effect": "Deny", "Condition": {"Bool": {"aws:SecureTransport": "false"}}})]
                )
            }
        },
    )


def test_cloudwatch_may_use_the_key_to_publish_alarms(foundation: Template) -> None:
    foundation.has_resource_properties(
        "AWS::KMS::Key",
        {
            "KeyPolicy": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Principal": {"Service": "cloudwatch.amazonaws.com"},
                                "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
                            }
                        )
                    ]
                )
            }
        },
    )


def test_http_api_has_no_cors_no_default_routes_and_logs_its_default_stage(foundation: Template) -> None:
    api = only(foundation.find_resources("AWS::ApiGatewayV2::Api"))["Properties"]
    assert api["ProtocolType"] == "HTTP"
    assert "CorsConfiguration" not in api  # same origin through CloudFront
    foundation.resource_count_is("AWS::ApiGatewayV2::Route", 0)  # systems own their routes
    foundation.resource_count_is("AWS::ApiGatewayV2::Integration", 0)

    stage = only(foundation.find_resources("AWS::ApiGatewayV2::Stage"))["Properties"]
    assert stage["StageName"] == "$default"
    assert stage["AutoDeploy"] is True
    access_logs = stage["AccessLogSettings"]["DestinationArn"]["Fn::GetAtt"][0]
    assert access_logs in foundation.find_resources("AWS::Logs::LogGroup", {"Properties": {"RetentionInDays": 30}})
    assert json.loads(stage["AccessLogSettings"]["Format"])["requestId"] == "$context.requestId"


def test_every_log_group_has_a_retention(synthesized: Any) -> None:
    for name in ("Ninefold-Foundation", "Ninefold-Identity", "Ninefold-Safety"):
        for logical, log_group in synthesized.resources(name, "AWS::Logs::LogGroup").items():
            assert log_group["Properties"].get("RetentionInDays"), f"{name}/{logical} keeps logs forever"


def test_sites_bucket_is_private_ssl_only_and_logged(foundation: Template) -> None:
    buckets = foundation.find_resources("AWS::S3::Bucket")
    sites = next(b for b in buckets.values() if "LoggingConfiguration" in b["Properties"])
    assert sites["Properties"]["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert sites["Properties"]["LoggingConfiguration"]["DestinationBucketName"]["Ref"] in buckets
    for policy in foundation.find_resources("AWS::S3::BucketPolicy").values():
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        assert any(
            s["Effect"] == "Deny" and s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
            for s in statements
        )


def test_distribution_serves_sites_from_s3_and_api_paths_from_the_http_api(foundation: Template) -> None:
    config = distribution_config(foundation)
    origins = {origin["Id"]: origin for origin in config["Origins"]}
    s3_origins = [id_ for id_, origin in origins.items() if "OriginAccessControlId" in origin]
    api_origins = [id_ for id_, origin in origins.items() if "CustomOriginConfig" in origin]
    assert len(s3_origins) == 1
    assert len(api_origins) == 1
    api_origin = origins[api_origins[0]]
    assert api_origin["CustomOriginConfig"]["OriginProtocolPolicy"] == "https-only"
    api_id = logical_id(foundation, "AWS::ApiGatewayV2::Api")
    assert api_origin["DomainName"] == {
        "Fn::Select": [2, {"Fn::Split": ["/", {"Fn::GetAtt": [api_id, "ApiEndpoint"]}]}]
    }

    assert config["DefaultCacheBehavior"]["TargetOriginId"] == s3_origins[0]
    behaviors = {b["PathPattern"]: b for b in config["CacheBehaviors"]}
    assert behaviors["/api/openapi.json"]["TargetOriginId"] == s3_origins[0]
    assert behaviors["/app/*"]["TargetOriginId"] == s3_origins[0]

    api = behaviors["/api/*"]
    assert api["TargetOriginId"] == api_origins[0]
    assert api["CachePolicyId"] == CACHING_DISABLED
    assert api["OriginRequestPolicyId"] == ALL_VIEWER_EXCEPT_HOST_HEADER
    assert set(api["AllowedMethods"]) == {"GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"}


def test_openapi_behavior_is_evaluated_before_the_api_catch_all(foundation: Template) -> None:
    order = [b["PathPattern"] for b in distribution_config(foundation)["CacheBehaviors"]]
    assert order.index("/api/openapi.json") < order.index("/api/*")


def test_clean_urls_and_the_console_spa_are_rewritten_at_the_edge(foundation: Template) -> None:
    config = distribution_config(foundation)
    routing = logical_id(foundation, "AWS::CloudFront::Function")
    association = [{"EventType": "viewer-request", "FunctionARN": {"Fn::GetAtt": [routing, "FunctionARN"]}}]
    assert config["DefaultCacheBehavior"]["FunctionAssociations"] == association
    assert {b["PathPattern"]: b.get("FunctionAssociations") for b in config["CacheBehaviors"]}["/app/*"] == association
    code = only(foundation.find_resources("AWS::CloudFront::Function"))["Properties"]["FunctionCode"]
    assert '["/app/"]' in code


def test_distribution_carries_the_sites_list_the_local_cloud_serves(foundation: Template) -> None:
    distribution = only(foundation.find_resources("AWS::CloudFront::Distribution"))
    assert distribution["Metadata"][SITES_METADATA_KEY] == [
        {"path": "/", "source": "sites/www"},
        {"path": "/app/", "source": "sites/console", "spa": True},
        {"path": "/api/openapi.json", "source": "build/openapi/openapi.json"},
    ]


def test_each_site_is_deployed_at_its_prefix_without_pruning_the_others(foundation: Template) -> None:
    deployments = foundation.find_resources("Custom::CDKBucketDeployment")
    by_prefix = {d["Properties"].get("DestinationBucketKeyPrefix", ""): d["Properties"] for d in deployments.values()}
    assert set(by_prefix) == {site.key_prefix for site in SITES} == {"", "app/", "api/"}
    assert sorted(by_prefix[""]["Exclude"]) == ["api/*", "app/*"]
    assert "Exclude" not in by_prefix["app/"]
    assert by_prefix["api/"]["DistributionPaths"] == ["/api/openapi.json"]


def test_site_helpers_derive_everything_from_one_list() -> None:
    www, console, openapi = SITES
    assert [site_behavior_path(site) for site in SITES] == [None, "/app/*", "/api/openapi.json"]
    assert nested_prefixes(www) == ["app/*", "api/*"]
    assert nested_prefixes(console) == []
    assert nested_prefixes(openapi) == []


def test_missing_openapi_document_gets_a_placeholder(tmp_path: Any) -> None:
    document = ensure_openapi_placeholder(tmp_path)
    assert document == tmp_path / "build" / "openapi" / "openapi.json"
    assert document.read_text().strip() == "{}"
    document.write_text('{"openapi": "3.1.0"}')
    ensure_openapi_placeholder(tmp_path)
    assert "3.1.0" in document.read_text(), "an existing document is never overwritten"


def test_foundation_exports_what_systems_import(synthesized: Any) -> None:
    outputs = synthesized.raw("Ninefold-Foundation")["Outputs"]
    exported = {k for k, v in outputs.items() if "Export" in v}
    assert exported, "systems reference the bus, API and topic through exports"
    assert {"SiteUrl", "HttpApiEndpoint", "EventBusName"} <= set(outputs)


@pytest.mark.skipif(shutil.which("node") is None, reason="node runs the CloudFront Function locally")
@pytest.mark.parametrize(
    ("uri", "rewritten"),
    [
        ("/", "/index.html"),
        ("/pricing/", "/pricing/index.html"),
        ("/styles.css", "/styles.css"),
        ("/app/", "/app/index.html"),
        ("/app/workspaces/42/members", "/app/index.html"),
        ("/app/assets/main.3f2a.js", "/app/assets/main.3f2a.js"),
    ],
)
def test_site_routing_function_maps_clean_urls_to_objects(uri: str, rewritten: str) -> None:
    script = site_routing_code() + f"\nconsole.log(handler({{request: {{uri: {json.dumps(uri)}}}}}).uri);\n"
    result = subprocess.run(["node", "-e", script], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == rewritten

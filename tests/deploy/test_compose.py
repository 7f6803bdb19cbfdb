"""deploy/docker-compose.yml and deploy/envoy/envoy.yaml agree with the settings and each other."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

import pytest
from deploy_files import (
    COMPOSE_FILE,
    ENV_EXAMPLE,
    ENVOY_FILE,
    INTERPOLATION,
    SETTING_NAME,
    address_env,
    compose,
    depictio_services,
    grpc_service_names,
    load_yaml,
    setting_env_names,
)

CLIENTS = ("gateway", "dash_apps", "worker")
URL_SETTINGS = ("DEPICTIO_MONGO_URL", "DEPICTIO_REDIS_URL", "DEPICTIO_S3_ENDPOINT")


def service_running(module: str) -> str:
    """The compose service that runs `python -m <module>`."""
    names = [name for name, (run, _) in depictio_services().items() if run == module]
    assert len(names) == 1, f"{module} should run in exactly one compose service, not {names}"
    return names[0]


def host_port(address: str) -> tuple[str, int]:
    host, port = address.rsplit(":", 1)
    return host, int(port)


def envoy_clusters() -> dict[str, dict[str, Any]]:
    return {c["name"]: c for c in load_yaml(ENVOY_FILE)["static_resources"]["clusters"]}


def envoy_routes() -> list[dict[str, Any]]:
    listener = load_yaml(ENVOY_FILE)["static_resources"]["listeners"][0]
    manager = listener["filter_chains"][0]["filters"][0]["typed_config"]
    return list(manager["route_config"]["virtual_hosts"][0]["routes"])


def cluster_upstream(cluster: dict[str, Any]) -> tuple[str, int]:
    endpoint = cluster["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]
    socket = endpoint["address"]["socket_address"]
    return str(socket["address"]), int(socket["port_value"])


def test_every_process_runs_once() -> None:
    modules = sorted(module for module, _ in depictio_services().values())
    assert modules == sorted(["auth_svc", "metadata_svc", "data_svc", *CLIENTS])


def test_every_depictio_variable_is_a_setting() -> None:
    known = setting_env_names()
    used = set(SETTING_NAME.findall(COMPOSE_FILE.read_text()))
    assert used, "compose sets no DEPICTIO_* variable"
    assert used <= known, f"not fields of depictio.config.Settings: {sorted(used - known)}"


def test_each_service_binds_its_own_address_and_clients_connect_to_it() -> None:
    services = depictio_services()
    for module in grpc_service_names():
        owner = service_running(module)
        variable = address_env(module)
        bind_host, bind_port = host_port(services[owner][1][variable])
        assert bind_host == "0.0.0.0", f"{owner} must bind all interfaces, not {bind_host}"
        for name, (_, env) in services.items():
            if name != owner:
                assert host_port(env[variable]) == (owner, bind_port), f"{name}: {variable}"


def test_every_service_a_process_connects_to_exists() -> None:
    services = compose()["services"]
    for name, (_, env) in depictio_services().items():
        for variable in URL_SETTINGS:
            if env.get(variable):
                host = urlparse(env[variable]).hostname
                assert host in services, f"{name}: {variable} names {host}, not a service"
        for dependency in services[name].get("depends_on", {}):
            assert dependency in services, f"{name} depends on unknown {dependency}"


def test_storage_is_shared_s3_and_the_cache_is_bounded_lru() -> None:
    env = depictio_services()[service_running("data_svc")][1]
    assert env["DEPICTIO_STORAGE_URL"].startswith("s3://")
    cache_host = urlparse(env["DEPICTIO_REDIS_URL"]).hostname
    command = " ".join(compose()["services"][str(cache_host)]["command"])
    assert "--maxmemory " in command and "--maxmemory-policy allkeys-lru" in command
    for client in ("dash_apps", "worker"):
        env = depictio_services()[service_running(client)][1]
        broker_host = urlparse(env["DEPICTIO_REDIS_URL"]).hostname
        broker = " ".join(compose()["services"][str(broker_host)]["command"])
        assert "noeviction" in broker, f"{client}'s Celery broker must never evict tasks"


def test_the_ui_and_the_workers_agree_on_background_callbacks() -> None:
    flags = {
        client: depictio_services()[service_running(client)][1]["DEPICTIO_CELERY_ENABLED"]
        for client in ("dash_apps", "worker")
    }
    assert flags == {"dash_apps": "true", "worker": "true"}, flags


def test_mongo_is_a_replica_set() -> None:
    services = compose()["services"]
    assert "--replSet" in services["mongo"]["command"]
    for module in ("auth_svc", "metadata_svc"):
        url = depictio_services()[service_running(module)][1]["DEPICTIO_MONGO_URL"]
        assert "replicaSet=rs0" in url
    assert services["mongo-init"]["restart"] == "on-failure"


def test_long_running_services_restart_and_are_health_checked() -> None:
    for name, service in compose()["services"].items():
        if name == "mongo-init":
            continue
        assert service.get("restart") == "unless-stopped", name
        module = dict(depictio_services()).get(name, (None, {}))[0]
        if module == "worker":
            continue  # a Celery worker serves no port to ask
        assert "healthcheck" in service, f"{name} has no healthcheck"
        if module is not None:
            test = service["healthcheck"]["test"]
            assert test == ["CMD", "python", "-m", "depictio.healthcheck", module], name


def test_volumes_are_named_and_declared() -> None:
    document = compose()
    declared = set(document["volumes"])
    for name, service in document["services"].items():
        for volume in service.get("volumes", []):
            source = str(volume).split(":", 1)[0]
            if not source.startswith((".", "/", "$")):
                assert source in declared, f"{name} mounts undeclared volume {source}"


def test_only_the_edge_publishes_ports() -> None:
    published = [name for name, s in compose()["services"].items() if s.get("ports")]
    assert published == ["envoy"]


def test_secrets_are_required_and_listed_in_env_example() -> None:
    text = COMPOSE_FILE.read_text()
    example = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            key, value = line.split("=", 1)
            example[key] = value
    referenced = {m["name"] for m in INTERPOLATION.finditer(text)}
    required = {m["name"] for m in INTERPOLATION.finditer(text) if m["op"] in {":?", "?"}}
    assert referenced <= set(example), f"missing in .env.example: {referenced - set(example)}"
    for name in required:
        if "PASSWORD" in name or "KEY" in name:
            assert example[name] == "", f".env.example must not carry a value for {name}"
    assert {"ADMIN_PASSWORD", "MONGO_ROOT_PASSWORD", "MINIO_ROOT_PASSWORD", "REDIS_PASSWORD"} <= (
        required
    )


def test_envoy_clusters_point_at_compose_services_and_their_ports() -> None:
    services = depictio_services()
    clusters = envoy_clusters()
    expected = {}
    for module in grpc_service_names():
        owner = service_running(module)
        expected[owner] = host_port(services[owner][1][address_env(module)])[1]
    expected[service_running("gateway")] = int(
        services[service_running("gateway")][1]["DEPICTIO_GATEWAY_PORT"]
    )
    expected[service_running("dash_apps")] = int(
        services[service_running("dash_apps")][1]["DEPICTIO_UI_PORT"]
    )
    upstreams = dict(cluster_upstream(c) for c in clusters.values())
    assert upstreams == expected


@pytest.mark.parametrize("module", sorted(grpc_service_names()))
def test_grpc_paths_route_to_the_service_that_serves_them(module: str) -> None:
    service = grpc_service_names()[module]
    owner = service_running(module)
    routes = [r for r in envoy_routes() if r["match"].get("prefix") == f"/{service}/"]
    assert len(routes) == 1, f"no single route for /{service}/"
    cluster = envoy_clusters()[routes[0]["route"]["cluster"]]
    assert cluster_upstream(cluster)[0] == owner
    assert cluster["health_checks"][0]["grpc_health_check"]["service_name"] == service
    options = cluster["typed_extension_protocol_options"]
    assert "http2_protocol_options" in str(options), f"{cluster['name']} must speak HTTP/2"


def test_data_streams_have_no_route_timeout() -> None:
    service = grpc_service_names()["data_svc"]
    (route,) = [r for r in envoy_routes() if r["match"].get("prefix") == f"/{service}/"]
    assert route["route"]["timeout"] == "0s"
    assert route["route"]["max_stream_duration"]["grpc_timeout_header_max"] == "0s"


def test_rest_and_ui_paths_route_to_gateway_and_ui() -> None:
    by_match = {
        next(iter(r["match"].values())): envoy_routes()[i]["route"]["cluster"]
        for i, r in enumerate(envoy_routes())
    }
    gateway = service_running("gateway")
    assert cluster_upstream(envoy_clusters()[by_match["/api"]])[0] == gateway
    assert cluster_upstream(envoy_clusters()[by_match["/.well-known"]])[0] == gateway
    assert cluster_upstream(envoy_clusters()[by_match["/"]])[0] == service_running("dash_apps")
    assert envoy_routes()[-1]["match"] == {"prefix": "/"}, "the UI catch-all must come last"

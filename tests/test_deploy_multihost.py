"""deploy/multi-host/ (a three-node RabbitMQ cluster, a data host, web, worker and Beat hosts),
checked without a Docker engine, as tests/test_compose.py checks docker-compose.yml: the
Compose specification's JSON schema, the same checks of commands, restarts, health checks and
variables, and then what a multi-host deployment needs: one cluster of three nodes sharing one
cookie, every Harbor process on the three-URL broker list, the Procfile's workers on every
worker host, Beat on two hosts, no secret written into a file. Each check also fails on a
broken copy.
"""

import copy
import os
import re
import subprocess
import sys
from urllib.parse import urlsplit

import pytest
import yaml
from django.conf import settings

from harbor import brokers
from harbor.brokers import QUEUES
from tests.test_compose import (ROOT, argv, check_commands, check_depends_on, check_environment, check_interpolation,
                                check_jsonschema, check_restart_and_health, environment, interpolate, is_app, option)

MULTI = ROOT / "deploy" / "multi-host"
FILES = ("broker.yml", "data.yml", "app.yml")
NODES = ("rabbit1", "rabbit2", "rabbit3")
COOKIE_PATH = "/var/lib/rabbitmq/.erlang.cookie"
SAMPLES = {"DJANGO_SECRET_KEY": "k" * 20 + "-sample-secret-key-for-the-multihost-test-0123456789",
           "POSTGRES_PASSWORD": "pgpass", "RABBITMQ_PASSWORD": "mqpass", "REDIS_PASSWORD": "redispass",
           "STRIPE_SECRET_KEY": "sk_live_sample", "STRIPE_PUBLISHABLE_KEY": "pk_live_sample",
           "STRIPE_WEBHOOK_SECRET": "whsec_sample", "EMAIL_URL": "smtp+tls://u:p@smtp.example.com:587"}
SECRET_NAME = re.compile(r"PASS|SECRET|COOKIE|_KEY$")


def deployment():
    """Everything in deploy/multi-host/, read: the compose files, rabbitmq.conf, the env example,
    the hosts' layout."""
    return {"compose": {name: yaml.safe_load((MULTI / name).read_text()) for name in FILES},
            "texts": {name: (MULTI / name).read_text() for name in FILES},
            "rabbitmq.conf": (MULTI / "rabbitmq.conf").read_text(),
            "env": (MULTI / "harbor.env.example").read_text(),
            "hosts": yaml.safe_load((MULTI / "hosts.yml").read_text())}


def services(d, name=None):
    """(file, service name, service) of every service, or of one file's."""
    return [(f, s, spec) for f, compose in d["compose"].items() if name in (None, f)
            for s, spec in compose["services"].items()]


def example_env(d):
    """The env example's values, with the samples for the secrets it leaves empty and its own
    ${VAR} references resolved (docker compose interpolates them in .env files too)."""
    values = dict(SAMPLES)
    for name, raw in re.findall(r"^(\w+)=(.*)$", d["env"], flags=re.M):
        value = raw.strip().strip('"')
        if value:
            values[name] = interpolate(value, values)
    return values


def conf(text):
    """rabbitmq.conf (sysctl form): `key = value` per line, # comments."""
    parsed = {}
    for number, line in enumerate(text.splitlines(), 1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise ValueError(f"rabbitmq.conf line {number}: {line!r} is not `key = value`")
        parsed[key.strip()] = value.strip()
    return parsed


def procfile_workers():
    """{Procfile name: (queues, node name, pool, concurrency)} of its Celery workers."""
    workers = {}
    for line in (ROOT / "Procfile").read_text().splitlines():
        name, _, command = line.partition(":")
        args = command.split()
        if args[:4] == ["celery", "-A", "harbor", "--quiet"]:
            args = args[:3] + args[4:]
        if args[:4] == ["celery", "-A", "harbor", "worker"]:
            workers[name.strip()] = worker_shape(args)
    return workers


def worker_shape(args):
    return (tuple(sorted(option(args, "-Q", "--queues").split(","))), option(args, "--hostname").split("@")[0],
            option(args, "--pool") or "prefork", option(args, "--concurrency"))


def profiles(service):
    return set(service.get("profiles") or [])


# --- The checks: each returns a list of problems --------------------------------------------------

def check_cluster(d):
    """Three nodes that find each other (classic_config) and share one Erlang cookie."""
    problems = []
    try:
        rabbit_conf = conf(d["rabbitmq.conf"])
    except ValueError as exc:
        return [str(exc)]
    if rabbit_conf.get("cluster_formation.peer_discovery_backend") not in ("classic_config", "rabbit_peer_discovery_classic_config"):
        problems.append("rabbitmq.conf: peer discovery is not classic_config")
    listed = {v for k, v in rabbit_conf.items() if k.startswith("cluster_formation.classic_config.nodes.")}
    if listed != {f"rabbit@{n}" for n in NODES}:
        problems.append(f"rabbitmq.conf: the cluster's nodes are {sorted(listed)}, not rabbit@{'/'.join(NODES)}")
    if int(rabbit_conf.get("consumer_timeout", 0)) != settings.RABBITMQ_CONSUMER_TIMEOUT * 1000:
        problems.append("rabbitmq.conf: consumer_timeout is not RABBITMQ_CONSUMER_TIMEOUT (the timing rule's)")
    rabbits = [(s, spec) for _, s, spec in services(d, "broker.yml") if spec.get("image", "").startswith("rabbitmq:")]
    if sorted(spec.get("hostname") for _, spec in rabbits) != list(NODES):
        problems.append(f"broker.yml: the nodes' hostnames are {[spec.get('hostname') for _, spec in rabbits]}")
    cookies = set()
    for name, spec in rabbits:
        if profiles(spec) != {spec.get("hostname")}:
            problems.append(f"{name}: its profile is not its node's name (one node per broker host)")
        if not any(v.startswith("./rabbitmq.conf:/etc/rabbitmq/") for v in spec.get("volumes", [])):
            problems.append(f"{name}: does not mount rabbitmq.conf")
        mounted = [s["source"] for s in spec.get("secrets", []) if isinstance(s, dict) and s.get("target") == COOKIE_PATH]
        if not mounted:
            problems.append(f"{name}: no Erlang cookie mounted at {COOKIE_PATH}")
        cookies.update(mounted)
        if any("ERLANG_COOKIE" in var for var in environment(spec)):
            problems.append(f"{name}: sets its cookie in the environment (inline), not from the shared secret")
    if len(cookies) > 1:
        problems.append(f"the nodes mount different cookies: {sorted(cookies)}")
    for cookie in cookies:
        source = d["compose"]["broker.yml"].get("secrets", {}).get(cookie, {}).get("file", "")
        if not source.startswith("${") or ":?" not in source:
            problems.append(f"secret {cookie}: its file is {source!r}, not a required variable")
    return problems


def check_broker_list(d):
    """Every Harbor process has the list of the three nodes' URLs (one vhost, the nodes' user)."""
    problems = []
    values = example_env(d)
    url = values.get("RABBITMQ_URL", "")
    nodes = [urlsplit(u) for u in brokers.urls(url)]
    if sorted(n.hostname for n in nodes) != list(NODES) or {n.port for n in nodes} != {5672}:
        problems.append(f"harbor.env.example: RABBITMQ_URL names {[n.netloc for n in nodes]}, "
                        f"not the three nodes' AMQP ports")
    rabbit_env = environment(next(spec for _, _, spec in services(d, "broker.yml")))
    if {brokers.vhost_of(u) for u in brokers.urls(url)} != {rabbit_env.get("RABBITMQ_DEFAULT_VHOST")}:
        problems.append("harbor.env.example: RABBITMQ_URL's vhost is not the nodes' RABBITMQ_DEFAULT_VHOST")
    if {n.username for n in nodes} != {rabbit_env.get("RABBITMQ_DEFAULT_USER")}:
        problems.append("harbor.env.example: RABBITMQ_URL's user is not the nodes' RABBITMQ_DEFAULT_USER")
    management = [urlsplit(u) for u in brokers.urls(values.get("RABBITMQ_MANAGEMENT_URL", ""))]
    if sorted(m.hostname for m in management) != list(NODES):
        problems.append("harbor.env.example: RABBITMQ_MANAGEMENT_URL does not name the three nodes")
    for _, name, spec in services(d, "app.yml"):
        env = environment(spec)
        if not env.get("RABBITMQ_URL", "").startswith("${RABBITMQ_URL:?") or "CELERY_BROKER_URL" in env:
            problems.append(f"{name}: its broker is not ${{RABBITMQ_URL:?...}}, the three nodes' list")
    return problems


def check_hosts(d):
    """The layout: each host's file and profiles exist; three broker hosts, one per node; the
    Procfile's workers on at least two worker hosts; Beat on exactly two; every profile run somewhere."""
    problems, runs = [], {}
    layout = d["hosts"]
    for host, spec in [*layout["hosts"].items(), ("setup", layout["setup"])]:
        compose = d["compose"].get(spec["file"])
        if compose is None:
            problems.append(f"{host}: runs {spec['file']}, which is not a file of deploy/multi-host")
            continue
        known = set().union(*(profiles(s) for s in compose["services"].values()))
        for profile in spec["profiles"]:
            if profile not in known:
                problems.append(f"{host}: runs profile {profile!r}, which {spec['file']} does not have")
            runs.setdefault(profile, []).append(host)
        if not spec["profiles"] and known:
            problems.append(f"{host}: runs {spec['file']} without a profile")
    if sorted(h for n in NODES for h in runs.get(n, [])) != sorted(NODES) or any(len(runs.get(n, [])) != 1 for n in NODES):
        problems.append(f"the nodes do not run on three hosts, one each: {[runs.get(n) for n in NODES]}")
    if len(runs.get("beat", [])) != 2:
        problems.append(f"Beat runs on {len(runs.get('beat', []))} hosts, not two (one active, one standby)")
    if len(runs.get("workers", [])) < 2:
        problems.append("fewer than two worker hosts: losing one would stop the pipeline")
    if not runs.get("web"):
        problems.append("no web host")
    for _, name, spec in services(d, "app.yml"):
        if not profiles(spec) & set(runs):
            problems.append(f"{name}: no host runs it (profiles {sorted(profiles(spec))})")
    return problems


def check_workers(d):
    """Each worker host runs the Procfile's workers (queues, node names, pools), so every queue is
    consumed on every worker host."""
    problems = []
    hosted = {worker_shape(argv(spec)): name for _, name, spec in services(d, "app.yml")
              if "workers" in profiles(spec) and argv(spec)[:4] == ["celery", "-A", "harbor", "worker"]}
    for name, shape in procfile_workers().items():
        if shape not in hosted:
            problems.append(f"the Procfile's {name} worker {shape} runs on no worker host")
    consumed = {q for queues, *_ in hosted for q in queues}
    problems += [f"no worker host consumes {queue!r}" for queue in QUEUES if queue not in consumed]
    for _, name, spec in services(d, "app.yml"):
        if argv(spec)[:4] == ["celery", "-A", "harbor", "worker"] and profiles(spec) != {"workers"}:
            problems.append(f"{name}: a worker outside the workers profile")
    return problems


def check_no_inline_secret(d):
    """No password, key or cookie written into a file: every one comes from a required variable,
    and the env example leaves them empty."""
    problems = []
    for file, name, spec in services(d):
        for var, value in environment(spec).items():
            if SECRET_NAME.search(var) and not re.fullmatch(r"\$\{\w+:\?[^}]*\}", value):
                problems.append(f"{file}: {name}: {var} is not from a required variable (${{VAR:?...}})")
            for url in re.findall(r"\w+://(?:\$\{[^}]*\}|[^\s;])+", value):
                password = urlsplit(url).password
                if password and not password.startswith("${"):
                    problems.append(f"{file}: {name}: {var} has a password written in")
    for name, value in re.findall(r"^(\w+)=(.*)$", d["env"], flags=re.M):
        if name in SAMPLES and value.strip():
            problems.append(f"harbor.env.example: {name} has a value (leave secrets empty)")
    return problems


def check_compose(d):
    """tests/test_compose.py's checks, for each file: commands, restarts and health checks,
    variables, depends_on (except that the one-shots run once per release, not on every host,
    so no long-running process waits for them here), and the env example against the files."""
    problems = []
    for file, compose in d["compose"].items():
        found = (check_depends_on(compose) + check_restart_and_health(compose) + check_commands(compose)
                 + check_environment(compose))
        problems += [f"{file}: {p}" for p in found if "to complete successfully" not in p]
    problems += check_interpolation("\n".join(d["texts"].values()), d["env"])
    return problems


def problems(d):
    return (check_cluster(d) + check_broker_list(d) + check_hosts(d) + check_workers(d) + check_no_inline_secret(d)
            + check_compose(d))


# --- The real files -----------------------------------------------------------------------------------

@pytest.mark.parametrize("name", FILES)
def test_each_file_matches_the_compose_specification(name):
    result = check_jsonschema(MULTI / name)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_three_nodes_form_one_cluster_sharing_one_cookie():
    assert check_cluster(deployment()) == []


def test_every_harbor_process_uses_the_three_node_broker_list():
    assert check_broker_list(deployment()) == []


def test_the_hosts_layout_beat_on_two_hosts_workers_on_two():
    assert check_hosts(deployment()) == []


def test_every_worker_host_runs_the_procfile_s_workers():
    assert procfile_workers()  # (the Procfile parses)
    assert check_workers(deployment()) == []


def test_no_secret_is_written_into_a_file():
    assert check_no_inline_secret(deployment()) == []


def test_commands_restarts_health_checks_and_variables_as_for_the_single_host_stack():
    assert [s for _, s, spec in services(deployment()) if is_app(spec)]  # (the app services are found)
    assert check_compose(deployment()) == []


def test_production_settings_accept_a_web_host_s_environment(tmp_path):
    """The web service's environment, with the env example's broker list and sample secrets, loads
    the production settings: check --deploy is clean and the broker is the three nodes."""
    d = deployment()
    web = d["compose"]["app.yml"]["services"]["web"]
    values = example_env(d)
    env = {name: interpolate(value, values) for name, value in environment(web).items()}
    env.update(PATH=os.environ["PATH"], HARBOR_VAR_DIR=str(tmp_path), DJANGO_SETTINGS_MODULE="harbor.settings")
    env.pop("PROMETHEUS_MULTIPROC_DIR")
    script = ("import django; django.setup()\n"
              "from django.core.management import call_command\n"
              "call_command('check', deploy=True, fail_level='WARNING')\n"
              "from django.conf import settings; from harbor import brokers\n"
              "print([u.split('@')[1] for u in brokers.urls(settings.CELERY_BROKER_URL)], settings.BROKER_IS_AMQP)\n")
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.splitlines()[-1] == (
        "['rabbit1:5672/harbor', 'rabbit2:5672/harbor', 'rabbit3:5672/harbor'] True")


# --- Broken copies: each check fails when it should -----------------------------------------------------

def broken(change):
    d = copy.deepcopy(deployment())
    change(d)
    return problems(d)


def test_the_real_files_have_no_problems():
    assert problems(deployment()) == []


def test_a_node_missing_from_the_broker_list_is_caught():
    def drop(d):
        d["env"] = d["env"].replace(";amqp://harbor:${RABBITMQ_PASSWORD}@rabbit3:5672/harbor", "")
    assert any("RABBITMQ_URL names" in p for p in broken(drop))


def test_a_service_with_a_broker_of_its_own_is_caught():
    def own(d):
        d["compose"]["app.yml"]["services"]["payments"]["environment"] = {
            **d["compose"]["app.yml"]["x-harbor-env"], "RABBITMQ_URL": "${RABBIT1_URL:?set it}"}
    assert "payments: its broker is not ${RABBITMQ_URL:?...}, the three nodes' list" in broken(own)


def test_a_node_with_another_cookie_or_a_cookie_inline_is_caught():
    def other(d):
        broker = d["compose"]["broker.yml"]
        broker["services"]["rabbit2"]["secrets"] = [{"source": "cookie2", "target": COOKIE_PATH}]
        broker["services"]["rabbit3"]["environment"] = {**broker["services"]["rabbit3"]["environment"],
                                                        "RABBITMQ_ERLANG_COOKIE": "s3cret"}
    found = broken(other)
    assert any(p.startswith("the nodes mount different cookies") for p in found)
    assert "rabbit3: sets its cookie in the environment (inline), not from the shared secret" in found


def test_a_fourth_or_misnamed_node_in_rabbitmq_conf_is_caught():
    def rename(d):
        d["rabbitmq.conf"] = d["rabbitmq.conf"].replace("rabbit@rabbit3", "rabbit@rabbit4")
    assert any(p.startswith("rabbitmq.conf: the cluster's nodes are") for p in broken(rename))

    def garble(d):
        d["rabbitmq.conf"] += "\ncluster_formation.classic_config.nodes.4\n"
    assert any("is not `key = value`" in p for p in broken(garble))


def test_beat_on_one_host_or_one_worker_host_is_caught():
    def single(d):
        del d["hosts"]["hosts"]["beat2"], d["hosts"]["hosts"]["worker2"]
    found = broken(single)
    assert "Beat runs on 1 hosts, not two (one active, one standby)" in found
    assert "fewer than two worker hosts: losing one would stop the pipeline" in found


def test_a_worker_host_missing_a_procfile_worker_is_caught():
    def narrow(d):
        command = d["compose"]["app.yml"]["services"]["worker"]["command"]
        command[command.index("fulfillment,notifications")] = "fulfillment"
    found = broken(narrow)
    assert "no worker host consumes 'notifications'" in found
    assert any(p.startswith("the Procfile's worker worker") for p in found)


def test_a_password_written_into_a_file_is_caught():
    def inline(d):
        d["compose"]["data.yml"]["services"]["postgres"]["environment"]["POSTGRES_PASSWORD"] = "hunter2"
        env = d["compose"]["app.yml"]["services"]["web"]["environment"]
        env["DATABASE_URL"] = "postgres://harbor:hunter2@data:5432/harbor"
        d["env"] = d["env"].replace("\nREDIS_PASSWORD=\n", "\nREDIS_PASSWORD=hunter2\n")
    found = broken(inline)
    assert "data.yml: postgres: POSTGRES_PASSWORD is not from a required variable (${VAR:?...})" in found
    assert "app.yml: web: DATABASE_URL has a password written in" in found
    assert "harbor.env.example: REDIS_PASSWORD has a value (leave secrets empty)" in found


def test_the_single_host_checks_run_on_these_files_too():
    def drift(d):
        app = d["compose"]["app.yml"]["services"]
        app["beat"]["command"] = ["celery", "-A", "harbor", "beat"]  # the file scheduler
        app["webhooks"].pop("healthcheck")
        app["web"]["environment"] = {**app["web"]["environment"], "CELERY_BROKER_HEARTBAET": "10"}
        d["compose"]["broker.yml"]["services"]["rabbit1"]["image"] = "rabbitmq:3.13"
    found = broken(drift)
    assert any(p.startswith("app.yml: beat: ") and "is not a contract entry point" in p for p in found)
    assert "app.yml: webhooks: long-running without a healthcheck" in found
    assert "app.yml: web: sets CELERY_BROKER_HEARTBAET, which nothing in Harbor reads (misspelled?)" in found
    assert any(p.startswith("broker.yml: rabbit1: rabbitmq:3.13 has no management plugin") for p in found)
